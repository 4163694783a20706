import { AzureError, FailureKind, InputError } from '../../shared/errors.js';
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
  fitsInIpRow,
  LeaseLostError,
  OPTIONAL_HEAD_FIELDS,
  type WriteIpTagsOptions,
} from '../../shared/state/ClusterStateRepository.js';
import {
  type AuditStatus,
  MAX_STATUS_ERROR_CHARS,
  type TargetStatus,
  type TargetStatusRepository,
} from '../../shared/state/TargetStatusRepository.js';
import type { IpTagMap } from '../../shared/tags/IpTagMap.js';

/** One IP row as stored. */
export interface MemoryIpRow {
  tags: readonly string[];
  generation: number;
}

interface Partition {
  head?: ClusterHead;
  fences: Set<string>;
  rows: Map<string, MemoryIpRow>;
}

type RowAction = { ip: string; tags?: readonly string[] };

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
  return out;
}

function copyHead(head: ClusterHead): ClusterHead {
  return { ...head, targets: [...head.targets], retiringTargets: [...head.retiringTargets] };
}

/** Fence owners share a row when they differ only in characters a RowKey cannot hold (as Table Storage). */
function fenceKey(owner: string): string {
  return owner.replace(/[^A-Za-z0-9_.-]/g, '_');
}

function rowActions(upserts: IpTagMap, deletes: readonly string[]): RowAction[] {
  const actions: RowAction[] = [];
  for (const [ip, tags] of upserts) {
    if (!fitsInIpRow(tags)) {
      throw new AzureError(`Table storage: the row of ${ip} is too large`, { kind: FailureKind.permanent });
    }
    actions.push({ ip, tags: [...tags] });
  }
  for (const ip of deletes) actions.push({ ip });
  return actions;
}

/**
 * {@link ClusterStateRepository} in memory, with the semantics of `ClusterStateStore`
 * (shared/state/ClusterStateStore.ts): ETags change on every head write, conditional writes fail
 * with {@link ConcurrencyConflictError}, fenced transactions of at most 100 rows fail with
 * {@link LeaseLostError} once their fence is dropped, deletes of missing rows succeed.
 */
export class MemoryClusterState implements ClusterStateRepository {
  readonly #partitions = new Map<string, Partition>();
  #etag = 0;

  #partition(cluster: string): Partition {
    const pk = clusterPartition(cluster);
    let p = this.#partitions.get(pk);
    if (!p) {
      p = { fences: new Set(), rows: new Map() };
      this.#partitions.set(pk, p);
    }
    return p;
  }

  #nextEtag(): string {
    return `W/"memory-${++this.#etag}"`;
  }

  /** The stored rows of a cluster with their generations (for assertions). */
  rows(cluster: string): Map<string, MemoryIpRow> {
    return new Map(this.#partition(cluster).rows);
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

  async readIpTags(cluster: string): Promise<Map<string, readonly string[]>> {
    const out = new Map<string, readonly string[]>();
    for (const [ip, row] of this.#partition(cluster).rows) out.set(ip, [...row.tags]);
    return out;
  }

  async readIpTagsFor(cluster: string, ips: readonly string[]): Promise<Map<string, readonly string[]>> {
    const rows = this.#partition(cluster).rows;
    const out = new Map<string, readonly string[]>();
    for (const ip of [...new Set(ips)].sort()) {
      const row = rows.get(ip);
      if (row) out.set(ip, [...row.tags]);
    }
    return out;
  }

  async writeIpTags(
    cluster: string,
    upserts: IpTagMap,
    deletes: readonly string[],
    generation: number,
    options: WriteIpTagsOptions = {},
  ): Promise<void> {
    const p = this.#partition(cluster);
    const actions = rowActions(upserts, deletes);
    const size = options.fence === undefined ? 100 : 99;
    for (let i = 0; i < actions.length; i += size) {
      options.beforeBatch?.();
      if (options.fence !== undefined && !p.fences.has(fenceKey(options.fence))) {
        throw new LeaseLostError(cluster);
      }
      for (const a of actions.slice(i, i + size)) {
        if (a.tags) p.rows.set(a.ip, { tags: a.tags, generation });
        else p.rows.delete(a.ip);
      }
    }
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
