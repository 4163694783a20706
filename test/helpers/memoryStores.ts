import { InputError } from '../../shared/errors.js';
import {
  encodeMessage,
  MAX_ENCODED_MESSAGE_BYTES,
  type PipelineQueues,
  type ReceivedMessage,
  type SendOptions,
} from '../../shared/queues/PipelineQueues.js';
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
} from '../../shared/state/ClusterStateRepository.js';
import { readCommittedState, tagsOfIps } from '../../shared/state/readCommittedState.js';
import { decodeSnapshot, encodeSnapshot, splitSnapshot } from '../../shared/state/snapshotCodec.js';
import {
  type AuditStatus,
  MAX_STATUS_ERROR_CHARS,
  type TargetStatus,
  type TargetStatusRepository,
} from '../../shared/state/TargetStatusRepository.js';
import type { IpTagMap } from '../../shared/tags/IpTagMap.js';

/** A snapshot as stored: its compressed bytes, as many entities as `ClusterStateStore` writes. */
interface MemorySnapshot {
  gz: Uint8Array;
  digest: string;
  entities: number;
}

interface Partition {
  head?: ClusterHead;
  fences: Set<string>;
  snapshots: Map<number, MemorySnapshot>;
  /** Rows of the 0.1.0 layout (one per IP). */
  legacyRows: Map<string, readonly string[]>;
}

/** The head as a read returns it: known fields only, `''` optional fields left out (as Table Storage). */
function storedHead(head: Omit<ClusterHead, 'etag'>, etag: string): ClusterHead {
  const out: ClusterHead = {
    cluster: head.cluster,
    generation: head.generation,
    pendingGeneration: head.pendingGeneration,
    ipCount: head.ipCount,
    tagCount: head.tagCount,
    heldRemovals: head.heldRemovals,
    holdBasePairs: head.holdBasePairs,
    ipsOverBudget: head.ipsOverBudget,
    targets: [...head.targets],
    retiringTargets: [...head.retiringTargets],
    etag,
  };
  for (const k of OPTIONAL_HEAD_FIELDS) {
    const v = head[k];
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  if (head.snapshot !== undefined && head.snapshot >= 0) out.snapshot = head.snapshot;
  return out;
}

function copyHead(head: ClusterHead): ClusterHead {
  return { ...head, targets: [...head.targets], retiringTargets: [...head.retiringTargets] };
}

/** Fence owners share a row when they differ only in characters a RowKey cannot hold (as Table Storage). */
function fenceKey(owner: string): string {
  return owner.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * {@link ClusterStateRepository} in memory, with the semantics of `ClusterStateStore`
 * (shared/state/ClusterStateStore.ts): ETags change on every head write, conditional writes fail
 * with {@link ConcurrencyConflictError}, snapshots are encoded and split into entities as there
 * (transactions of 3 entities, 99 deletes), fenced transactions fail with {@link LeaseLostError}
 * once their fence is dropped, a head without a snapshot reads the 0.1.0 rows.
 */
export class MemoryClusterState implements ClusterStateRepository {
  readonly #partitions = new Map<string, Partition>();
  #etag = 0;

  #partition(cluster: string): Partition {
    const pk = clusterPartition(cluster);
    let p = this.#partitions.get(pk);
    if (!p) {
      p = { fences: new Set(), snapshots: new Map(), legacyRows: new Map() };
      this.#partitions.set(pk, p);
    }
    return p;
  }

  #nextEtag(): string {
    return `W/"memory-${++this.#etag}"`;
  }

  /** The generations of a cluster's stored snapshots, sorted (for assertions). */
  snapshots(cluster: string): number[] {
    return [...this.#partition(cluster).snapshots.keys()].sort((a, b) => a - b);
  }

  /** The 0.1.0 rows of a cluster (for assertions). */
  legacyRows(cluster: string): Map<string, readonly string[]> {
    return new Map(this.#partition(cluster).legacyRows);
  }

  /** Writes rows of the 0.1.0 layout (one per IP), as a 0.1.0 deployment left them. */
  writeLegacyRows(cluster: string, tags: IpTagMap): void {
    for (const [ip, list] of tags) this.#partition(cluster).legacyRows.set(ip, [...list]);
  }

  /**
   * Test setup: commits `upserts` on top of the committed state of a cluster that has a head — a
   * snapshot of `generation`, the head pointing at it (other head fields kept).
   */
  async seedCommitted(
    cluster: string,
    upserts: IpTagMap,
    generation: number,
    deletes: readonly string[] = [],
  ): Promise<void> {
    const { head, tags } = await readCommittedState(this, cluster);
    if (!head) throw new Error(`seedCommitted: ${cluster} has no head`);
    for (const [ip, list] of upserts) tags.set(ip, list);
    for (const ip of deletes) tags.delete(ip);
    const written = await this.writeSnapshot(cluster, generation, tags);
    await this.replaceHead({ ...head, snapshot: written.snapshot, digest: written.digest });
  }

  /** The fence rows of a cluster, by owner (for assertions). */
  fences(cluster: string): string[] {
    return [...this.#partition(cluster).fences].sort();
  }

  async getHead(cluster: string): Promise<ClusterHead | undefined> {
    const head = this.#partition(cluster).head;
    return head ? copyHead(head) : undefined;
  }

  async listHeads(): Promise<ClusterHead[]> {
    const heads: ClusterHead[] = [];
    for (const p of this.#partitions.values()) if (p.head) heads.push(copyHead(p.head));
    return heads.sort((a, b) => a.cluster.localeCompare(b.cluster));
  }

  async createHead(head: Omit<ClusterHead, 'etag'>): Promise<ClusterHead> {
    const p = this.#partition(head.cluster);
    if (p.head) throw new ConcurrencyConflictError(`head of ${head.cluster}`);
    const etag = this.#nextEtag();
    p.head = storedHead(head, etag);
    return { ...head, etag };
  }

  async replaceHead(head: ClusterHead): Promise<ClusterHead> {
    const p = this.#partition(head.cluster);
    if (!p.head || p.head.etag !== head.etag) throw new ConcurrencyConflictError(`head of ${head.cluster}`);
    const etag = this.#nextEtag();
    p.head = storedHead(head, etag);
    return { ...head, etag };
  }

  async readSnapshot(
    cluster: string,
    head: ClusterHead,
  ): Promise<Map<string, readonly string[]> | undefined> {
    const p = this.#partition(cluster);
    if (head.snapshot === undefined) return new Map(p.legacyRows);
    const stored = p.snapshots.get(head.snapshot);
    if (!stored || stored.digest !== head.digest) return undefined;
    return decodeSnapshot(stored.gz, stored.digest);
  }

  async readIpTags(cluster: string): Promise<Map<string, readonly string[]>> {
    return (await readCommittedState(this, cluster)).tags;
  }

  async readIpTagsFor(
    cluster: string,
    ips: readonly string[],
    head?: ClusterHead,
  ): Promise<Map<string, readonly string[]>> {
    if (ips.length === 0) return new Map();
    return tagsOfIps((await readCommittedState(this, cluster, head)).tags, ips);
  }

  #transaction(cluster: string, options: FencedWriteOptions): void {
    options.beforeBatch?.();
    if (options.fence !== undefined && !this.#partition(cluster).fences.has(fenceKey(options.fence))) {
      throw new LeaseLostError(cluster);
    }
  }

  async writeSnapshot(
    cluster: string,
    generation: number,
    tags: IpTagMap,
    options: FencedWriteOptions = {},
  ): Promise<SnapshotWritten> {
    const encoded = encodeSnapshot(tags);
    const entities = splitSnapshot(encoded.gz).length;
    // Transactions of 3 entities land one after another; the snapshot is complete with the last.
    for (let i = 0; i < entities; i += 3) this.#transaction(cluster, options);
    this.#partition(cluster).snapshots.set(generation, { gz: encoded.gz, digest: encoded.digest, entities });
    return {
      ...{ snapshot: generation, digest: encoded.digest, entities },
      ...{ bytes: encoded.gz.length, ips: encoded.ips, pairs: encoded.pairs },
    };
  }

  async pruneSnapshots(
    cluster: string,
    keep: KeptSnapshots,
    options: FencedWriteOptions = {},
  ): Promise<PruneOutcome> {
    const p = this.#partition(cluster);
    const old = [...p.snapshots].filter(([g]) => isPrunable(g, keep));
    const outcome: PruneOutcome = {
      snapshotEntities: old.reduce((n, [, s]) => n + s.entities, 0),
      legacyRows: p.legacyRows.size,
    };
    const deletes = outcome.snapshotEntities + outcome.legacyRows;
    for (let i = 0; i < deletes; i += PRUNE_DELETES_PER_TRANSACTION) this.#transaction(cluster, options);
    for (const [g] of old) p.snapshots.delete(g);
    p.legacyRows.clear();
    return outcome;
  }

  async createFence(cluster: string, owner: string): Promise<void> {
    this.#partition(cluster).fences.add(fenceKey(owner));
  }

  async dropFence(cluster: string, owner: string): Promise<void> {
    this.#partition(cluster).fences.delete(fenceKey(owner));
  }
}

/** Drops undefined fields and cuts long strings, as `TargetStatusStore` does. */
function merged(row: Record<string, unknown> | undefined, fields: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] =
      typeof v === 'string' && v.length > MAX_STATUS_ERROR_CHARS
        ? `${v.slice(0, MAX_STATUS_ERROR_CHARS - 1)}…`
        : v;
  }
  return out;
}

function sortedValues(rows: Map<string, Record<string, unknown>>): Record<string, unknown>[] {
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => ({ ...row }));
}

/** {@link TargetStatusRepository} in memory, merging as `TargetStatusStore` does. */
export class MemoryTargetStatus implements TargetStatusRepository {
  readonly #pushes = new Map<string, Record<string, unknown>>();
  readonly #audits = new Map<string, Record<string, unknown>>();

  async recordPush(status: TargetStatus): Promise<void> {
    const key = `${clusterPartition(status.cluster)}\u0000${status.target}`;
    this.#pushes.set(key, merged(this.#pushes.get(key), status));
  }

  async recordAudit(status: AuditStatus): Promise<void> {
    this.#audits.set(status.target, merged(this.#audits.get(status.target), status));
  }

  async listPushStatus(): Promise<TargetStatus[]> {
    return sortedValues(this.#pushes) as unknown as TargetStatus[];
  }

  async listAuditStatus(): Promise<AuditStatus[]> {
    return sortedValues(this.#audits) as unknown as AuditStatus[];
  }
}

interface StoredMessage {
  messageId: string;
  popReceipt: string;
  dequeueCount: number;
  messageText: string;
  insertedOn: Date;
  visibleAt: number;
}

/** As Queue Storage answers: 404 for a message that is gone, 400 for a pop receipt that was replaced. */
const messageNotFound = () =>
  Object.assign(new Error('MessageNotFound'), { statusCode: 404, code: 'MessageNotFound' });
const popReceiptMismatch = () =>
  Object.assign(new Error('PopReceiptMismatch'), { statusCode: 400, code: 'PopReceiptMismatch' });

/**
 * {@link PipelineQueues} in memory, with the semantics of `MessageQueues`
 * (shared/queues/MessageQueues.ts): base64 JSON texts checked against the 64 KiB limit, delays and
 * visibility timeouts on the clock `now`, pop receipts that change on every receive and release.
 */
export class MemoryQueues implements PipelineQueues {
  readonly #queues = new Map<string, StoredMessage[]>();
  readonly #now: () => number;
  #ids = 0;
  readonly #onEnqueue: ((queueName: string) => void) | undefined;

  constructor(options: { now?: () => number; onEnqueue?: (queueName: string) => void } = {}) {
    this.#now = options.now ?? Date.now;
    this.#onEnqueue = options.onEnqueue;
  }

  #queue(name: string): StoredMessage[] {
    let q = this.#queues.get(name);
    if (!q) {
      q = [];
      this.#queues.set(name, q);
    }
    return q;
  }

  #find(queueName: string, message: Pick<ReceivedMessage, 'messageId' | 'popReceipt'>): number {
    const q = this.#queue(queueName);
    const i = q.findIndex((m) => m.messageId === message.messageId);
    if (i < 0) throw messageNotFound();
    if (q[i]?.popReceipt !== message.popReceipt) throw popReceiptMismatch();
    return i;
  }

  #visible(queueName: string): StoredMessage[] {
    const now = this.#now();
    return this.#queue(queueName).filter((m) => m.visibleAt <= now);
  }

  /** Every message text of a queue, visible or not, in sending order (for assertions). */
  texts(queueName: string): string[] {
    return this.#queue(queueName).map((m) => m.messageText);
  }

  async send(queueName: string, body: unknown, options: SendOptions = {}): Promise<void> {
    await this.sendText(queueName, encodeMessage(body), options);
  }

  notify(queueName: string): void {
    this.#onEnqueue?.(queueName);
  }

  async sendText(queueName: string, text: string, options: SendOptions = {}): Promise<void> {
    if (Buffer.byteLength(text) > MAX_ENCODED_MESSAGE_BYTES) {
      throw new InputError(
        `message for ${queueName} is ${Buffer.byteLength(text)} bytes; the limit is 64 KiB`,
      );
    }
    const id = `m${++this.#ids}`;
    this.#queue(queueName).push({
      messageId: id,
      popReceipt: `${id}-0`,
      dequeueCount: 0,
      messageText: text,
      insertedOn: new Date(this.#now()),
      visibleAt: this.#now() + (options.delaySeconds ?? 0) * 1000,
    });
    if (!options.quiet) this.notify(queueName);
  }

  async depth(queueName: string): Promise<number> {
    return this.#queue(queueName).length;
  }

  async receive(
    queueName: string,
    count: number,
    visibilityTimeoutSeconds: number,
  ): Promise<ReceivedMessage[]> {
    const batch = this.#visible(queueName).slice(0, Math.min(32, Math.max(1, count)));
    const visibleAt = this.#now() + visibilityTimeoutSeconds * 1000;
    return batch.map((m) => {
      m.dequeueCount++;
      m.popReceipt = `${m.messageId}-${++this.#ids}`;
      m.visibleAt = visibleAt;
      const { visibleAt: _at, ...received } = m;
      return { ...received, nextVisibleOn: new Date(visibleAt) };
    });
  }

  async peek(queueName: string, count = 32): Promise<{ messageText: string; dequeueCount: number }[]> {
    return this.#visible(queueName)
      .slice(0, Math.min(32, count))
      .map((m) => ({ messageText: m.messageText, dequeueCount: m.dequeueCount }));
  }

  async delete(queueName: string, message: Pick<ReceivedMessage, 'messageId' | 'popReceipt'>): Promise<void> {
    this.#queue(queueName).splice(this.#find(queueName, message), 1);
  }

  async release(queueName: string, message: ReceivedMessage, seconds: number): Promise<void> {
    const m = this.#queue(queueName)[this.#find(queueName, message)] as StoredMessage;
    m.popReceipt = `${m.messageId}-${++this.#ids}`;
    m.visibleAt = this.#now() + seconds * 1000;
  }
}
