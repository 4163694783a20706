import { describe, expect, it } from 'vitest';
import { type MessageDisposition, messageDisposition } from '../../../shared/queues/messageDisposition.js';

/** The queue rule, as a table: this is its documentation. */
const cases: [string, boolean, number, number, { unreadable?: boolean }, MessageDisposition][] = [
  ['a handler that returned completes the message', true, 1, 5, {}, 'complete'],
  ['even on its last attempt', true, 5, 5, {}, 'complete'],
  ['a handler that threw is retried', false, 1, 5, {}, 'retry'],
  ['up to the attempt before the last', false, 4, 5, {}, 'retry'],
  ['the attempt that reaches maxDequeueCount poisons', false, 5, 5, {}, 'poison'],
  ['a message seen more often than that (after a crash) poisons', false, 7, 5, {}, 'poison'],
  ['with maxDequeueCount 1 the first failure poisons', false, 1, 1, {}, 'poison'],
  ['an unreadable message poisons at once', false, 1, 5, { unreadable: true }, 'poison'],
  ['a readable message is not poisoned early', false, 1, 5, { unreadable: false }, 'retry'],
];

describe('messageDisposition', () => {
  it.each(cases)('%s', (_what, handled, dequeueCount, max, options, expected) => {
    expect(messageDisposition(handled, dequeueCount, max, options)).toBe(expected);
  });
});
