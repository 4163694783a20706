import type { TableClient } from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import {
  type PermitHolder,
  type PermitRepository,
  type PermitRow,
  permitIndex,
  permitRowKey,
} from './PermitRepository.js';
import { storageError, storageStatusOf } from './storageError.js';

/** Table of the shared Panorama call limit (created on first use). */
export const PANORAMA_PERMIT_TABLE = 'panoramapermits';

interface PermitEntity {
  partitionKey: string;
  rowKey: string;
  owner: string;
  /** ISO time the hold expires (`''` when free). */
  until: string;
}

function toEntity(partition: string, index: number, holder: PermitHolder | undefined): PermitEntity {
  return {
    partitionKey: partition,
    rowKey: permitRowKey(index),
    owner: holder?.owner ?? '',
    until: holder ? new Date(holder.untilMs).toISOString() : '',
  };
}

/**
 * {@link PermitRepository} in Table Storage: a permit is an entity taken and given back with
 * ETag-conditional replaces (`If-Match`), created with an insert that fails when it exists (409).
 * Costs one transaction per list, create or replace.
 */
export class PermitStore implements PermitRepository {
  readonly #table: TableClient;
  #created = false;

  constructor(table: TableClient) {
    this.#table = table;
  }

  #error(what: string, err: unknown) {
    return storageError('Table storage', this.#table.url, what, err);
  }

  async #ensure(): Promise<void> {
    if (this.#created) return;
    try {
      await this.#table.createTable();
    } catch (err) {
      if (storageStatusOf(err) !== 409) throw this.#error('create table', err);
    }
    this.#created = true;
  }

  /** Every `permit-<n>` row of the partition. */
  async list(partition: string): Promise<PermitRow[]> {
    await this.#ensure();
    const rows: PermitRow[] = [];
    try {
      const entities = this.#table.listEntities<PermitEntity>({
        queryOptions: { filter: odata`PartitionKey eq ${partition}` },
      });
      for await (const e of entities) {
        const index = permitIndex(e.rowKey);
        if (index === undefined) continue;
        const untilMs = e.until ? Date.parse(e.until) : 0;
        rows.push({
          index,
          owner: e.owner ?? '',
          untilMs: Number.isNaN(untilMs) ? 0 : untilMs,
          etag: e.etag,
        });
      }
    } catch (err) {
      throw this.#error(`list permits of ${partition}`, err);
    }
    return rows;
  }

  /** Creates a held permit row; undefined when it exists already. */
  async create(partition: string, index: number, holder: PermitHolder): Promise<string | undefined> {
    await this.#ensure();
    try {
      return (await this.#table.createEntity(toEntity(partition, index, holder))).etag ?? '';
    } catch (err) {
      if (storageStatusOf(err) === 409) return undefined;
      throw this.#error(`create ${permitRowKey(index)} of ${partition}`, err);
    }
  }

  /** Replaces a permit row if its ETag matches; undefined when it changed or is gone. */
  async replace(
    partition: string,
    index: number,
    etag: string,
    holder: PermitHolder | undefined,
  ): Promise<string | undefined> {
    await this.#ensure();
    try {
      const res = await this.#table.updateEntity(toEntity(partition, index, holder), 'Replace', { etag });
      return res.etag ?? '';
    } catch (err) {
      if (storageStatusOf(err) === 412 || storageStatusOf(err) === 404) return undefined;
      throw this.#error(`update ${permitRowKey(index)} of ${partition}`, err);
    }
  }
}
