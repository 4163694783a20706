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
  /**
   * Generation of the state snapshot the committed state is in (see docs/architecture.md, "State");
   * absent: the 0.1.0 layout of one row per IP (or no state yet).
   */
  snapshot?: number;
  /** SHA-256 (hex) of the canonical JSON of the committed state (`shared/state/canonicalTagMap.ts`). */
  digest?: string;
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
  'digest',
] as const;

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

/** The head of a cluster points at a snapshot that is gone or incomplete: the state is corrupt. */
export class MissingSnapshotError extends AzureError {
  constructor(cluster: string, snapshot: number) {
    super(
      `Table storage: the head of ${cluster} points at state snapshot ${snapshot}, which is missing or incomplete; the state is corrupt and is never read as empty (see README.md, "Corrupt state")`,
      { kind: FailureKind.permanent },
    );
    this.name = 'MissingSnapshotError';
  }
}

/** Options of the fenced writes of {@link ClusterStateRepository}. */
export interface FencedWriteOptions {
  /** The lease owner whose fence every transaction checks (see {@link ClusterStateRepository.createFence}). */
  fence?: string;
  /** Called before each transaction; when it throws, that transaction is not written. */
  beforeBatch?: () => void;
}

/** What {@link ClusterStateRepository.writeSnapshot} wrote: what the head that commits it records. */
export interface SnapshotWritten {
  /** The snapshot's generation (the head's `snapshot`). */
  snapshot: number;
  /** SHA-256 (hex) of the canonical JSON (the head's `digest`). */
  digest: string;
  entities: number;
  /** Compressed bytes. */
  bytes: number;
  ips: number;
  pairs: number;
}

/** The snapshots a prune keeps: the one the head points at and the one it pointed at before. */
export interface KeptSnapshots {
  current: number;
  previous?: number;
}

/**
 * True when {@link ClusterStateRepository.pruneSnapshots} removes the snapshot of `generation`:
 * older than the current one and not the previous one (a newer one may be a commit in progress).
 */
export function isPrunable(generation: number, keep: KeptSnapshots): boolean {
  return generation < keep.current && generation !== keep.previous;
}

/** Deletes per transaction when pruning (one slot of the 100 is the lease fence). */
export const PRUNE_DELETES_PER_TRANSACTION = 99;

/** What {@link ClusterStateRepository.pruneSnapshots} deleted. */
export interface PruneOutcome {
  /** Snapshot entities deleted. */
  snapshotEntities: number;
  /** Rows of the 0.1.0 layout (one per IP) deleted. */
  legacyRows: number;
}

/**
 * Per-cluster state: one head per cluster (generation, lease, bookkeeping, the pointer to the
 * committed snapshot and its digest) and immutable compressed snapshots of `{ip → tags}`, one per
 * committed generation, addressed case-insensitively by cluster name (see docs/architecture.md,
 * "State"). A head without a pointer reads the 0.1.0 layout (one row per IP). Bookkeeping rows are
 * never read as IPs. Storage failures throw an `AzureError` classified by its cause.
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
  /**
   * Reads the state `head` points at: its snapshot (checked against its digest), or the 0.1.0 IP
   * rows when it points at none. Undefined when the snapshot is gone or incomplete — a newer commit
   * may have removed it: {@link readCommittedState} re-reads the head then.
   */
  readSnapshot(cluster: string, head: ClusterHead): Promise<Map<string, readonly string[]> | undefined>;
  /** The committed state of a cluster (see {@link readCommittedState}); empty without a head. */
  readIpTags(cluster: string): Promise<Map<string, readonly string[]>>;
  /**
   * The committed tags of the given IPs; IPs without tags are absent from the result. `head`: a head
   * the caller just read, so that it is not read again (a push checks its generation against it).
   */
  readIpTagsFor(
    cluster: string,
    ips: readonly string[],
    head?: ClusterHead,
  ): Promise<Map<string, readonly string[]>>;
  /**
   * Writes the snapshot of `generation` (IPs without tags left out), nobody's state until a head
   * points at it. Idempotent. Entities go in transactions of a few; a failure may leave some
   * written (an orphan, removed by a later prune).
   *
   * With `fence`, every transaction is conditional on that owner's fence row: once the fence was
   * dropped (the lease was taken over), no further transaction lands and the write fails with
   * {@link LeaseLostError}.
   */
  writeSnapshot(
    cluster: string,
    generation: number,
    tags: IpTagMap,
    options?: FencedWriteOptions,
  ): Promise<SnapshotWritten>;
  /**
   * Deletes the snapshots older than `keep.current` except `keep.previous` (never a newer one: it
   * may be a recompute's commit in progress) and every 0.1.0 IP row. Idempotent, fenced like
   * {@link writeSnapshot}.
   */
  pruneSnapshots(cluster: string, keep: KeptSnapshots, options?: FencedWriteOptions): Promise<PruneOutcome>;
  /** Creates the fence row of a lease owner (before it takes the lease). Idempotent. */
  createFence(cluster: string, owner: string): Promise<void>;
  /** Drops the fence row of a lease owner: its later fenced writes fail. Idempotent (404-tolerant). */
  dropFence(cluster: string, owner: string): Promise<void>;
}
