import type { ClusterStatus, StatusReport } from '../../shared/pipeline/collectStatus.js';

/** A healthy cluster's status (aks-a, generation 3, synced, no targets), with `fields` over it. */
export function clusterStatus(fields: Partial<ClusterStatus> = {}): ClusterStatus {
  return {
    cluster: 'aks-a',
    generation: 3,
    ipCount: 2,
    tagCount: 4,
    heldRemovals: 0,
    ipsOverBudget: 0,
    policyWarnings: [],
    targetProblems: [],
    synced: true,
    retiringTargets: [],
    recomputing: false,
    monitored: true,
    targets: [],
    lastRecomputeResult: 'changed',
    ...fields,
  };
}

/** A status report of one {@link clusterStatus} and 3 pending deltas, with `fields` over it. */
export function statusReport(fields: Partial<StatusReport> = {}): StatusReport {
  return {
    generatedAt: '2026-12-01T00:00:00.000Z',
    clusters: [clusterStatus()],
    audits: [],
    queues: [
      { name: 'cluster-recompute', depth: 0 },
      { name: 'tag-deltas', depth: 3 },
      { name: 'cluster-recompute-poison', depth: 0 },
      { name: 'tag-deltas-poison', depth: 0 },
    ],
    poisonedSample: {},
    pendingSample: {},
    ...fields,
  };
}
