import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TagDelta } from '../../../shared/diff/TagDelta.js';
import { InputError } from '../../../shared/errors.js';
import {
  chunkDeltaMessages,
  MAX_DELTA_MESSAGE_BYTES,
  MAX_IPS_PER_DELTA_MESSAGE,
  parseDeltaMessage,
  parseRecomputeMessage,
  toWireDeltaMessage,
} from '../../../shared/pipeline/messages.js';
import { decodeMessage, encodeMessage } from '../../../shared/queues/MessageQueues.js';
import { ownerClusterOfTag } from '../../../shared/tags/tagGrammar.js';

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

describe('chunkDeltaMessages with long high-entropy tags', () => {
  const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  /** A label tag of cluster aks-a with a 63-character value gzip cannot shrink much. */
  const entropyTag = (seed: string) =>
    `aks.aks-a.svc.label.${createHash('sha512').update(seed).digest('base64url').slice(0, 63)}`;
  const bytesOf = (m: Parameters<typeof toWireDeltaMessage>[0]) =>
    Buffer.byteLength(encodeMessage(toWireDeltaMessage(m)));
  /** Every (ip, section, tag) pair of some deltas, sorted (duplicates kept). */
  const pairsOf = (deltas: readonly TagDelta[]) =>
    deltas
      .flatMap((d) => [
        ...d.register.map((t) => `${d.ip} register ${t}`),
        ...d.unregister.map((t) => `${d.ip} unregister ${t}`),
      ])
      .sort();

  it('splits one IP with 1,000 such tags across messages within the default budget', () => {
    const tags = Array.from({ length: 1000 }, (_, i) => entropyTag(`t${i}`)).sort();
    const input: TagDelta[] = [{ ip: '10.0.0.1', register: tags.slice(0, 700), unregister: tags.slice(700) }];
    const messages = chunkDeltaMessages(header, input);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) {
      expect(bytesOf(m)).toBeLessThanOrEqual(MAX_DELTA_MESSAGE_BYTES);
      expect(m.deltas.map((d) => d.ip)).toEqual(['10.0.0.1']);
      expect(parseDeltaMessage(decodeMessage(encodeMessage(toWireDeltaMessage(m))))).toEqual(m);
    }
    expect(pairsOf(messages.flatMap((m) => m.deltas))).toEqual(pairsOf(input));
  });

  it('keeps the IPs around a huge delta in their own messages, in order', () => {
    const big: TagDelta = {
      ip: '10.0.0.2',
      register: Array.from({ length: 300 }, (_, i) => entropyTag(`b${i}`)).sort(),
      unregister: [],
    };
    const input = [delta(1, 2), big, delta(3, 2)];
    const messages = chunkDeltaMessages(header, input, 4096);
    expect(messages.length).toBeGreaterThan(3);
    expect(messages[0]?.deltas).toEqual([input[0]]);
    expect(messages.at(-1)?.deltas).toEqual([input[2]]);
    expect(messages.slice(1, -1).every((m) => m.deltas.length === 1 && m.deltas[0]?.ip === '10.0.0.2')).toBe(
      true,
    );
    expect(pairsOf(messages.flatMap((m) => m.deltas))).toEqual(pairsOf(input));
  });

  it('refuses a single pair that cannot fit the budget', () => {
    const input: TagDelta[] = [{ ip: '10.0.0.1', register: [entropyTag('x')], unregister: [] }];
    expect(() => chunkDeltaMessages(header, input, 100)).toThrow(InputError);
    expect(() => chunkDeltaMessages(header, input, 100)).toThrow(
      /10\.0\.0\.1 does not fit in one queue message/,
    );
  });

  it('returns no message for no deltas', () => {
    expect(chunkDeltaMessages(header, [])).toEqual([]);
  });

  it('defaults to 1,000 IPs per message', () => {
    expect(MAX_IPS_PER_DELTA_MESSAGE).toBe(1000);
  });

  it('property: every message fits the budget and the IP limit; the pairs are exactly the input pairs', () => {
    const value = fc.string({ unit: fc.constantFrom(...ALNUM), minLength: 63, maxLength: 63 });
    const tag = value.map((v) => `aks.aks-a.svc.label.${v}`);
    const oneDelta = fc.record({
      tags: fc.oneof(
        { weight: 3, arbitrary: fc.uniqueArray(tag, { maxLength: 5 }) },
        { weight: 1, arbitrary: fc.uniqueArray(tag, { minLength: 100, maxLength: 300 }) },
      ),
      cut: fc.nat(),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat({ max: 65_535 }), { maxLength: 12 }),
        fc.array(oneDelta, { minLength: 12, maxLength: 12 }),
        fc.integer({ min: 1024, max: 4096 }),
        fc.integer({ min: 1, max: 6 }),
        (ids, shapes, maxBytes, maxIps) => {
          const input: TagDelta[] = [...ids]
            .sort((a, b) => a - b)
            .map((id, k) => {
              const { tags, cut } = shapes[k] ?? { tags: [], cut: 0 };
              const sorted = [...tags].sort();
              const r = cut % (sorted.length + 1);
              return {
                ip: `10.0.${id >> 8}.${id & 255}`,
                register: sorted.slice(0, r),
                unregister: sorted.slice(r),
              };
            });
          const messages = chunkDeltaMessages(header, input, maxBytes, maxIps);
          for (const m of messages) {
            expect(bytesOf(m)).toBeLessThanOrEqual(maxBytes);
            expect(m.deltas.length).toBeGreaterThan(0);
            expect(m.deltas.length).toBeLessThanOrEqual(maxIps);
            expect(new Set(m.deltas.map((d) => d.ip)).size).toBeLessThanOrEqual(maxIps);
            expect({ ...m, deltas: [] }).toEqual({ ...header, deltas: [] });
          }
          const out = messages.flatMap((m) => m.deltas);
          expect(pairsOf(out)).toEqual(pairsOf(input));
          // IP order is kept, and an IP's pieces are adjacent.
          expect([...new Set(out.map((d) => d.ip))]).toEqual(input.map((d) => d.ip));
        },
      ),
      { numRuns: 40 },
    );
  });
});
