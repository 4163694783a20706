import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COVER_MARGIN_MS,
  covers,
  hasCommittedState,
  isLeased,
  isStaleDelete,
  nextWriteEventAt,
  planRetirement,
  type ResolvedTargets,
  type RetirementPlan,
} from '../../../shared/pipeline/clusterHead.js';
import type { RecomputeMessage } from '../../../shared/pipeline/messages.js';
import type { ClusterHead } from '../../../shared/state/ClusterStateStore.js';

const T0_MS = Date.parse('2024-05-01T12:00:00.000Z');

/** ISO time `ms` milliseconds after T0 (negative: before). */
const at = (ms: number): string => new Date(T0_MS + ms).toISOString();
const T0 = at(0);

/** A head as the lease creates it for a first recompute, with `over` applied. */
function head(over: Partial<ClusterHead> = {}): ClusterHead {
  return {
    cluster: 'aks-a',
    generation: 0,
    pendingGeneration: 0,
    ipCount: 0,
    tagCount: 0,
    targets: [],
    retiringTargets: [],
    heldRemovals: 0,
    holdBasePairs: 0,
    ipsOverBudget: 0,
    etag: 'W/"datetime\'2024-05-01T12%3A00%3A00Z\'"',
    ...over,
  };
}

/** A recompute request made at T0, with `over` applied. */
function request(over: Partial<RecomputeMessage> = {}): RecomputeMessage {
  return { v: 1, cluster: 'aks-a', reason: 'event', requestedAt: T0, ...over };
}

/** A head whose last recompute committed at `syncedFrom` (and nothing runs now). */
const committed = (syncedFrom: string, over: Partial<ClusterHead> = {}): ClusterHead =>
  head({
    generation: 4,
    pendingGeneration: 4,
    lastRecomputeStartedAt: syncedFrom,
    lastRecomputeAt: syncedFrom,
    lastRecomputeResult: 'changed',
    syncedFrom,
    ...over,
  });

describe('COVER_MARGIN_MS', () => {
  it('is two seconds', () => {
    expect(COVER_MARGIN_MS).toBe(2000);
  });
});

describe('isLeased', () => {
  const now = new Date(T0_MS);
  it.each<[string, ClusterHead | undefined, boolean]>([
    ['no head', undefined, false],
    ['a head that was never leased', head(), false],
    ['a lease that expires in a minute', head({ leaseOwner: 'i1/abc', leaseUntil: at(60_000) }), true],
    ['a lease that expires 1 ms from now', head({ leaseOwner: 'i1/abc', leaseUntil: at(1) }), true],
    ['a lease that expires exactly now', head({ leaseOwner: 'i1/abc', leaseUntil: at(0) }), false],
    ['an expired lease', head({ leaseOwner: 'i1/abc', leaseUntil: at(-1) }), false],
    ['a released lease (owner cleared to "")', head({ leaseOwner: '', leaseUntil: at(60_000) }), false],
    ['an owner without an expiry', head({ leaseOwner: 'i1/abc' }), false],
    ['an owner with an empty expiry', head({ leaseOwner: 'i1/abc', leaseUntil: '' }), false],
    ['an expiry without an owner', head({ leaseUntil: at(60_000) }), false],
    ['an unparsable expiry', head({ leaseOwner: 'i1/abc', leaseUntil: 'tomorrow' }), false],
    [
      'an expiry with an offset that is 1 s in the future',
      head({ leaseOwner: 'i1/abc', leaseUntil: '2024-05-01T14:00:01+02:00' }),
      true,
    ],
    [
      'an expiry with an offset that is 1 s in the past (later as text)',
      head({ leaseOwner: 'i1/abc', leaseUntil: '2024-05-01T13:59:59+02:00' }),
      false,
    ],
  ])('%s → %s', (_name, h, expected) => {
    expect(isLeased(h, now)).toBe(expected);
  });
});

describe('hasCommittedState', () => {
  it.each<[string, ClusterHead | undefined, boolean]>([
    ['no head', undefined, false],
    [
      'the head a lease created for a first recompute still running',
      head({ leaseOwner: 'i1/abc', leaseUntil: at(60_000), lastRecomputeStartedAt: T0 }),
      false,
    ],
    [
      'a first recompute that failed (403) and released its lease',
      head({
        leaseOwner: '',
        leaseUntil: '',
        lastRecomputeStartedAt: T0,
        lastRecomputeResult: 'failed',
        lastError: 'Panorama: 403 Forbidden',
        lastErrorAt: at(5000),
      }),
      false,
    ],
    ['a generation announced but never committed', head({ pendingGeneration: 2 }), false],
    ['empty-string bookkeeping fields', head({ syncedFrom: '', lastRecomputeAt: '' }), false],
    ['generation 1', head({ generation: 1, pendingGeneration: 1 }), true],
    ['a first commit that changed nothing (generation 0, syncedFrom set)', head({ syncedFrom: T0 }), true],
    ['only lastRecomputeAt set', head({ lastRecomputeAt: T0 }), true],
    ['a tombstone', committed(T0, { deletedAt: at(1000), lastRecomputeResult: 'deleted' }), true],
    [
      'a committed cluster whose later recompute failed',
      committed(T0, { lastRecomputeResult: 'failed', lastError: 'boom', lastRecomputeStartedAt: at(9000) }),
      true,
    ],
    [
      'a committed cluster with a recompute running now',
      committed(T0, { leaseOwner: 'i2/def', leaseUntil: at(60_000), lastRecomputeStartedAt: at(9000) }),
      true,
    ],
  ])('%s → %s', (_name, h, expected) => {
    expect(hasCommittedState(h)).toBe(expected);
  });
});

describe('covers', () => {
  const margin = COVER_MARGIN_MS;
  const del = request({ deleted: true, eventTime: T0 });
  it.each<[string, ClusterHead | undefined, RecomputeMessage, boolean]>([
    ['no head', undefined, request(), false],
    ['a head that never committed', head({ lastRecomputeStartedAt: at(60_000) }), request(), false],
    ['a commit that started 1 ms past the margin', committed(at(margin + 1)), request(), true],
    ['a commit that started a minute after', committed(at(60_000)), request(), true],
    ['a commit that started exactly at the margin', committed(at(margin)), request(), false],
    ['a commit that started within the clock-skew margin', committed(at(1)), request(), false],
    ['a commit that started at the request time', committed(T0), request(), false],
    ['a commit that started before the request', committed(at(-60_000)), request(), false],
    [
      'a recompute running since after the request (last commit older)',
      committed(at(-60_000), {
        leaseOwner: 'i1/abc',
        leaseUntil: at(90_000),
        lastRecomputeStartedAt: at(30_000),
      }),
      request(),
      false,
    ],
    [
      'a recompute that started after the request and failed (last commit older)',
      committed(at(-60_000), {
        lastRecomputeStartedAt: at(30_000),
        lastRecomputeResult: 'failed',
        lastError: 'Panorama: 403',
      }),
      request(),
      false,
    ],
    [
      'a first recompute that started after the request and failed (no commit at all)',
      head({ lastRecomputeStartedAt: at(30_000), lastRecomputeResult: 'failed', lastError: 'x' }),
      request(),
      false,
    ],
    [
      'a commit after the request, with another recompute running now',
      committed(at(30_000), {
        leaseOwner: 'i1/abc',
        leaseUntil: at(90_000),
        lastRecomputeStartedAt: at(60_000),
      }),
      request(),
      true,
    ],
    ['a timer request covered by a later commit', committed(at(30_000)), request({ reason: 'timer' }), true],
    ['a delete request after a later plain commit', committed(at(30_000)), del, false],
    [
      'a delete request after a later committed delete (tombstone)',
      committed(at(30_000), { deletedAt: at(31_000), lastRecomputeResult: 'deleted' }),
      del,
      true,
    ],
    [
      'a delete request after an earlier committed delete',
      committed(at(-60_000), { deletedAt: at(-59_000), lastRecomputeResult: 'deleted' }),
      del,
      false,
    ],
    [
      'a delete request within the margin of a committed delete',
      committed(at(margin), { deletedAt: at(margin + 500) }),
      del,
      false,
    ],
    ['a request with deleted: false like a write', committed(at(30_000)), request({ deleted: false }), true],
    [
      'a write request before a committed delete',
      committed(at(30_000), { deletedAt: at(31_000) }),
      request(),
      true,
    ],
    ['an unparsable syncedFrom', committed('garbage'), request(), false],
    ['an unparsable requestedAt', committed(at(60_000)), request({ requestedAt: 'garbage' }), false],
  ])('%s → %s', (_name, h, req, expected) => {
    expect(covers(h, req)).toBe(expected);
  });
});

describe('isStaleDelete', () => {
  const written = committed(at(-60_000), { lastWriteEventAt: T0 });
  it.each<[string, ClusterHead | undefined, RecomputeMessage, boolean]>([
    [
      'a delete older than the last write event',
      written,
      request({ deleted: true, eventTime: at(-1) }),
      true,
    ],
    [
      'a delete an hour older than the last write event',
      written,
      request({ deleted: true, eventTime: at(-3_600_000) }),
      true,
    ],
    [
      'a delete at the same time as the last write event',
      written,
      request({ deleted: true, eventTime: T0 }),
      false,
    ],
    [
      'a delete newer than the last write event',
      written,
      request({ deleted: true, eventTime: at(1) }),
      false,
    ],
    [
      'a delete with an offset, earlier in time though later as text',
      written,
      request({ deleted: true, eventTime: '2024-05-01T13:59:59+02:00' }),
      true,
    ],
    [
      'a delete with an offset, later in time though earlier as text',
      committed(at(-60_000), { lastWriteEventAt: '2024-05-01T14:00:00+02:00' }),
      request({ deleted: true, eventTime: '2024-05-01T12:00:01Z' }),
      false,
    ],
    ['a delete without eventTime', written, request({ deleted: true }), false],
    ['a delete with an empty eventTime', written, request({ deleted: true, eventTime: '' }), false],
    ['a delete and no head', undefined, request({ deleted: true, eventTime: at(-1) }), false],
    [
      'a delete and a head without lastWriteEventAt',
      committed(at(-60_000)),
      request({ deleted: true, eventTime: at(-1) }),
      false,
    ],
    [
      'a delete and a head with an empty lastWriteEventAt',
      committed(at(-60_000), { lastWriteEventAt: '' }),
      request({ deleted: true, eventTime: at(-1) }),
      false,
    ],
    ['a write event older than the last write event', written, request({ eventTime: at(-1) }), false],
    [
      'deleted: false with an older eventTime',
      written,
      request({ deleted: false, eventTime: at(-1) }),
      false,
    ],
    ['a timer request', written, request({ reason: 'timer' }), false],
  ])('%s → %s', (_name, h, req, expected) => {
    expect(isStaleDelete(h, req)).toBe(expected);
  });
});

describe('nextWriteEventAt', () => {
  const none = committed(at(-60_000));
  const last = committed(at(-60_000), { lastWriteEventAt: T0 });
  it.each<[string, ClusterHead, RecomputeMessage, string | undefined]>([
    ['a timer request and no write event yet', none, request({ reason: 'timer' }), undefined],
    ['a timer request keeps the last write event', last, request({ reason: 'timer' }), T0],
    ['the first write event', none, request({ eventTime: at(-5000) }), at(-5000)],
    ['a newer write event', last, request({ eventTime: at(1) }), at(1)],
    ['an older write event keeps the newer one', last, request({ eventTime: at(-1) }), T0],
    [
      'the same instant keeps the recorded text',
      last,
      request({ eventTime: '2024-05-01T14:00:00+02:00' }),
      T0,
    ],
    [
      'an offset time earlier in time (later as text) loses',
      last,
      request({ eventTime: '2024-05-01T13:00:00+02:00' }),
      T0,
    ],
    [
      'an offset time later in time (earlier as text) wins',
      committed(at(-60_000), { lastWriteEventAt: '2024-05-01T13:00:00+02:00' }),
      request({ eventTime: '2024-05-01T11:30:00Z' }),
      '2024-05-01T11:30:00Z',
    ],
    ['deleted: false counts as a write', last, request({ deleted: false, eventTime: at(1) }), at(1)],
    ['a newer delete does not move it', last, request({ deleted: true, eventTime: at(60_000) }), T0],
    ['a delete with no write event yet', none, request({ deleted: true, eventTime: at(60_000) }), undefined],
    ['an empty eventTime is no event time', last, request({ eventTime: '' }), T0],
  ])('%s → %s', (_name, h, req, expected) => {
    expect(nextWriteEventAt(h, req)).toBe(expected);
  });
});

describe('planRetirement', () => {
  const plan = (
    targets: string[],
    retiringTargets: string[],
    resolvedTargets: string[],
    disconnected: string[] = [],
  ): RetirementPlan =>
    planRetirement(head({ generation: 3, targets, retiringTargets }), {
      targets: resolvedTargets,
      disconnected,
    });

  it.each<[string, string[], string[], string[], string[], string[]]>([
    ['nothing before, nothing now', [], [], ['fw1'], [], []],
    ['unchanged targets', ['fw1', 'fw2'], [], ['fw2', 'fw1'], [], []],
    ['a firewall added', ['fw1'], [], ['fw1', 'fw2'], [], []],
    ['a firewall left the device groups', ['fw1', 'fw2'], [], ['fw1'], [], ['fw2']],
    ['a firewall now disconnected is still a member', ['fw1', 'fw2'], [], ['fw1'], ['fw2'], []],
    ['every firewall disconnected but present', ['fw1', 'fw2'], [], [], ['fw1', 'fw2'], []],
    ['only disconnected firewalls now, one of them left', ['fw1', 'fw2'], [], [], ['fw1'], ['fw2']],
    ['a retiring firewall still gone stays retiring', ['fw1'], ['fw3'], ['fw1'], [], ['fw3']],
    ['a retiring firewall back as a target is no longer retiring', ['fw1'], ['fw3'], ['fw1', 'fw3'], [], []],
    [
      'a retiring firewall back but disconnected is no longer retiring',
      ['fw1'],
      ['fw3'],
      ['fw1'],
      ['fw3'],
      [],
    ],
    ['a target also listed as retiring is retired once', ['fw1', 'fw2'], ['fw2'], ['fw1'], [], ['fw2']],
    ['all firewalls replaced by another', ['fw1', 'fw2'], [], ['fw9'], [], ['fw1', 'fw2']],
    [
      'the result is sorted',
      ['fw-c', 'fw-a'],
      ['fw-d', 'fw-b'],
      ['fw-x'],
      [],
      ['fw-a', 'fw-b', 'fw-c', 'fw-d'],
    ],
    ['duplicates in the resolution are harmless', ['fw1', 'fw2'], [], ['fw1', 'fw1'], ['fw1'], ['fw2']],
    ['a new cluster with an empty resolution has nothing to hold', [], [], [], [], []],
  ])('%s', (_name, targets, retiring, resolvedTargets, disconnected, expected) => {
    expect(plan(targets, retiring, resolvedTargets, disconnected)).toStrictEqual({ retiring: expected });
  });

  it('holds the removal from every target when the device groups resolve to no firewall', () => {
    expect(plan(['fw1', 'fw2'], [], [])).toStrictEqual({
      retiring: [],
      held: "the device groups resolve to no firewall; removal from 2 targets is held (check the cluster's deviceGroups against Panorama's device-group names)",
    });
  });

  it('while holding, still retires the targets already retiring, sorted', () => {
    const p = plan(['fw2'], ['fw3', 'fw1'], []);
    expect(p.retiring).toEqual(['fw1', 'fw3']);
    expect(p.held).toEqual(expect.stringContaining('the device groups resolve to no firewall'));
  });

  it('holding never retires a current target, even one also listed as retiring', () => {
    const p = plan(['fw1', 'fw2'], ['fw2'], []);
    expect(p.retiring).toEqual(['fw2']);
    expect(p.held).toEqual(expect.stringContaining('no firewall'));
    expect(plan(['fw1'], [], []).retiring).toEqual([]);
  });

  it('property: never retires a current target, and only targets the cluster used or was retiring', () => {
    const universe = ['fw-a', 'fw-b', 'fw-c', 'fw-d', 'fw-e', 'fw-f'];
    const subset = fc.uniqueArray(fc.constantFrom(...universe), { maxLength: universe.length });
    const list = fc.array(fc.constantFrom(...universe), { maxLength: 8 });
    fc.assert(
      fc.property(subset, subset, list, list, (targets, retiringTargets, resolvedTargets, disconnected) => {
        const h = head({ generation: 2, targets, retiringTargets });
        const resolved: ResolvedTargets = { targets: resolvedTargets, disconnected };
        const p = planRetirement(h, resolved);
        const now = new Set([...resolvedTargets, ...disconnected]);
        const before = new Set([...targets, ...retiringTargets]);
        // retiring ∩ (targets ∪ disconnected) = ∅
        expect(p.retiring.filter((t) => now.has(t))).toEqual([]);
        // retiring ⊆ head.targets ∪ head.retiringTargets
        expect(p.retiring.filter((t) => !before.has(t))).toEqual([]);
        // sorted, no duplicates
        expect(p.retiring).toEqual([...new Set(p.retiring)].sort());
        const left = [...before].filter((t) => !now.has(t)).sort();
        if (now.size > 0) {
          expect(p).toStrictEqual({ retiring: left });
        } else {
          expect(p.retiring).toEqual([...retiringTargets].sort());
          const held = targets.filter((t) => !retiringTargets.includes(t));
          expect(p.held !== undefined).toBe(held.length > 0);
        }
      }),
      { numRuns: 500 },
    );
  });
});
