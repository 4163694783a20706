import { describe, expect, it } from 'vitest';
import { messageFields } from '../../../shared/queues/messageFields.js';
import { encodeMessage } from '../../../shared/queues/PipelineQueues.js';

describe('messageFields', () => {
  it.each([
    [
      'a delta message',
      encodeMessage({ v: 1, cluster: 'aks-a', target: '0101', generation: 7, gz: 'x' }),
      { cluster: 'aks-a', target: '0101', generation: 7 },
    ],
    ['a recompute message', encodeMessage({ v: 1, cluster: 'aks-a', reason: 'timer' }), { cluster: 'aks-a' }],
    ['fields of the wrong type', encodeMessage({ cluster: 7, target: ['x'], generation: '7' }), {}],
    ['JSON that is not an object', encodeMessage([1, 2]), {}],
    ['not base64 at all', '%%%not-base64', {}],
    ['base64 of text that is not JSON', Buffer.from('hello').toString('base64'), {}],
    ['an empty text', '', {}],
    [
      'an over-long cluster is cut',
      encodeMessage({ cluster: 'c'.repeat(500) }),
      { cluster: 'c'.repeat(100) },
    ],
  ])('%s', (_name, text, expected) => {
    // act and assess
    expect(messageFields(text)).toEqual(expected);
  });
});
