import type { TableClient } from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import { clusterPartition } from './ClusterStateRepository.js';
import { storageError, storageStatusOf } from './storageError.js';
import {
  type AuditStatus,
  MAX_STATUS_ERROR_CHARS,
  type TargetStatus,
  type TargetStatusRepository,
} from './TargetStatusRepository.js';

export {
  type AuditStatus,
  MAX_STATUS_ERROR_CHARS,
  PANORAMA_TARGET,
  type TargetStatus,
} from './TargetStatusRepository.js';

/** Table holding per (cluster, target) push status and per-target audit status. */
export const TARGET_STATE_TABLE = 'targetstate';

/** Partition of the per-target audit rows. */
const AUDIT_PARTITION = '_audit';

type Row = Record<string, unknown> & { partitionKey: string; rowKey: string };

/** Drops undefined fields and cuts long strings (an error may quote many rejected tags). */
function clean<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(o)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) =>
        typeof v === 'string' && v.length > MAX_STATUS_ERROR_CHARS
          ? [k, `${v.slice(0, MAX_STATUS_ERROR_CHARS - 1)}…`]
          : [k, v],
      ),
  ) as Partial<T>;
}

/** {@link TargetStatusRepository} in Table Storage: one partition per cluster plus one for audits. */
export class TargetStatusStore implements TargetStatusRepository {
  readonly #table: TableClient;
  #created = false;

  constructor(table: TableClient) {
    this.#table = table;
  }

  async #ensure(): Promise<void> {
    if (this.#created) return;
    try {
      await this.#table.createTable();
    } catch (err) {
      if (storageStatusOf(err) !== 409)
        throw storageError('Table storage', this.#table.url, 'create table', err);
    }
    this.#created = true;
  }

  /** Merges fields into the status of (cluster, target). */
  async recordPush(status: TargetStatus): Promise<void> {
    await this.#ensure();
    const row: Row = {
      partitionKey: clusterPartition(status.cluster),
      rowKey: status.target,
      ...clean(status),
    };
    await this.#table.upsertEntity(row, 'Merge');
  }

  /** Merges fields into the audit status of a target. */
  async recordAudit(status: AuditStatus): Promise<void> {
    await this.#ensure();
    await this.#table.upsertEntity(
      { partitionKey: AUDIT_PARTITION, rowKey: status.target, ...clean(status) },
      'Merge',
    );
  }

  /** Lists every push status row. */
  async listPushStatus(): Promise<TargetStatus[]> {
    await this.#ensure();
    const out: TargetStatus[] = [];
    for await (const e of this.#table.listEntities<Row>({
      queryOptions: { filter: odata`PartitionKey ne ${AUDIT_PARTITION}` },
    })) {
      const { partitionKey: _pk, rowKey: _rk, etag: _etag, timestamp: _ts, ...rest } = e;
      out.push(rest as unknown as TargetStatus);
    }
    return out;
  }

  /** Lists every audit status row. */
  async listAuditStatus(): Promise<AuditStatus[]> {
    await this.#ensure();
    const out: AuditStatus[] = [];
    for await (const e of this.#table.listEntities<Row>({
      queryOptions: { filter: odata`PartitionKey eq ${AUDIT_PARTITION}` },
    })) {
      const { partitionKey: _pk, rowKey, etag: _etag, timestamp: _ts, ...rest } = e;
      out.push({ ...(rest as unknown as AuditStatus), target: rowKey });
    }
    return out;
  }
}
