import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyTagDeltas } from '../../../shared/diff/applyTagDeltas.js';
import { diffIpTags } from '../../../shared/diff/diffIpTags.js';
import { planRecompute, type RemovalRules } from '../../../shared/pipeline/planRecompute.js';
import {
  countPairs,
  DEFAULT_REMOVAL_GUARD,
  judgeRemovals,
  keepRemovedPairs,
  withoutRemovals,
} from '../../../shared/pipeline/removalGuard.js';
import type { IpTagMap } from '../../../shared/tags/IpTagMap.js';

/** A map of `n` IPs with `tagsPerIp` tags each (`aks.c.t<i>`). */
function stateOf(n: number, tagsPerIp: number): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i < n; i++)
    m.set(
      `10.0.0.${i + 1}`,
      Array.from({ length: tagsPerIp }, (_, t) => `aks.c.t${t}`),
    );
  return m;
}

const SYNC: RemovalRules = { policy: 'sync', guard: DEFAULT_REMOVAL_GUARD, guarded: true, holdBase: 0 };

describe('judgeRemovals', () => {
  // committed pairs, removals, guard → held
  it.each([
    ['no removals', 100, 0, { percent: 50, min: 20 }, false],
    ['half of 100, at least 20: held', 100, 50, { percent: 50, min: 20 }, true],
    ['49 of 100: under the percentage', 100, 49, { percent: 50, min: 20 }, false],
    ['all of 10: under the minimum', 10, 10, { percent: 50, min: 20 }, false],
    ['20 of 20: both reached', 20, 20, { percent: 50, min: 20 }, true],
    ['19 of 20: one short of the minimum', 20, 19, { percent: 50, min: 20 }, false],
    ['percent 0 turns the guard off', 100, 100, { percent: 0, min: 20 }, false],
    ['percent 100 holds only a full wipe', 40, 39, { percent: 100, min: 1 }, false],
    ['percent 100, full wipe', 40, 40, { percent: 100, min: 1 }, true],
    ['min 0: the percentage alone', 4, 2, { percent: 50, min: 0 }, true],
    ['nothing committed: nothing to hold', 0, 0, { percent: 50, min: 0 }, false],
  ])('%s', (_name, committed, removals, guard, held) => {
    // prepare
    const deltas = [
      { ip: '10.0.0.1', register: [], unregister: Array.from({ length: removals }, (_, i) => `t${i}`) },
    ];

    // act
    const verdict = judgeRemovals(deltas, committed, guard);

    // assess
    expect(verdict).toMatchObject({ held, removals, committedPairs: committed });
    if (held) {
      expect(verdict.reason).toContain(`${removals} of ${committed}`);
      expect(verdict.reason).toContain('--allow-removals');
    } else expect(verdict.reason).toBeUndefined();
  });
});

describe('planRecompute', () => {
  it('a selector typo that removes every selector tag is held: registrations go through, removals stay committed', () => {
    // prepare: 30 IPs with a Service tag and a selector tag; the typo drops every selector tag
    // and the new spelling adds one.
    const last = new Map([...stateOf(30, 1)].map(([ip, t]) => [ip, [...t, 'aks_web.c.svc']]));
    const desired = new Map([...stateOf(30, 1)].map(([ip, t]) => [ip, [...t, 'aks_wbe.c.svc']]));

    // act
    const plan = planRecompute(last, desired, SYNC);

    // assess
    expect(plan.hold).toMatchObject({ held: true, removals: 30, committedPairs: 60 });
    expect(plan.send.every((d) => d.unregister.length === 0)).toBe(true);
    expect(plan.send.flatMap((d) => d.register)).toEqual(Array(30).fill('aks_wbe.c.svc'));
    expect(plan.desired.get('10.0.0.1')).toEqual(['aks.c.t0', 'aks_wbe.c.svc', 'aks_web.c.svc']);
    // The next recompute with the same input finds the same removals and holds again: judged
    // against the 60 pairs before the hold, not the 90 committed with the registrations.
    const again = planRecompute(plan.desired, desired, { ...SYNC, holdBase: 60 });
    expect(again.hold).toMatchObject({ removals: 30, committedPairs: 60 });
    // Without the base the registrations would dilute the removals below the threshold.
    expect(planRecompute(plan.desired, desired, SYNC).hold).toBeUndefined();
  });

  it('a hold lifts by itself once the removals are gone (a Service list that came back)', () => {
    // prepare: the list came back empty once and was held.
    const last = stateOf(25, 2);
    const held = planRecompute(last, new Map(), SYNC);

    // act
    const next = planRecompute(held.desired, last, { ...SYNC, holdBase: held.hold?.committedPairs ?? 0 });

    // assess
    expect(held.hold?.removals).toBe(50);
    expect(next.hold).toBeUndefined();
    expect(next.deltas).toEqual([]);
  });

  it('an IP that disappears entirely keeps its tags while held', () => {
    // prepare
    const last = stateOf(25, 2);

    // act
    const plan = planRecompute(last, new Map(), SYNC);

    // assess
    expect(plan.hold?.removals).toBe(50);
    expect(plan.deltas).toEqual([]);
    expect(plan.desired).toEqual(last);
  });

  it.each([
    ['a confirmed delete or approved removals are not guarded', { ...SYNC, guarded: false }, 50, 0],
    ['the guard off', { ...SYNC, guard: { percent: 0, min: 20 } }, 50, 0],
  ])('%s: every removal is sent', (_name, rules, sentRemovals, held) => {
    // prepare
    const last = stateOf(25, 2);

    // act
    const plan = planRecompute(last, new Map(), rules);

    // assess
    expect(plan.send.reduce((n, d) => n + d.unregister.length, 0)).toBe(sentRemovals);
    expect(plan.hold ? 1 : 0).toBe(held);
    expect(plan.desired.size).toBe(0);
  });

  it('upsert-only commits the desired state and sends no unregistration, guard or not', () => {
    // prepare
    const last = new Map([
      ['10.0.0.1', ['aks.c.a', 'aks.c.b']],
      ['10.0.0.2', ['aks.c.gone']],
    ]);
    const desired = new Map([['10.0.0.1', ['aks.c.a', 'aks.c.new']]]);

    // act
    const plan = planRecompute(last, desired, {
      policy: 'upsert-only',
      guard: { percent: 1, min: 1 },
      guarded: true,
      holdBase: 0,
    });

    // assess
    expect(plan.hold).toBeUndefined();
    expect(plan.desired).toEqual(desired);
    expect(plan.deltas).toEqual(diffIpTags(last, desired));
    expect(plan.send).toEqual([{ ip: '10.0.0.1', register: ['aks.c.new'], unregister: [] }]);
  });

  it('small changes pass untouched', () => {
    // prepare
    const last = stateOf(100, 3);
    const desired = new Map(last);
    desired.delete('10.0.0.1');
    desired.set('10.9.9.9', ['aks.c.x']);

    // act
    const plan = planRecompute(last, desired, SYNC);

    // assess
    expect(plan.hold).toBeUndefined();
    expect(plan.desired).toBe(desired);
    expect(plan.send).toEqual(diffIpTags(last, desired));
  });
});

const tagMap = fc
  .dictionary(
    fc.ipV4(),
    fc.uniqueArray(
      fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f').map((t) => `aks.c.${t}`),
      { maxLength: 6 },
    ),
    { maxKeys: 30 },
  )
  .map((o) => new Map(Object.entries(o).map(([ip, tags]) => [ip, [...tags].sort()])) as IpTagMap);

describe('planRecompute properties', () => {
  const rules = fc.record({
    policy: fc.constantFrom('sync' as const, 'upsert-only' as const),
    guard: fc.record({ percent: fc.integer({ min: 0, max: 100 }), min: fc.integer({ min: 0, max: 40 }) }),
    guarded: fc.boolean(),
    holdBase: fc.integer({ min: 0, max: 200 }),
  });

  it('applying the rows to write to the last state gives the state to commit', () => {
    fc.assert(
      fc.property(tagMap, tagMap, rules, (last, desired, r) => {
        const plan = planRecompute(last, desired, r);
        expect(applyTagDeltas(last, plan.deltas)).toEqual(
          new Map([...plan.desired].filter(([, t]) => t.length > 0)),
        );
      }),
    );
  });

  it('a held plan never loses a committed pair, and sends no removal; an unheld sync plan reaches desired', () => {
    fc.assert(
      fc.property(tagMap, tagMap, rules, (last, desired, r) => {
        const plan = planRecompute(last, desired, r);
        if (plan.hold || r.policy === 'upsert-only') {
          expect(plan.send.every((d) => d.unregister.length === 0)).toBe(true);
        }
        if (plan.hold) {
          for (const [ip, tags] of last) for (const t of tags) expect(plan.desired.get(ip)).toContain(t);
          expect(countPairs(plan.desired)).toBeGreaterThanOrEqual(countPairs(last));
        } else expect(plan.desired).toBe(desired);
      }),
    );
  });

  it('keepRemovedPairs is desired ∪ last, sorted and unique per IP', () => {
    fc.assert(
      fc.property(tagMap, tagMap, (last, desired) => {
        const kept = keepRemovedPairs(last, desired);
        for (const ip of new Set([...last.keys(), ...desired.keys()])) {
          const union = [...new Set([...(last.get(ip) ?? []), ...(desired.get(ip) ?? [])])].sort();
          expect(kept.get(ip)).toEqual(union);
        }
      }),
    );
  });

  it('withoutRemovals keeps every registration and drops deltas left empty', () => {
    fc.assert(
      fc.property(tagMap, tagMap, (last, desired) => {
        const deltas = diffIpTags(last, desired);
        const kept = withoutRemovals(deltas);
        expect(kept.flatMap((d) => d.register)).toEqual(deltas.flatMap((d) => d.register));
        expect(kept.every((d) => d.unregister.length === 0 && d.register.length > 0)).toBe(true);
      }),
    );
  });
});
