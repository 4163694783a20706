import { odata, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import pLimit from 'p-limit';
import { AzureError, classify, FailureKind } from '../errors.js';
import type { IpTagMap } from '../tags/IpTagMap.js';

/** Table holding one partition per cluster: a head entity plus one row per IP. */
export const CLUSTER_STATE_TABLE = 'clusterstate';

/** RowKey of a cluster's head entity (IPs never start with `_`). */
export const HEAD_ROW_KEY = '_head';

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
  /** Set when the cluster was deleted: its state is empty and all its tags were scheduled for removal. */
  deletedAt?: string;
  /** The targets the last recompute sent to (used when a deleted cluster is gone from the directory). */
  targets: string[];
  resourceId?: string;
  etag: string;
}

/** The head as stored: optional strings are stored as `''` (a Replace must clear them), targets as JSON. */
type HeadEntity = Omit<ClusterHead, 'etag' | 'targets'> & {
  partitionKey: string;
  rowKey: string;
  targets?: string;
};

const OPTIONAL_HEAD_FIELDS = [
  'leaseOwner',
  'leaseUntil',
  'lastRecomputeStartedAt',
  'lastRecomputeAt',
  'lastRecomputeResult',
  'lastError',
  'lastErrorAt',
  'deletedAt',
  'resourceId',
] as const;

type IpEntity = { partitionKey: string; rowKey: string; tags: string; generation: number };

/** The partition key of a cluster (cluster names are unique case-insensitively). */
export function clusterPartition(cluster: string): string {
  return cluster.toLowerCase();
}

function toHead(e: TableEntityResult<HeadEntity>): ClusterHead {
  let targets: string[] = [];
  try {
    targets = e.targets ? (JSON.parse(e.targets) as string[]) : [];
  } catch {
    targets = [];
  }
  const head: ClusterHead = {
    cluster: e.cluster,
    generation: Number(e.generation ?? 0),
    pendingGeneration: Number(e.pendingGeneration ?? e.generation ?? 0),
    ipCount: Number(e.ipCount ?? 0),
    tagCount: Number(e.tagCount ?? 0),
    targets,
    etag: e.etag,
  };
  for (const k of OPTIONAL_HEAD_FIELDS) {
    const v = e[k];
    if (typeof v === 'string' && v !== '') head[k] = v;
  }
  return head;
}

function fromHead(head: Omit<ClusterHead, 'etag'>): HeadEntity {
  const entity: HeadEntity = {
    partitionKey: clusterPartition(head.cluster),
    rowKey: HEAD_ROW_KEY,
    cluster: head.cluster,
    generation: head.generation,
    pendingGeneration: head.pendingGeneration,
    ipCount: head.ipCount,
    tagCount: head.tagCount,
    targets: JSON.stringify(head.targets),
  };
  for (const k of OPTIONAL_HEAD_FIELDS) entity[k] = head[k] ?? '';
  return entity;
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function storageError(what: string, err: unknown): AzureError {
  const kind = classify(err);
  return new AzureError(
    `Table storage: ${what} failed (${statusOf(err) ?? (err as Error)?.message ?? 'error'})`,
    {
      kind: kind === FailureKind.authentication ? FailureKind.authentication : kind,
      cause: err,
    },
  );
}

/** Thrown when an ETag-conditional write lost a race. */
export class ConcurrencyConflictError extends AzureError {
  constructor(what: string) {
    super(`Table storage: ${what} changed concurrently`, { kind: FailureKind.conflict });
    this.name = 'ConcurrencyConflictError';
  }
}

/**
 * Per-cluster state in Table Storage: the head entity (generation, lease) and one row per IP with its
 * sorted tags. Writes of IP rows go in 100-entity transactions (one partition), several at a time.
 */
export class ClusterStateStore {
  readonly #table: TableClient;
  #created = false;

  constructor(table: TableClient) {
    this.#table = table;
  }

  /** Creates the table if needed (idempotent). */
  async ensureTable(): Promise<void> {
    if (this.#created) return;
    try {
      await this.#table.createTable();
    } catch (err) {
      if (statusOf(err) !== 409) throw storageError('create table', err);
    }
    this.#created = true;
  }

  /** Reads a cluster's head, or undefined when the cluster has no state yet. */
  async getHead(cluster: string): Promise<ClusterHead | undefined> {
    await this.ensureTable();
    try {
      return toHead(await this.#table.getEntity<HeadEntity>(clusterPartition(cluster), HEAD_ROW_KEY));
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw storageError(`read head of ${cluster}`, err);
    }
  }

  /** Lists the heads of every cluster with state. */
  async listHeads(): Promise<ClusterHead[]> {
    await this.ensureTable();
    const heads: ClusterHead[] = [];
    try {
      for await (const e of this.#table.listEntities<HeadEntity>({
        queryOptions: { filter: odata`RowKey eq ${HEAD_ROW_KEY}` },
      })) {
        heads.push(toHead(e));
      }
    } catch (err) {
      throw storageError('list clusters', err);
    }
    return heads.sort((a, b) => a.cluster.localeCompare(b.cluster));
  }

  /** Creates a head (fails with a conflict error when one exists already). */
  async createHead(head: Omit<ClusterHead, 'etag'>): Promise<ClusterHead> {
    await this.ensureTable();
    try {
      const res = await this.#table.createEntity(fromHead(head));
      return { ...head, etag: res.etag ?? '' };
    } catch (err) {
      if (statusOf(err) === 409) throw new ConcurrencyConflictError(`head of ${head.cluster}`);
      throw storageError(`create head of ${head.cluster}`, err);
    }
  }

  /** Replaces a head if its ETag still matches; throws {@link ConcurrencyConflictError} otherwise. */
  async replaceHead(head: ClusterHead): Promise<ClusterHead> {
    try {
      const res = await this.#table.updateEntity(fromHead(head), 'Replace', { etag: head.etag });
      return { ...head, etag: res.etag ?? '' };
    } catch (err) {
      if (statusOf(err) === 412 || statusOf(err) === 404)
        throw new ConcurrencyConflictError(`head of ${head.cluster}`);
      throw storageError(`update head of ${head.cluster}`, err);
    }
  }

  /** Reads every IP row of a cluster as an {@link IpTagMap}. */
  async readIpTags(cluster: string): Promise<Map<string, readonly string[]>> {
    await this.ensureTable();
    const out = new Map<string, readonly string[]>();
    const pk = clusterPartition(cluster);
    try {
      for await (const e of this.#table.listEntities<IpEntity>({
        queryOptions: {
          filter: odata`PartitionKey eq ${pk} and RowKey ne ${HEAD_ROW_KEY}`,
        },
      })) {
        out.set(e.rowKey, JSON.parse(e.tags) as string[]);
      }
    } catch (err) {
      throw storageError(`read state of ${cluster}`, err);
    }
    return out;
  }

  /**
   * Reads the rows of the given IPs (sorted). Dense sets are read with one range query, sparse ones
   * with point reads. IPs without a row are absent from the result.
   */
  async readIpTagsFor(cluster: string, ips: readonly string[]): Promise<Map<string, readonly string[]>> {
    await this.ensureTable();
    const out = new Map<string, readonly string[]>();
    if (ips.length === 0) return out;
    const pk = clusterPartition(cluster);
    const wanted = new Set(ips);
    const sorted = [...wanted].sort();
    try {
      if (sorted.length > 20) {
        const lo = sorted[0] as string;
        const hi = sorted[sorted.length - 1] as string;
        for await (const e of this.#table.listEntities<IpEntity>({
          queryOptions: { filter: odata`PartitionKey eq ${pk} and RowKey ge ${lo} and RowKey le ${hi}` },
        })) {
          if (wanted.has(e.rowKey)) out.set(e.rowKey, JSON.parse(e.tags) as string[]);
        }
        return out;
      }
      const limit = pLimit(8);
      await Promise.all(
        sorted.map((ip) =>
          limit(async () => {
            try {
              const e = await this.#table.getEntity<IpEntity>(pk, ip);
              out.set(ip, JSON.parse(e.tags) as string[]);
            } catch (err) {
              if (statusOf(err) !== 404) throw err;
            }
          }),
        ),
      );
    } catch (err) {
      throw storageError(`read state of ${cluster}`, err);
    }
    return out;
  }

  /**
   * Writes IP rows: `upserts` replace the tags of their IPs, `deletes` remove rows. Runs in
   * 100-entity transactions, `concurrency` at a time. Idempotent.
   */
  async writeIpTags(
    cluster: string,
    upserts: IpTagMap,
    deletes: readonly string[],
    generation: number,
    concurrency = 8,
  ): Promise<void> {
    await this.ensureTable();
    const pk = clusterPartition(cluster);
    const actions: TransactionAction[] = [];
    for (const [ip, tags] of upserts) {
      actions.push([
        'upsert',
        { partitionKey: pk, rowKey: ip, tags: JSON.stringify(tags), generation },
        'Replace',
      ]);
    }
    for (const ip of deletes) actions.push(['delete', { partitionKey: pk, rowKey: ip }]);
    const limit = pLimit(concurrency);
    const batches: TransactionAction[][] = [];
    for (let i = 0; i < actions.length; i += 100) batches.push(actions.slice(i, i + 100));
    await Promise.all(
      batches.map((batch) =>
        limit(async () => {
          try {
            await this.#table.submitTransaction(batch);
          } catch (err) {
            if (statusOf(err) !== 404) throw storageError(`write state of ${cluster}`, err);
            // A delete of a row that is already gone fails the whole batch: retry one by one.
            for (const action of batch) await this.#applyOne(action);
          }
        }),
      ),
    );
  }

  async #applyOne(action: TransactionAction): Promise<void> {
    const [op, entity] = action;
    try {
      if (op === 'delete') await this.#table.deleteEntity(entity.partitionKey, entity.rowKey);
      else await this.#table.upsertEntity(entity, 'Replace');
    } catch (err) {
      if (!(op === 'delete' && statusOf(err) === 404)) throw storageError('write state', err);
    }
  }
}
