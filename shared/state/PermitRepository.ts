/**
 * The rows of the shared Panorama call limit (`shared/panorama/SharedCallLimit.ts`): one partition
 * per Panorama, one row per permit (`permit-0` … `permit-<N-1>`, N = `PANORAMA_CONCURRENCY`).
 */

/** Who holds a permit, and until when (epoch ms) the hold is valid if its holder never releases it. */
export interface PermitHolder {
  owner: string;
  untilMs: number;
}

/** One permit row as stored: `owner` is `''` when the permit is free. */
export interface PermitRow extends PermitHolder {
  /** 0-based permit number (`permit-<index>`). */
  index: number;
  etag: string;
}

/**
 * The storage the shared call limit needs: read a partition, create a row, and replace a row only if
 * its ETag still matches. Implementations: `PermitStore` (Table Storage) and
 * `test/helpers/memoryPermits.ts`; both pass `test/helpers/permitRepositoryContract.ts`.
 */
export interface PermitRepository {
  /** Every permit row of a partition (rows that are not `permit-<n>` are ignored). */
  list(partition: string): Promise<PermitRow[]>;
  /** Creates permit `index` held by `holder`: its ETag, or undefined when the row exists already. */
  create(partition: string, index: number, holder: PermitHolder): Promise<string | undefined>;
  /**
   * Replaces permit `index` if its ETag is still `etag` — held by `holder`, or free when `holder` is
   * undefined: the new ETag, or undefined when the row changed meanwhile or is gone.
   */
  replace(
    partition: string,
    index: number,
    etag: string,
    holder: PermitHolder | undefined,
  ): Promise<string | undefined>;
}

/** Row key of permit `index`. */
export function permitRowKey(index: number): string {
  return `permit-${index}`;
}

/** The permit number of a row key, or undefined when the key is not `permit-<n>`. */
export function permitIndex(rowKey: string): number | undefined {
  const m = /^permit-(0|[1-9]\d{0,3})$/.exec(rowKey);
  return m ? Number(m[1]) : undefined;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: partition keys may not hold control characters
const PARTITION_KEY_FORBIDDEN = /[/\\#?\u0000-\u001f\u007f-\u009f]/g;

/**
 * The partition of one Panorama: the lower-cased `host:port` of each URL of `PANORAMA_URL` (the two
 * peers of an HA pair share one limit), sorted and joined with `,`; characters a partition key may
 * not hold (`/ \ # ?`, controls) become `_`.
 */
export function permitPartition(panoramaUrl: string): string {
  const hosts = panoramaUrl
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '')
    .map((u) => {
      try {
        return new URL(u).host.toLowerCase();
      } catch {
        return u.toLowerCase();
      }
    });
  return [...new Set(hosts)].sort().join(',').replace(PARTITION_KEY_FORBIDDEN, '_');
}
