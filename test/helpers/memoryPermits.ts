import type { PermitHolder, PermitRepository, PermitRow } from '../../shared/state/PermitRepository.js';

/**
 * {@link PermitRepository} in memory, with ETags like Table Storage's: every write gives the row a
 * new one, and a write with a stale ETag changes nothing. Passes `permitRepositoryContract.ts`.
 */
export class MemoryPermits implements PermitRepository {
  readonly #partitions = new Map<string, Map<number, PermitRow>>();
  #etag = 0;
  /** Storage operations so far (list, create, replace), for cost assertions. */
  operations = 0;

  #rows(partition: string): Map<number, PermitRow> {
    let rows = this.#partitions.get(partition);
    if (!rows) {
      rows = new Map();
      this.#partitions.set(partition, rows);
    }
    return rows;
  }

  #store(partition: string, index: number, holder: PermitHolder | undefined): string {
    const etag = `W/"memory-permit-${++this.#etag}"`;
    this.#rows(partition).set(index, {
      index,
      owner: holder?.owner ?? '',
      untilMs: holder?.untilMs ?? 0,
      etag,
    });
    return etag;
  }

  async list(partition: string): Promise<PermitRow[]> {
    this.operations++;
    await Promise.resolve();
    return [...this.#rows(partition).values()].map((r) => ({ ...r }));
  }

  async create(partition: string, index: number, holder: PermitHolder): Promise<string | undefined> {
    this.operations++;
    await Promise.resolve();
    if (this.#rows(partition).has(index)) return undefined;
    return this.#store(partition, index, holder);
  }

  async replace(
    partition: string,
    index: number,
    etag: string,
    holder: PermitHolder | undefined,
  ): Promise<string | undefined> {
    this.operations++;
    await Promise.resolve();
    if (this.#rows(partition).get(index)?.etag !== etag) return undefined;
    return this.#store(partition, index, holder);
  }
}
