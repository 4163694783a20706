import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TagDelta } from '../../../shared/diff/TagDelta.js';
import { InputError } from '../../../shared/errors.js';
import {
  chunkDeltaMessages,
  MAX_DELTA_MESSAGE_BYTES,
  parseDeltaMessage,
  parseRecomputeMessage,
  toWireDeltaMessage,
} from '../../../shared/pipeline/messages.js';
import { ownerClusterOfTag } from '../../../shared/pipeline/tagOwnership.js';
import { decodeMessage, encodeMessage } from '../../../shared/queues/MessageQueues.js';

const header = { v: 1 as const, cluster: 'aks-a', target: 'panorama', generation: 3 };

function delta(i: number, tags = 6): TagDelta {
  return {
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    register: Array.from({ length: tags }, (_, k) => `aks.aks-a.svc.label-${k}.value-${i}`),
    unregister: [],
  };
}

describe('chunkDeltaMessages', () => {
  it('keeps every message within the queue budget and every delta exactly once, in order', () => {
    const deltas = Array.from({ length: 5000 }, (_, i) => delta(i));
    const messages = chunkDeltaMessages(header, deltas);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages)
      expect(encodeMessage(toWireDeltaMessage(m)).length).toBeLessThanOrEqual(MAX_DELTA_MESSAGE_BYTES);
    expect(messages.flatMap((m) => m.deltas)).toEqual(deltas);
    expect(messages.every((m) => m.generation === 3 && m.target === 'panorama')).toBe(true);
  });

  it('property: any deltas are split losslessly within the budget', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 1 << 20 }), { maxLength: 400 }),
        fc.integer({ min: 0, max: 20 }),
        (ids, tags) => {
          const deltas = ids.map((i) => delta(i, tags));
          const messages = chunkDeltaMessages(header, deltas, 8 * 1024);
          expect(messages.flatMap((m) => m.deltas)).toEqual(deltas);
          for (const m of messages)
            expect(encodeMessage(toWireDeltaMessage(m)).length).toBeLessThanOrEqual(8 * 1024);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('round-trips through the compressed wire form and the base64 queue encoding', () => {
    const [m] = chunkDeltaMessages(header, [delta(1)]);
    if (!m) throw new Error('no message');
    expect(parseDeltaMessage(decodeMessage(encodeMessage(toWireDeltaMessage(m))))).toEqual(m);
    expect(parseDeltaMessage(decodeMessage(encodeMessage(m)))).toEqual(m);
  });

  it('puts 1,000 IPs with 6 tags each in one message, so an initial sync needs one call per 1,000 IPs', () => {
    const deltas = Array.from({ length: 10_000 }, (_, i) => delta(i));
    const messages = chunkDeltaMessages(header, deltas);
    expect(messages).toHaveLength(10);
    expect(messages.every((m) => m.deltas.length === 1000)).toBe(true);
  });

  it('rejects a compressed payload that is not gzip of JSON, or inflates beyond the limit', () => {
    expect(() => parseDeltaMessage({ ...header, gz: 'bm90IGd6aXA=' })).toThrow(/at gz: not gzip of JSON/);
    const bomb = gzipSync(Buffer.alloc(9 * 1024 * 1024, 32)).toString('base64');
    expect(() => parseDeltaMessage({ ...header, gz: bomb })).toThrow(/at gz/);
  });
});

describe('message validation', () => {
  it.each([
    [{}, 'at v'],
    [{ ...header, deltas: [] }, 'at deltas'],
    [{ ...header, generation: -1, deltas: [delta(1)] }, 'at generation'],
    [
      { ...header, deltas: [{ ip: '1.2.3.4', register: ['x'.repeat(128)], unregister: [] }] },
      'at deltas.0.register.0',
    ],
  ])('rejects a malformed delta message (%#)', (body, where) => {
    expect(() => parseDeltaMessage(body)).toThrow(InputError);
    expect(() => parseDeltaMessage(body)).toThrow(where);
  });

  it('rejects a recompute message without a request time', () => {
    expect(() => parseRecomputeMessage({ v: 1, cluster: 'a', reason: 'x' })).toThrow(/requestedAt/);
  });

  it('decodes plain text that is not base64 JSON as text', () => {
    expect(decodeMessage('hello world')).toBe('hello world');
  });
});

describe('ownerClusterOfTag', () => {
  it.each([
    ['aks.aks-a.web', 'aks-a'],
    ['aks.aks-a.svc.app.web', 'aks-a'],
    ['aks_web.aks-a.checkout', 'aks-a'],
    ['aks.', undefined],
    ['aks..x', undefined],
    ['aks_web', undefined],
    ['aks_web..x', undefined],
    ['azure.vm-name.x', undefined],
    ['aksx.a.b', undefined],
  ])('%s → %s', (tag, owner) => {
    expect(ownerClusterOfTag(tag)).toBe(owner);
  });
});
