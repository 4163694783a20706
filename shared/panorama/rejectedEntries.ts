import type { EntryFailure, IpTagEntry } from './PanoramaApi.js';

/**
 * The (ip, tag) pairs of `entries` the device accepted in an `operation`: all of them minus those
 * of the entries it rejected (a failure without `operation` counts against both).
 */
export function acceptedPairs(
  entries: readonly IpTagEntry[],
  failures: readonly EntryFailure[],
  operation: 'register' | 'unregister',
): number {
  let n = 0;
  for (const e of entries) n += e.tags.length;
  for (const f of failures) if (!f.operation || f.operation === operation) n -= f.tags.length;
  return Math.max(0, n);
}

/** The first rejected entries as `ip [tags…]: message`, for logs and `status` (one line). */
export function describeRejected(failures: readonly EntryFailure[], limit = 3): string {
  const shown = failures.slice(0, limit).map((f) => {
    const more = f.tags.length > 5 ? `, +${f.tags.length - 5} more` : '';
    return `${f.ip} [${f.tags.slice(0, 5).join(', ')}${more}]: ${f.message}`;
  });
  return failures.length > limit ? `${shown.join('; ')}; …` : shown.join('; ');
}
