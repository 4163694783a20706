import { describe, expect, it } from 'vitest';
import { loadEventGridSubscriptions } from '../../../shared/config/eventGridSubscriptions.js';
import { eventCoverage, eventCoverageByCluster } from '../../../shared/pipeline/eventCoverage.js';

const A = 'AAAAAAAA-0000-0000-0000-000000000001';
const B = 'bbbbbbbb-0000-0000-0000-000000000002';

describe('EVENT_GRID_SUBSCRIPTIONS', () => {
  it.each([
    { raw: undefined, expected: undefined, problems: 0 },
    { raw: '  ', expected: undefined, problems: 0 },
    { raw: 'none', expected: [], problems: 0 },
    { raw: 'NONE', expected: [], problems: 0 },
    { raw: `${A}, ${B},`, expected: [A.toLowerCase(), B], problems: 0 },
    { raw: `${A},sub-two`, expected: [A.toLowerCase()], problems: 1 },
  ])('$raw → $expected ($problems problems)', ({ raw, expected, problems }) => {
    const found: string[] = [];

    expect(loadEventGridSubscriptions({ EVENT_GRID_SUBSCRIPTIONS: raw }, found)).toEqual(expected);
    expect(found).toHaveLength(problems);
    if (problems) expect(found[0]).toMatch(/^EVENT_GRID_SUBSCRIPTIONS: "sub-two" is not a subscription GUID/);
  });
});

describe('eventCoverage', () => {
  const inA = { subscriptionId: A.toLowerCase(), resourceGroup: 'rg-a' };
  const inB = { subscriptionId: B, resourceGroup: 'rg-b' };

  it.each([
    {
      name: 'a covered subscription',
      cluster: inA,
      subs: [A.toLowerCase()],
      mode: 'events',
      reason: undefined,
    },
    {
      name: 'matched whatever the case',
      cluster: { ...inA, subscriptionId: A },
      subs: [A.toLowerCase()],
      mode: 'events',
      reason: undefined,
    },
    {
      name: 'another subscription',
      cluster: inB,
      subs: [A.toLowerCase()],
      mode: 'timer-only',
      reason: `subscription ${B} has no Event Grid subscription`,
    },
    {
      name: 'before phase two',
      cluster: inA,
      subs: [],
      mode: 'timer-only',
      reason: 'phase two of the deployment has not run',
    },
    {
      name: 'no ARM scope',
      cluster: {},
      subs: [A.toLowerCase()],
      mode: 'timer-only',
      reason: 'no subscriptionId and resourceGroup',
    },
    { name: 'setting unset', cluster: inA, subs: undefined, mode: 'unknown', reason: undefined },
  ])('$name: $mode', ({ cluster, subs, mode, reason }) => {
    const coverage = eventCoverage(cluster, subs);

    expect(coverage.mode).toBe(mode);
    if (reason) expect(coverage.reason).toContain(reason);
    else expect(coverage.reason).toBeUndefined();
  });

  it('keys the coverage of every cluster by its lower-case name', () => {
    const coverage = eventCoverageByCluster(
      [{ name: 'AKS-A', ...inA }, { name: 'aks-edge' }],
      [A.toLowerCase()],
    );

    expect(Object.keys(coverage).sort()).toEqual(['aks-a', 'aks-edge']);
    expect(coverage['aks-a']?.mode).toBe('events');
    expect(coverage['aks-edge']?.mode).toBe('timer-only');
  });
});
