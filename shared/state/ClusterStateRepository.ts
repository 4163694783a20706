import { AzureError, FailureKind } from '../errors.js';
import type { IpTagMap } from '../tags/IpTagMap.js';

/** The head entity of a cluster: generation, lease and recompute bookkeeping. */
export interface ClusterHead {
  cluster: string;
  /** Generation of the committed state. Messages with a newer generation wait. */
  generation: number;
  /** Highest generation a recompute announced before enqueueing (≥ generation). */
  pendingGeneration: number;
  leaseOwner?: string;
  /** ISO time the lease expires. */
  leaseUntil?: string;
  lastRecomputeStartedAt?: string;
  lastRecomputeAt?: string;
  lastRecomputeResult?: string;
  lastError?: string;
  lastErrorAt?: string;
  ipCount: number;
  tagCount: number;
  /**
   * (ip, tag) pairs the removal guard is holding (0: none): they stay in the committed state until
   * a recompute may remove them (`reconcile --allow-removals`, or the cause is fixed).
   */
  heldRemovals: number;
  /** The committed (ip, tag) pairs when the current hold began (0: no hold); the guard's base while it lasts. */
  holdBasePairs: number;
  /** IPs whose tags the last committed recompute cut to their tag budget (`MAX_TAGS_PER_IP`). */
  ipsOverBudget: number;
  /**
   * What the last recompute found doubtful in the cluster's policy tags (a Service tag shared by
   * several namespaces, a selector that matches nothing), one line each, at most 2,000 characters.
   */
  policyWarnings?: string;
  /**
   * What the last resolution of the cluster's targets found wrong, one line each (a notify device
   * group that resolves to no firewall): set by a recompute that resolved its targets and by the
   * audit, kept by a recompute that did not.
   */
  targetProblems?: string;
  /** Set when the cluster was deleted: its state is empty and all its tags were scheduled for removal. */
  deletedAt?: string;
  /** The targets the last recompute sent to (used when a deleted cluster is gone from the directory). */
  targets: string[];
  /**
   * Targets the cluster no longer uses (a firewall left its device groups) whose owned tags the audit
   * still has to remove.
   */
  retiringTargets: string[];
  /** Start time of the last recompute that committed: requests older than this are covered by it. */
  syncedFrom?: string;
  /** `eventTime` of the newest write event a committed recompute acted on (a staler delete event loses). */
  lastWriteEventAt?: string;
  resourceId?: string;
  etag: string;
}

/**
 * The optional string fields of a {@link ClusterHead}. A write stores `''` for an absent one (so a
 * replace clears it); a read leaves out every one that is `''`.
 */
export const OPTIONAL_HEAD_FIELDS = [
  'leaseOwner',
  'leaseUntil',
  'lastRecomputeStartedAt',
  'lastRecomputeAt',
  'lastRecomputeResult',
  'lastError',
  'lastErrorAt',
  'deletedAt',
  'resourceId',
  'syncedFrom',
  'lastWriteEventAt',
  'policyWarnings',
  'targetProblems',
] as const;

/** The longest tag list (as JSON) one IP row holds. */
export const MAX_IP_TAGS_JSON_CHARS = 450_000;

/** True when an IP's tags fit in its state row. */
export function fitsInIpRow(tags: readonly string[]): boolean {
  return JSON.stringify(tags).length <= MAX_IP_TAGS_JSON_CHARS;
}

/** The partition key of a cluster (cluster names are unique case-insensitively). */
export function clusterPartition(cluster: string): string {
  return cluster.toLowerCase();
}

/** Thrown when an ETag-conditional write lost a race. */
export class ConcurrencyConflictError extends AzureError {
  constructor(what: string) {
    super(`Table storage: ${what} changed concurrently`, { kind: FailureKind.conflict });
    this.name = 'ConcurrencyConflictError';
  }
}

/** Thrown when a fenced write finds its lease taken over: the writer must stop. */
export class LeaseLostError extends AzureError {
  constructor(cluster: string) {
    super(`Table storage: the lease on ${cluster} was taken over; this recompute stopped writing`, {
      kind: FailureKind.conflict,
    });
    this.name = 'LeaseLostError';
  }
}

/** Options of {@link ClusterStateRepository.writeIpTags}. */
export interface WriteIpTagsOptions {
  /** Transactions written at the same time (a performance hint). */
  concurrency?: number;
  /** The lease owner whose fence every transaction checks (see {@link ClusterStateRepository.createFence}). */
  fence?: string;
  /** Called before each transaction; when it throws, that transaction is not written. */
  beforeBatch?: () => void;
}

/**
 * Per-cluster state: one head per cluster (generation, lease, bookkeeping) and one row per IP with
 * its sorted tags, addressed case-insensitively by cluster name (see docs/architecture.md, "State").
 * Bookkeeping rows (the head, lease fences) are never read as IPs. Storage failures throw an
 * `AzureError` classified by its cause (retryable, authentication, …).
 */
export interface ClusterStateRepository {
  /** Reads a cluster's head, or undefined when the cluster has no state yet. */
  getHead(cluster: string): Promise<ClusterHead | undefined>;
  /** Lists the heads of every cluster with state, sorted by cluster name. */
  listHeads(): Promise<ClusterHead[]>;
  /**
   * Creates a head and returns it with its ETag; throws {@link ConcurrencyConflictError} when the
   * cluster has a head already.
   */
  createHead(head: Omit<ClusterHead, 'etag'>): Promise<ClusterHead>;
  /**
   * Replaces a head if its ETag still matches and returns it with its new ETag (every write changes
   * it); throws {@link ConcurrencyConflictError} when the ETag no longer matches or the head is gone.
   */
  replaceHead(head: ClusterHead): Promise<ClusterHead>;
  /** Reads every IP row of a cluster. */
  readIpTags(cluster: string): Promise<Map<string, readonly string[]>>;
  /** Reads the rows of the given IPs; IPs without a row are absent from the result. */
  readIpTagsFor(cluster: string, ips: readonly string[]): Promise<Map<string, readonly string[]>>;
  /**
   * Writes IP rows: `upserts` replace the tags (and `generation`) of their IPs, `deletes` remove rows
   * (a row already gone is fine). Idempotent; lists must satisfy {@link fitsInIpRow}. Written in
   * transactions of at most 100 rows: a failure may leave earlier transactions written.
   *
   * With `fence`, every transaction is conditional on that owner's fence row: once the fence was
   * dropped (the lease was taken over), no further transaction lands and the write fails with
   * {@link LeaseLostError}.
   */
  writeIpTags(
    cluster: string,
    upserts: IpTagMap,
    deletes: readonly string[],
    generation: number,
    options?: WriteIpTagsOptions,
  ): Promise<void>;
  /** Creates the fence row of a lease owner (before it takes the lease). Idempotent. */
  createFence(cluster: string, owner: string): Promise<void>;
  /** Drops the fence row of a lease owner: its later fenced writes fail. Idempotent (404-tolerant). */
  dropFence(cluster: string, owner: string): Promise<void>;
}
