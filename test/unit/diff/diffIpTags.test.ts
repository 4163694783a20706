import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyTagDeltas } from '../../../shared/diff/applyTagDeltas.js';
import { diffIpTags } from '../../../shared/diff/diffIpTags.js';
import type { TagDelta } from '../../../shared/diff/TagDelta.js';
import type { IpTagMap } from '../../../shared/tags/IpTagMap.js';

const map = (o: Record<string, string[]>): IpTagMap => new Map(Object.entries(o));

describe('diffIpTags', () => {
  it.each<[string, Record<string, string[]>, Record<string, string[]>, TagDelta[]]>([
    ['nothing to nothing', {}, {}, []],
    ['unchanged', { '10.0.0.1': ['a', 'b'] }, { '10.0.0.1': ['a', 'b'] }, []],
    ['unchanged but listed in another order', { '10.0.0.1': ['b', 'a'] }, { '10.0.0.1': ['a', 'b'] }, []],
    [
      'a new IP registers all its tags',
      {},
      { '10.0.0.1': ['b', 'a'] },
      [{ ip: '10.0.0.1', register: ['a', 'b'], unregister: [] }],
    ],
    [
      'a vanished IP unregisters all its tags',
      { '10.0.0.1': ['b', 'a'] },
      {},
      [{ ip: '10.0.0.1', register: [], unregister: ['a', 'b'] }],
    ],
    [
      'an IP left with no tags unregisters all of them',
      { '10.0.0.1': ['a'] },
      { '10.0.0.1': [] },
      [{ ip: '10.0.0.1', register: [], unregister: ['a'] }],
    ],
    ['an IP with no tags on both sides is no change', { '10.0.0.1': [] }, {}, []],
    [
      'a relabelled Service swaps exactly the stale tag',
      { '10.0.0.1': ['aks.c.s', 'aks.c.svc.tier.back'] },
      { '10.0.0.1': ['aks.c.s', 'aks.c.svc.tier.front'] },
      [{ ip: '10.0.0.1', register: ['aks.c.svc.tier.front'], unregister: ['aks.c.svc.tier.back'] }],
    ],
    [
      'deltas sorted by IP, unchanged IPs omitted',
      { 'fd00::1': ['x'], '10.0.0.2': ['a'], '10.0.0.10': ['a'] },
      { '10.0.0.2': ['a'], '10.0.0.10': ['a', 'Z', 'b'], '10.0.0.1': ['a'] },
      [
        { ip: '10.0.0.1', register: ['a'], unregister: [] },
        { ip: '10.0.0.10', register: ['Z', 'b'], unregister: [] },
        { ip: 'fd00::1', register: [], unregister: ['x'] },
      ],
    ],
    [
      'duplicates in input count once',
      { '10.0.0.1': ['a', 'a'] },
      { '10.0.0.1': ['b', 'b', 'a'] },
      [{ ip: '10.0.0.1', register: ['b'], unregister: [] }],
    ],
  ])('%s', (_name, last, desired, expected) => {
    expect(diffIpTags(map(last), map(desired))).toEqual(expected);
  });
});

describe('applyTagDeltas', () => {
  it('applies register and unregister, removes IPs left without tags and does not change its input', () => {
    const before = map({ '10.0.0.1': ['a', 'b'], '10.0.0.2': ['x'] });
    const after = applyTagDeltas(before, [
      { ip: '10.0.0.2', register: [], unregister: ['x'] },
      { ip: '10.0.0.1', register: ['c'], unregister: ['a'] },
      { ip: '10.0.0.0', register: ['z', 'y'], unregister: ['gone'] },
    ]);
    expect([...after]).toEqual([
      ['10.0.0.0', ['y', 'z']],
      ['10.0.0.1', ['b', 'c']],
    ]);
    expect([...before]).toEqual([
      ['10.0.0.1', ['a', 'b']],
      ['10.0.0.2', ['x']],
    ]);
  });
});

const ip = fc.oneof(fc.ipV4(), fc.constantFrom('fd00::1', 'fd00::2', '10.0.0.1', '10.0.0.2', '10.0.0.10'));
const tag = fc.oneof(
  fc.constantFrom('aks.c.a', 'aks.c.b', 'aks_w.c.a', 'aks.c.svc.app.web', 'Z'),
  fc.string({ maxLength: 6 }),
);
/** Maps in the engine's form: unique, sorted tags; no IP without tags. */
const tagMap: fc.Arbitrary<IpTagMap> = fc
  .dictionary(ip, fc.uniqueArray(tag, { minLength: 1, maxLength: 6 }), { maxKeys: 12 })
  .map((o) => new Map(Object.entries(o).map(([k, v]) => [k, [...v].sort()])));

const sortedEntries = (m: IpTagMap) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe('diffIpTags properties', () => {
  it('applying the diff to the old map gives the new map', () => {
    fc.assert(
      fc.property(tagMap, tagMap, (last, desired) => {
        expect(sortedEntries(applyTagDeltas(last, diffIpTags(last, desired)))).toEqual(
          sortedEntries(desired),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('the diff of a map with itself (or an equal copy) is empty', () => {
    fc.assert(
      fc.property(tagMap, (m) => {
        expect(diffIpTags(m, m)).toEqual([]);
        const copy = new Map([...m].reverse().map(([k, v]) => [k, [...v].reverse()]));
        expect(diffIpTags(m, copy)).toEqual([]);
      }),
    );
  });

  it('register and unregister are disjoint, sorted, non-empty together, and IPs appear once in order', () => {
    fc.assert(
      fc.property(tagMap, tagMap, (last, desired) => {
        const deltas = diffIpTags(last, desired);
        const ips = deltas.map((d) => d.ip);
        expect(ips).toEqual([...new Set(ips)].sort());
        for (const d of deltas) {
          expect(d.register.filter((t) => d.unregister.includes(t))).toEqual([]);
          expect(d.register).toEqual([...d.register].sort());
          expect(d.unregister).toEqual([...d.unregister].sort());
          expect(d.register.length + d.unregister.length).toBeGreaterThan(0);
          for (const t of d.register) expect(last.get(d.ip) ?? []).not.toContain(t);
          for (const t of d.unregister) expect(desired.get(d.ip) ?? []).not.toContain(t);
        }
      }),
      { numRuns: 500 },
    );
  });
});
