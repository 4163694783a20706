import { odata, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import pLimit from 'p-limit';
import type { IpTagMap } from '../tags/IpTagMap.js';
import {
  type ClusterHead,
  type ClusterStateRepository,
  ConcurrencyConflictError,
  clusterPartition,
  LeaseLostError,
  OPTIONAL_HEAD_FIELDS,
  type WriteIpTagsOptions,
} from './ClusterStateRepository.js';
import { storageError, storageStatusOf } from './storageError.js';

export {
  type ClusterHead,
  ConcurrencyConflictError,
  clusterPartition,
  fitsInIpRow,
  LeaseLostError,
  MAX_IP_TAGS_JSON_CHARS,
} from './ClusterStateRepository.js';

/** Table holding one partition per cluster: a head entity plus one row per IP. */
export const CLUSTER_STATE_TABLE = 'clusterstate';

/** RowKey of a cluster's head entity (IPs never start with `_`). */
export const HEAD_ROW_KEY = '_head';

/** The head as stored: optional strings are stored as `''` (a Replace must clear them), targets as JSON. */
type HeadEntity = Omit<ClusterHead, 'etag' | 'targets' | 'retiringTargets'> & {
  partitionKey: string;
  rowKey: string;
  targets?: string;
  retiringTargets?: string;
};

type IpEntity = { partitionKey: string; rowKey: string; tags: string; generation: number } & Record<
  string,
  unknown
>;

/**
 * Characters of tag JSON per string property (Table Storage allows 64 KiB, i.e. 32 K UTF-16 units,
 * per string property); longer lists continue in `tags_1`, `tags_2`, …: `MAX_IP_TAGS_JSON_CHARS` is
 * 15 properties, well inside the 1 MiB entity limit.
 */
const TAGS_PROPERTY_CHARS = 30_000;

function ipEntity(pk: string, ip: string, tags: readonly string[], generation: number): IpEntity {
  const json = JSON.stringify(tags);
  const entity: IpEntity = {
    partitionKey: pk,
    rowKey: ip,
    tags: json.slice(0, TAGS_PROPERTY_CHARS),
    generation,
  };
  for (let i = 1; i * TAGS_PROPERTY_CHARS < json.length; i++) {
    entity[`tags_${i}`] = json.slice(i * TAGS_PROPERTY_CHARS, (i + 1) * TAGS_PROPERTY_CHARS);
  }
  return entity;
}

function ipTagsOf(e: IpEntity): string[] {
  let json = e.tags;
  for (let i = 1; typeof e[`tags_${i}`] === 'string'; i++) json += e[`tags_${i}`] as string;
  return JSON.parse(json) as string[];
}

/** RowKey prefix of lease fences (IPs never start with `_`). */
const FENCE_PREFIX = '_fence-';

function fenceKey(owner: string): string {
  return `${FENCE_PREFIX}${owner.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** True for rows that are not IP rows (the head, fences). */
function isBookkeeping(rowKey: string): boolean {
  return rowKey.startsWith('_');
}

function parseList(json: string | undefined): string[] {
  try {
    const list: unknown = json ? JSON.parse(json) : [];
    return Array.isArray(list) ? list.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

function toHead(e: TableEntityResult<HeadEntity>): ClusterHead {
  const head: ClusterHead = {
    cluster: e.cluster,
    generation: Number(e.generation ?? 0),
    pendingGeneration: Number(e.pendingGeneration ?? e.generation ?? 0),
    ipCount: Number(e.ipCount ?? 0),
    tagCount: Number(e.tagCount ?? 0),
    heldRemovals: Number(e.heldRemovals ?? 0),
    holdBasePairs: Number(e.holdBasePairs ?? 0),
    ipsOverBudget: Number(e.ipsOverBudget ?? 0),
    targets: parseList(e.targets),
    retiringTargets: parseList(e.retiringTargets),
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
    heldRemovals: head.heldRemovals,
    holdBasePairs: head.holdBasePairs,
    ipsOverBudget: head.ipsOverBudget,
    targets: JSON.stringify(head.targets),
    retiringTargets: JSON.stringify(head.retiringTargets),
  };
  for (const k of OPTIONAL_HEAD_FIELDS) entity[k] = head[k] ?? '';
  return entity;
}

/**
 * {@link ClusterStateRepository} in Table Storage: the head entity (generation, lease) and one row per
 * IP with its sorted tags. Writes of IP rows go in 100-entity transactions (one partition), several at a time.
 */
export class ClusterStateStore implements ClusterStateRepository {
  readonly #table: TableClient;
  #created = false;

  constructor(table: TableClient) {
    this.#table = table;
  }

  #error(what: string, err: unknown) {
    return storageError('Table storage', this.#table.url, what, err);
  }

  /** Creates the table if needed (idempotent). */
  async ensureTable(): Promise<void> {
    if (this.#created) return;
    try {
      await this.#table.createTable();
    } catch (err) {
      if (storageStatusOf(err) !== 409) throw this.#error('create table', err);
    }
    this.#created = true;
  }

  /** Reads a cluster's head, or undefined when the cluster has no state yet. */
  async getHead(cluster: string): Promise<ClusterHead | undefined> {
    await this.ensureTable();
    try {
      return toHead(await this.#table.getEntity<HeadEntity>(clusterPartition(cluster), HEAD_ROW_KEY));
    } catch (err) {
      if (storageStatusOf(err) === 404) return undefined;
      throw this.#error(`read head of ${cluster}`, err);
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
      throw this.#error('list clusters', err);
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
      if (storageStatusOf(err) === 409) throw new ConcurrencyConflictError(`head of ${head.cluster}`);
      throw this.#error(`create head of ${head.cluster}`, err);
    }
  }

  /** Replaces a head if its ETag still matches; throws {@link ConcurrencyConflictError} otherwise. */
  async replaceHead(head: ClusterHead): Promise<ClusterHead> {
    try {
      const res = await this.#table.updateEntity(fromHead(head), 'Replace', { etag: head.etag });
      return { ...head, etag: res.etag ?? '' };
    } catch (err) {
      if (storageStatusOf(err) === 412 || storageStatusOf(err) === 404)
        throw new ConcurrencyConflictError(`head of ${head.cluster}`);
      throw this.#error(`update head of ${head.cluster}`, err);
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
        if (!isBookkeeping(e.rowKey)) out.set(e.rowKey, ipTagsOf(e));
      }
    } catch (err) {
      throw this.#error(`read state of ${cluster}`, err);
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
          if (wanted.has(e.rowKey)) out.set(e.rowKey, ipTagsOf(e));
        }
        return out;
      }
      const limit = pLimit(8);
      await Promise.all(
        sorted.map((ip) =>
          limit(async () => {
            try {
              const e = await this.#table.getEntity<IpEntity>(pk, ip);
              out.set(ip, ipTagsOf(e));
            } catch (err) {
              if (storageStatusOf(err) !== 404) throw err;
            }
          }),
        ),
      );
    } catch (err) {
      throw this.#error(`read state of ${cluster}`, err);
    }
    return out;
  }

  /**
   * Writes IP rows: `upserts` replace the tags of their IPs, `deletes` remove rows. Runs in
   * 100-entity transactions, `concurrency` at a time. Idempotent.
   *
   * With `fence` (the lease owner), every transaction also touches that owner's fence row (see
   * {@link createFence}), so once another recompute has taken the lease over and dropped the fence,
   * no further write of this one lands: it fails with {@link LeaseLostError}.
   */
  async writeIpTags(
    cluster: string,
    upserts: IpTagMap,
    deletes: readonly string[],
    generation: number,
    options: WriteIpTagsOptions = {},
  ): Promise<void> {
    await this.ensureTable();
    const pk = clusterPartition(cluster);
    const actions: TransactionAction[] = [];
    for (const [ip, tags] of upserts) actions.push(['upsert', ipEntity(pk, ip, tags, generation), 'Replace']);
    for (const ip of deletes) actions.push(['delete', { partitionKey: pk, rowKey: ip }]);
    const fence: TransactionAction[] = options.fence
      ? [['update', { partitionKey: pk, rowKey: fenceKey(options.fence) }, 'Merge']]
      : [];
    const size = 100 - fence.length;
    const limit = pLimit(options.concurrency ?? 8);
    const batches: TransactionAction[][] = [];
    for (let i = 0; i < actions.length; i += size) batches.push(actions.slice(i, i + size));
    await Promise.all(
      batches.map((batch) =>
        limit(async () => {
          options.beforeBatch?.();
          await this.#submit(cluster, batch, fence);
        }),
      ),
    );
  }

  /** Creates the fence row of a lease owner (before it takes the lease). */
  async createFence(cluster: string, owner: string): Promise<void> {
    await this.ensureTable();
    try {
      await this.#table.upsertEntity(
        { partitionKey: clusterPartition(cluster), rowKey: fenceKey(owner) },
        'Replace',
      );
    } catch (err) {
      throw this.#error(`create the lease fence of ${cluster}`, err);
    }
  }

  /** Drops the fence row of a lease owner: its later fenced writes fail. Idempotent. */
  async dropFence(cluster: string, owner: string): Promise<void> {
    try {
      await this.#table.deleteEntity(clusterPartition(cluster), fenceKey(owner));
    } catch (err) {
      if (storageStatusOf(err) !== 404) throw this.#error(`drop the lease fence of ${cluster}`, err);
    }
  }

  async #exists(pk: string, rowKey: string): Promise<boolean> {
    try {
      await this.#table.getEntity(pk, rowKey);
      return true;
    } catch (err) {
      if (storageStatusOf(err) === 404) return false;
      throw err;
    }
  }

  /**
   * Submits one transaction. A 404 fails the whole transaction: either the fence is gone (the lease
   * was lost) or a delete named a row that is gone already; then the transaction is submitted again
   * without those deletes.
   */
  async #submit(cluster: string, batch: TransactionAction[], fence: TransactionAction[]): Promise<void> {
    let actions = batch;
    for (let attempt = 0; actions.length > 0; attempt++) {
      let failure: unknown;
      try {
        await this.#table.submitTransaction([...fence, ...actions]);
        return;
      } catch (err) {
        failure = err;
      }
      if (storageStatusOf(failure) !== 404) throw this.#error(`write state of ${cluster}`, failure);
      try {
        const fenceRow = fence[0]?.[1];
        if (fenceRow && !(await this.#exists(fenceRow.partitionKey, fenceRow.rowKey)))
          throw new LeaseLostError(cluster);
        if (attempt > 0) throw failure;
        const present: TransactionAction[] = [];
        for (const action of actions) {
          const [op, entity] = action;
          if (op !== 'delete' || (await this.#exists(entity.partitionKey, entity.rowKey)))
            present.push(action);
        }
        actions = present;
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        throw this.#error(`write state of ${cluster}`, err);
      }
    }
  }
}
