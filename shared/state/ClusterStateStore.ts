import { odata, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import type { IpTagMap } from '../tags/IpTagMap.js';
import {
  type ClusterHead,
  type ClusterStateRepository,
  ConcurrencyConflictError,
  clusterPartition,
  type FencedWriteOptions,
  isPrunable,
  type KeptSnapshots,
  LeaseLostError,
  OPTIONAL_HEAD_FIELDS,
  PRUNE_DELETES_PER_TRANSACTION,
  type PruneOutcome,
  type SnapshotWritten,
} from './ClusterStateRepository.js';
import { readCommittedState, tagsOfIps } from './readCommittedState.js';
import { SnapshotCache } from './SnapshotCache.js';
import { decodeSnapshot, encodeSnapshot, joinSnapshot, splitSnapshot } from './snapshotCodec.js';
import { storageError, storageStatusOf } from './storageError.js';

export {
  type ClusterHead,
  ConcurrencyConflictError,
  clusterPartition,
  LeaseLostError,
  MissingSnapshotError,
} from './ClusterStateRepository.js';

/** Table holding one partition per cluster: a head entity, lease fences and state snapshots. */
export const CLUSTER_STATE_TABLE = 'clusterstate';

/** RowKey of a cluster's head entity (IPs never start with `_`). */
export const HEAD_ROW_KEY = '_head';

/**
 * The head as stored: optional strings are stored as `''` (a Replace must clear them), targets as
 * JSON, no snapshot as `-1`.
 */
type HeadEntity = Omit<ClusterHead, 'etag' | 'targets' | 'retiringTargets'> & {
  partitionKey: string;
  rowKey: string;
  targets?: string;
  retiringTargets?: string;
};

/** A row of the 0.1.0 layout: one per IP, its tags as JSON continued in `tags_1`, `tags_2`, … */
type LegacyIpEntity = { partitionKey: string; rowKey: string; tags: string } & Record<string, unknown>;

function legacyTagsOf(e: LegacyIpEntity): string[] {
  let json = e.tags;
  for (let i = 1; typeof e[`tags_${i}`] === 'string'; i++) json += e[`tags_${i}`] as string;
  return JSON.parse(json) as string[];
}

/** RowKey prefix of snapshot entities: `_snap-<generation, 12 digits>-<part, 4 digits>`. */
const SNAPSHOT_PREFIX = '_snap-';

function snapshotKey(generation: number, part: number): string {
  return `${SNAPSHOT_PREFIX}${String(generation).padStart(12, '0')}-${String(part).padStart(4, '0')}`;
}

/** The generation of a snapshot entity's RowKey, or undefined for any other row. */
function snapshotGenerationOf(rowKey: string): number | undefined {
  const m = /^_snap-(\d{12})-\d{4}$/.exec(rowKey);
  return m ? Number(m[1]) : undefined;
}

/** One entity of a snapshot: `b0`, `b1`, … binary parts; `parts` and `digest` tell a complete one. */
type SnapshotEntity = {
  partitionKey: string;
  rowKey: string;
  generation: number;
  part: number;
  parts: number;
  digest: string;
} & Record<string, unknown>;

/**
 * Snapshot entities per transaction: 3 × 576 KiB, 2.25 MiB as base64 on the wire, inside the 4 MiB
 * payload of an entity group transaction.
 */
const SNAPSHOT_ENTITIES_PER_TRANSACTION = 3;

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
  const snapshot = Number(e.snapshot ?? -1);
  if (Number.isInteger(snapshot) && snapshot >= 0) head.snapshot = snapshot;
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
    snapshot: head.snapshot ?? -1,
  };
  for (const k of OPTIONAL_HEAD_FIELDS) entity[k] = head[k] ?? '';
  return entity;
}

/**
 * {@link ClusterStateRepository} in Table Storage: the head entity (generation, lease, snapshot
 * pointer, digest), lease fences, and per committed generation one snapshot of a few entities; the
 * 0.1.0 rows (one per IP) are read until the first commit migrates them.
 */
export class ClusterStateStore implements ClusterStateRepository {
  readonly #table: TableClient;
  readonly #cache = new SnapshotCache();
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

  /** The committed state of a cluster (see `readCommittedState`). */
  async readIpTags(cluster: string): Promise<Map<string, readonly string[]>> {
    return (await readCommittedState(this, cluster)).tags;
  }

  /** The committed tags of the given IPs (sorted); IPs without tags are absent. */
  async readIpTagsFor(
    cluster: string,
    ips: readonly string[],
    head?: ClusterHead,
  ): Promise<Map<string, readonly string[]>> {
    if (ips.length === 0) return new Map();
    // Picks from the cached snapshot itself: a push does not copy the whole state.
    const shared = {
      getHead: (c: string) => this.getHead(c),
      readSnapshot: (c: string, head: ClusterHead) => this.#sharedSnapshot(c, head),
    };
    return tagsOfIps((await readCommittedState(shared, cluster, head)).tags, ips);
  }

  /**
   * Reads the state a head points at: its snapshot (kept in an in-process cache, since it never
   * changes), or the 0.1.0 IP rows. Undefined when the snapshot is gone or incomplete.
   */
  async readSnapshot(
    cluster: string,
    head: ClusterHead,
  ): Promise<Map<string, readonly string[]> | undefined> {
    const tags = await this.#sharedSnapshot(cluster, head);
    return tags && new Map(tags);
  }

  /** {@link readSnapshot}, the cached map itself (never to be changed). */
  async #sharedSnapshot(
    cluster: string,
    head: ClusterHead,
  ): Promise<Map<string, readonly string[]> | undefined> {
    await this.ensureTable();
    const pk = clusterPartition(cluster);
    if (head.snapshot === undefined) return this.#readLegacyRows(cluster, pk);
    const key = { partition: pk, snapshot: head.snapshot, digest: head.digest ?? '' };
    const cached = this.#cache.get(key);
    if (cached) return cached as Map<string, readonly string[]>;
    const entities = await this.#readSnapshotEntities(cluster, pk, head.snapshot, key.digest);
    if (!entities) return undefined;
    const tags = decodeSnapshot(joinSnapshot(entities), key.digest);
    this.#cache.set(key, tags);
    return tags;
  }

  /** The binary parts of a snapshot's entities in order, or undefined when it is not complete. */
  async #readSnapshotEntities(
    cluster: string,
    pk: string,
    generation: number,
    digest: string,
  ): Promise<Uint8Array[][] | undefined> {
    const lo = snapshotKey(generation, 0).slice(0, -4);
    const byPart = new Map<number, SnapshotEntity>();
    try {
      for await (const e of this.#table.listEntities<SnapshotEntity>({
        queryOptions: { filter: odata`PartitionKey eq ${pk} and RowKey ge ${lo} and RowKey lt ${`${lo}~`}` },
      })) {
        if (e.digest === digest) byPart.set(Number(e.part), e);
      }
    } catch (err) {
      throw this.#error(`read the state snapshot ${generation} of ${cluster}`, err);
    }
    const parts = Number(byPart.get(0)?.parts ?? 0);
    if (parts === 0) return undefined;
    const entities: Uint8Array[][] = [];
    for (let part = 0; part < parts; part++) {
      const e = byPart.get(part);
      if (!e) return undefined;
      const props: Uint8Array[] = [];
      for (let i = 0; e[`b${i}`] instanceof Uint8Array; i++) props.push(e[`b${i}`] as Uint8Array);
      entities.push(props);
    }
    return entities;
  }

  async #readLegacyRows(cluster: string, pk: string): Promise<Map<string, readonly string[]>> {
    const out = new Map<string, readonly string[]>();
    try {
      for await (const e of this.#table.listEntities<LegacyIpEntity>({
        queryOptions: { filter: odata`PartitionKey eq ${pk} and RowKey ne ${HEAD_ROW_KEY}` },
      })) {
        if (!isBookkeeping(e.rowKey)) out.set(e.rowKey, legacyTagsOf(e));
      }
    } catch (err) {
      throw this.#error(`read state of ${cluster}`, err);
    }
    return out;
  }

  /**
   * Writes the snapshot of `generation`: gzip'd canonical JSON in 64 KiB binary properties, 9 per
   * entity, 3 entities per transaction (one transaction up to 1.7 MiB compressed).
   */
  async writeSnapshot(
    cluster: string,
    generation: number,
    tags: IpTagMap,
    options: FencedWriteOptions = {},
  ): Promise<SnapshotWritten> {
    await this.ensureTable();
    const pk = clusterPartition(cluster);
    const encoded = encodeSnapshot(tags);
    const split = splitSnapshot(encoded.gz);
    const actions: TransactionAction[] = split.map((props, part) => {
      const entity: SnapshotEntity = {
        ...{ partitionKey: pk, rowKey: snapshotKey(generation, part), generation, part },
        ...{ parts: split.length, digest: encoded.digest },
      };
      props.forEach((bytes, i) => {
        entity[`b${i}`] = bytes;
      });
      return ['upsert', entity, 'Replace'];
    });
    await this.#submitAll(cluster, actions, SNAPSHOT_ENTITIES_PER_TRANSACTION, options);
    return {
      ...{ snapshot: generation, digest: encoded.digest, entities: split.length },
      ...{ bytes: encoded.gz.length, ips: encoded.ips, pairs: encoded.pairs },
    };
  }

  /** Deletes old snapshots (never `keep`'s, never a newer one) and the 0.1.0 IP rows. */
  async pruneSnapshots(
    cluster: string,
    keep: KeptSnapshots,
    options: FencedWriteOptions = {},
  ): Promise<PruneOutcome> {
    await this.ensureTable();
    const pk = clusterPartition(cluster);
    const deletes: TransactionAction[] = [];
    const outcome: PruneOutcome = { snapshotEntities: 0, legacyRows: 0 };
    try {
      for await (const e of this.#table.listEntities({
        queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey'] },
      })) {
        const rowKey = e.rowKey ?? '';
        const generation = snapshotGenerationOf(rowKey);
        const old = generation !== undefined && isPrunable(generation, keep);
        if (old) outcome.snapshotEntities++;
        else if (!isBookkeeping(rowKey)) outcome.legacyRows++;
        else continue;
        deletes.push(['delete', { partitionKey: pk, rowKey }]);
      }
    } catch (err) {
      throw this.#error(`list the state snapshots of ${cluster}`, err);
    }
    await this.#submitAll(cluster, deletes, PRUNE_DELETES_PER_TRANSACTION, options);
    return outcome;
  }

  /** Submits actions in transactions of `size` (plus the fence), one after another. */
  async #submitAll(
    cluster: string,
    actions: TransactionAction[],
    size: number,
    options: FencedWriteOptions,
  ): Promise<void> {
    const fence: TransactionAction[] = options.fence
      ? [['update', { partitionKey: clusterPartition(cluster), rowKey: fenceKey(options.fence) }, 'Merge']]
      : [];
    for (let i = 0; i < actions.length; i += size) {
      options.beforeBatch?.();
      await this.#submit(cluster, actions.slice(i, i + size), fence);
    }
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
