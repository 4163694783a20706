import { describe, expect, it } from 'vitest';
import type { TagDelta } from '../../../shared/diff/TagDelta.js';
import { type PushPlan, planPush } from '../../../shared/pipeline/pushTagDeltas.js';

const IP = '10.0.0.1';
const delta = (register: string[], unregister: string[] = []): TagDelta => ({ ip: IP, register, unregister });

/** Level-triggered pushes, as a table: only what still holds in the state is sent. */
const cases: [string, TagDelta[], Record<string, string[]>, PushPlan][] = [
  [
    'a tag the state still has is registered',
    [delta(['aks.a.web'])],
    { [IP]: ['aks.a.web'] },
    {
      register: [{ ip: IP, tags: ['aks.a.web'] }],
      unregister: [],
      registerCount: 1,
      unregisterCount: 0,
      skipped: 0,
    },
  ],
  [
    'a tag the state no longer has is not registered (a newer generation removed it)',
    [delta(['aks.a.web'])],
    {},
    { register: [], unregister: [], registerCount: 0, unregisterCount: 0, skipped: 1 },
  ],
  [
    'a tag the state no longer has is unregistered',
    [delta([], ['aks.a.old'])],
    { [IP]: ['aks.a.web'] },
    {
      register: [],
      unregister: [{ ip: IP, tags: ['aks.a.old'] }],
      registerCount: 0,
      unregisterCount: 1,
      skipped: 0,
    },
  ],
  [
    'a tag the state has again is not unregistered (a replay of an old message)',
    [delta([], ['aks.a.web'])],
    { [IP]: ['aks.a.web'] },
    { register: [], unregister: [], registerCount: 0, unregisterCount: 0, skipped: 1 },
  ],
  [
    'one IP split across two deltas is planned pair by pair',
    [delta(['aks.a.x']), delta(['aks.a.y'], ['aks.a.z'])],
    { [IP]: ['aks.a.x', 'aks.a.y'] },
    {
      register: [
        { ip: IP, tags: ['aks.a.x'] },
        { ip: IP, tags: ['aks.a.y'] },
      ],
      unregister: [{ ip: IP, tags: ['aks.a.z'] }],
      registerCount: 2,
      unregisterCount: 1,
      skipped: 0,
    },
  ],
];

describe('planPush', () => {
  it.each(cases)('%s', (_what, deltas, state, expected) => {
    expect(planPush(deltas, new Map(Object.entries(state)))).toEqual(expected);
  });
});
