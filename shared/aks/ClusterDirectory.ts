import type { ClusterConfig } from '../config/loadConfig.js';

/**
 * The monitored clusters: those of `CLUSTERS` plus, when discovery is configured, every AKS cluster
 * of the discovery subscriptions carrying the discovery tag. Names are unique (case-insensitively).
 */
export interface ClusterDirectory {
  listClusters(): Promise<ClusterConfig[]>;
  /**
   * Asks ARM whether a cluster named by a delete event is really gone: `gone` on a 404, `exists` when
   * ARM still has it (a stale or reordered event), `unconfirmed` when ARM cannot be asked (no ARM
   * coordinates, no identity, or no read permission). Throws (retryable) when ARM fails.
   */
  confirmDeleted(cluster: ClusterConfig): Promise<DeleteCheck>;
}

/** What ARM says about a cluster named by a delete event. */
export type DeleteCheck = 'gone' | 'exists' | 'unconfirmed';
