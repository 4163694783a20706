import type { PermitRow } from '../state/PermitRepository.js';

/**
 * What a caller of the shared call limit does next, given the permit rows it read:
 * - `create`: permit `index` has no row yet (first use, or the limit was raised) — create it;
 * - `take`: permit `index` is free, or its holder's hold expired (`previousOwner` set: the holder
 *   crashed or hung) — replace it with the row's `etag`;
 * - `wait`: all `limit` permits are held and none has expired.
 */
export type PermitChoice =
  | { action: 'create'; index: number }
  | { action: 'take'; index: number; etag: string; previousOwner?: string }
  | { action: 'wait'; held: number };

/** Whether a permit row can be taken at `nowMs`: nobody holds it, or the hold has expired. */
export function isPermitFree(row: Pick<PermitRow, 'owner' | 'untilMs'>, nowMs: number): boolean {
  return row.owner === '' || row.untilMs <= nowMs;
}

/**
 * Picks the permit to try among `permit-0` … `permit-<limit-1>`, scanning from `start` (a random
 * offset, so that callers reading the same rows spread over different permits): the first that has
 * no row or is free. Rows with an index at or above `limit` (left by a larger limit) are ignored.
 */
export function choosePermit(
  rows: readonly PermitRow[],
  options: { limit: number; nowMs: number; start: number },
): PermitChoice {
  const { limit, nowMs } = options;
  const byIndex = new Map<number, PermitRow>();
  for (const row of rows) if (row.index >= 0 && row.index < limit) byIndex.set(row.index, row);
  const start = ((Math.trunc(options.start) % limit) + limit) % limit;
  for (let k = 0; k < limit; k++) {
    const index = (start + k) % limit;
    const row = byIndex.get(index);
    if (!row) return { action: 'create', index };
    if (isPermitFree(row, nowMs)) {
      return {
        action: 'take',
        index,
        etag: row.etag,
        ...(row.owner !== '' ? { previousOwner: row.owner } : {}),
      };
    }
  }
  return { action: 'wait', held: byIndex.size };
}
