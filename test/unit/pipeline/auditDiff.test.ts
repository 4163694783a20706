import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IpTagEntry } from '../../../shared/panorama/PanoramaApi.js';
import { auditDiff } from '../../../shared/pipeline/auditTargets.js';
import { isOwnedBy } from '../../../shared/tags/tagGrammar.js';

type Tags = Record<string, string[]>;

const deviceOf = (o: Tags): Map<string, string[]> => new Map(Object.entries(o));
const desiredOf = (o: Tags): Map<string, Set<string>> =>
  new Map(Object.entries(o).map(([ip, tags]) => [ip, new Set(tags)]));

const IP1 = '10.0.0.1';
const IP2 = '10.0.0.2';

describe('auditDiff', () => {
  it.each<[string, Tags, Tags, string[], IpTagEntry[], IpTagEntry[]]>([
    ['nothing anywhere', {}, {}, ['aks-a'], [], []],
    ['in sync', { [IP1]: ['aks.aks-a.web'] }, { [IP1]: ['aks.aks-a.web'] }, ['aks-a'], [], []],
    [
      'in sync, listed in another order',
      { [IP1]: ['aks.aks-a.web', 'aks.aks-a.svc.tier.front'] },
      { [IP1]: ['aks.aks-a.svc.tier.front', 'aks.aks-a.web'] },
      ['aks-a'],
      [],
      [],
    ],
    [
      'a desired tag missing on the device is registered',
      { [IP1]: ['aks.aks-a.web'] },
      { [IP1]: ['aks.aks-a.web', 'aks.aks-a.svc.tier.front'] },
      ['aks-a'],
      [{ ip: IP1, tags: ['aks.aks-a.svc.tier.front'] }],
      [],
    ],
    [
      'a desired IP missing on the device gets all its tags, sorted',
      {},
      { [IP1]: ['aks_web.aks-a.web', 'aks.aks-a.web', 'aks.aks-a.svc.app.web'] },
      ['aks-a'],
      [{ ip: IP1, tags: ['aks.aks-a.svc.app.web', 'aks.aks-a.web', 'aks_web.aks-a.web'] }],
      [],
    ],
    [
      'missing tags are registered even when the device carries foreign tags on the IP',
      { [IP1]: ['owner.x', 'aks.aks-b.web'] },
      { [IP1]: ['aks.aks-a.web'] },
      ['aks-a'],
      [{ ip: IP1, tags: ['aks.aks-a.web'] }],
      [],
    ],
    [
      'a stale owned tag of a managed cluster is unregistered',
      { [IP1]: ['aks.aks-a.web', 'aks.aks-a.old'] },
      { [IP1]: ['aks.aks-a.web'] },
      ['aks-a'],
      [],
      [{ ip: IP1, tags: ['aks.aks-a.old'] }],
    ],
    [
      'a stale selector tag of a managed cluster is unregistered',
      { [IP1]: ['aks_web.aks-a.checkout', 'aks.aks-a.checkout'] },
      { [IP1]: ['aks.aks-a.checkout'] },
      ['aks-a'],
      [],
      [{ ip: IP1, tags: ['aks_web.aks-a.checkout'] }],
    ],
    [
      'an IP no cluster wants loses only its managed owned tags, sorted',
      { [IP1]: ['owner.x', 'aks.aks-a.web', 'aks.aks-b.web', 'aks.aks-a.svc.app.web'] },
      {},
      ['aks-a'],
      [],
      [{ ip: IP1, tags: ['aks.aks-a.svc.app.web', 'aks.aks-a.web'] }],
    ],
    [
      'a desired IP with no tags loses its managed owned tags',
      { [IP1]: ['aks.aks-a.web'] },
      { [IP1]: [] },
      ['aks-a'],
      [],
      [{ ip: IP1, tags: ['aks.aks-a.web'] }],
    ],
    [
      'a relabelled Service swaps exactly the stale tag',
      { [IP1]: ['aks.aks-a.web', 'aks.aks-a.svc.tier.back'] },
      { [IP1]: ['aks.aks-a.web', 'aks.aks-a.svc.tier.front'] },
      ['aks-a'],
      [{ ip: IP1, tags: ['aks.aks-a.svc.tier.front'] }],
      [{ ip: IP1, tags: ['aks.aks-a.svc.tier.back'] }],
    ],
    [
      'an IP moved from one address to another',
      { [IP1]: ['aks.aks-a.web'] },
      { [IP2]: ['aks.aks-a.web'] },
      ['aks-a'],
      [{ ip: IP2, tags: ['aks.aks-a.web'] }],
      [{ ip: IP1, tags: ['aks.aks-a.web'] }],
    ],
    [
      'foreign tags are never touched',
      {
        [IP1]: [
          'owner.x',
          'azure.vm-1.nic',
          'aksx.aks-a.web',
          'AKS.aks-a.web',
          'aks.aks-a',
          'aks_web.aks-a',
          'aks..web',
          'aks_.aks-a.web',
        ],
      },
      {},
      ['aks-a'],
      [],
      [],
    ],
    [
      'owned tags of clusters not managed here are never touched',
      { [IP1]: ['aks.aks-b.web', 'aks_web.aks-b.web', 'aks.aks-a-2.web', 'aks.aks.web'] },
      {},
      ['aks-a'],
      [],
      [],
    ],
    [
      'a selector named like a managed cluster does not make a tag owned',
      { [IP1]: ['aks_aks-a.aks-b.web', 'aks_aks-b.aks-a.web'] },
      {},
      ['aks-a'],
      [],
      [{ ip: IP1, tags: ['aks_aks-b.aks-a.web'] }],
    ],
    [
      'a cluster whose name is a prefix of another does not own its tags',
      { [IP1]: ['aks.aks-a.web', 'aks.aks-ab.web'] },
      {},
      ['aks-a'],
      [],
      [{ ip: IP1, tags: ['aks.aks-a.web'] }],
    ],
    [
      'ownership is case-insensitive on the cluster name',
      { [IP1]: ['aks.AKS-A.web', 'aks_web.Aks-A.web'] },
      {},
      ['aks-a'],
      [],
      [{ ip: IP1, tags: ['aks.AKS-A.web', 'aks_web.Aks-A.web'] }],
    ],
    [
      'two managed clusters sharing an IP on the target keep each other’s tags',
      { [IP1]: ['aks.aks-a.web', 'aks.aks-b.web'] },
      { [IP1]: ['aks.aks-a.web', 'aks.aks-b.web'] },
      ['aks-a', 'aks-b'],
      [],
      [],
    ],
    [
      'a managed cluster no longer pushing here (left or deleted) loses its tags',
      { [IP1]: ['aks.aks-a.web', 'aks.aks-b.web'], [IP2]: ['aks_web.aks-b.web', 'owner.y'] },
      { [IP1]: ['aks.aks-a.web'] },
      ['aks-a', 'aks-b'],
      [],
      [
        { ip: IP1, tags: ['aks.aks-b.web'] },
        { ip: IP2, tags: ['aks_web.aks-b.web'] },
      ],
    ],
    [
      'no managed cluster: only registers, never unregisters',
      { [IP1]: ['aks.aks-a.old'] },
      { [IP2]: ['aks.aks-a.web'] },
      [],
      [{ ip: IP2, tags: ['aks.aks-a.web'] }],
      [],
    ],
    [
      'several IPs, entries in desired and device order',
      { [IP2]: ['aks.aks-a.x'], [IP1]: ['aks.aks-a.y'] },
      { [IP2]: ['aks.aks-a.z'], [IP1]: ['aks.aks-a.w'] },
      ['aks-a'],
      [
        { ip: IP2, tags: ['aks.aks-a.z'] },
        { ip: IP1, tags: ['aks.aks-a.w'] },
      ],
      [
        { ip: IP2, tags: ['aks.aks-a.x'] },
        { ip: IP1, tags: ['aks.aks-a.y'] },
      ],
    ],
  ])('%s', (_name, device, desired, managed, register, unregister) => {
    expect(auditDiff(deviceOf(device), desiredOf(desired), new Set(managed))).toStrictEqual({
      register,
      unregister,
    });
  });

  it('does not modify its inputs', () => {
    const device = deviceOf({ [IP1]: ['aks.aks-a.old', 'owner.x'] });
    const desired = desiredOf({ [IP1]: ['aks.aks-a.web'] });
    auditDiff(device, desired, new Set(['aks-a']));
    expect(device).toEqual(deviceOf({ [IP1]: ['aks.aks-a.old', 'owner.x'] }));
    expect(desired).toEqual(desiredOf({ [IP1]: ['aks.aks-a.web'] }));
  });
});

describe('auditDiff properties', () => {
  const clusters = ['aks-a', 'aks-b', 'aks-c'];
  const ownedTag = fc
    .tuple(
      fc.constantFrom(...clusters),
      fc.constantFrom('web', 'api', 'svc.tier.front', 'svc.tier.back'),
      fc.boolean(),
    )
    .map(([c, rest, selector]) => (selector ? `aks_sel.${c}.${rest}` : `aks.${c}.${rest}`));
  const foreignTag = fc.constantFrom(
    'owner.x',
    'azure.vm.nic',
    'aks.aks-z.web',
    'aks_sel.aks-z.web',
    'aks.aks-a',
  );
  const anyTag = fc.oneof(ownedTag, foreignTag);
  const ip = fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', 'fd00::1');
  const device = fc
    .dictionary(ip, fc.uniqueArray(anyTag, { maxLength: 8 }), { maxKeys: 4 })
    .map((o) => deviceOf(o));
  const managedArb = fc.uniqueArray(fc.constantFrom(...clusters), { maxLength: 3 }).map((m) => new Set(m));

  const pairs = (entries: readonly IpTagEntry[]): string[] =>
    entries.flatMap((e) => e.tags.map((t) => `${e.ip} ${t}`));
  const pairsOfMap = (m: ReadonlyMap<string, Iterable<string>>): string[] =>
    [...m].flatMap(([i, tags]) => [...tags].map((t) => `${i} ${t}`));

  it('property: register ∩ device = ∅, unregister ⊆ device, and only stale managed tags go', () => {
    fc.assert(
      fc.property(
        device,
        fc.dictionary(ip, fc.uniqueArray(anyTag, { maxLength: 8 }), { maxKeys: 4 }),
        managedArb,
        (dev, desiredObj, managed) => {
          const desired = desiredOf(desiredObj);
          const { register, unregister } = auditDiff(dev, desired, managed);
          const onDevice = new Set(pairsOfMap(dev));
          const wanted = new Set(pairsOfMap(desired));
          expect(pairs(register).filter((p) => onDevice.has(p))).toEqual([]);
          expect(pairs(unregister).filter((p) => !onDevice.has(p))).toEqual([]);
          expect(pairs(unregister).filter((p) => wanted.has(p))).toEqual([]);
          expect(unregister.flatMap((e) => e.tags).filter((t) => !isOwnedBy(t, managed))).toEqual([]);
          // Complete: every missing desired pair is registered, every stale managed pair unregistered.
          expect(new Set(pairs(register))).toEqual(new Set([...wanted].filter((p) => !onDevice.has(p))));
          expect(new Set(pairs(unregister))).toEqual(
            new Set(
              [...onDevice].filter((p) => !wanted.has(p) && isOwnedBy(p.slice(p.indexOf(' ') + 1), managed)),
            ),
          );
          // No empty entries.
          expect([...register, ...unregister].filter((e) => e.tags.length === 0)).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: applying the diff makes the managed owned tags equal the desired ones, foreign tags kept', () => {
    fc.assert(
      fc.property(
        device,
        managedArb,
        fc.dictionary(ip, fc.uniqueArray(ownedTag, { maxLength: 8 }), { maxKeys: 4 }),
        (dev, managed, desiredObj) => {
          // As in the audit, desired tags are those of managed clusters.
          const desired = new Map(
            Object.entries(desiredObj).map(([i, tags]) => [
              i,
              new Set(tags.filter((t) => isOwnedBy(t, managed))),
            ]),
          );
          const { register, unregister } = auditDiff(dev, desired, managed);
          const after = new Map([...dev].map(([i, tags]) => [i, new Set(tags)]));
          for (const e of unregister) for (const t of e.tags) after.get(e.ip)?.delete(t);
          for (const e of register) {
            const set = after.get(e.ip) ?? new Set<string>();
            for (const t of e.tags) set.add(t);
            after.set(e.ip, set);
          }
          const ips = new Set([...dev.keys(), ...desired.keys()]);
          for (const i of ips) {
            const tags = [...(after.get(i) ?? [])];
            expect(tags.filter((t) => isOwnedBy(t, managed)).sort()).toEqual(
              [...(desired.get(i) ?? [])].sort(),
            );
            expect(tags.filter((t) => !isOwnedBy(t, managed)).sort()).toEqual(
              (dev.get(i) ?? []).filter((t) => !isOwnedBy(t, managed)).sort(),
            );
          }
          // A second audit finds nothing to do.
          const again = new Map([...after].map(([i, tags]) => [i, [...tags]]));
          expect(auditDiff(again, desired, managed)).toStrictEqual({ register: [], unregister: [] });
        },
      ),
      { numRuns: 500 },
    );
  });
});
