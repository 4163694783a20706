import type { ClusterConfig } from '../config/loadConfig.js';

/**
 * The monitored clusters: those of `CLUSTERS` plus, when discovery is configured, every AKS cluster
 * of the discovery subscriptions carrying the discovery tag. Names are unique (case-insensitively).
 */
export interface ClusterDirectory {
  listClusters(): Promise<ClusterConfig[]>;
}
