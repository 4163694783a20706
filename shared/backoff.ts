/**
 * The one exponential backoff of the service (Kubernetes retries, deferred delta messages, lease
 * releases). Callers inject their own delay and clock; the host's idle polling keeps the WebJobs
 * formula in `host/RandomizedExponentialBackoff.ts`.
 */

/** Exponential backoff settings. */
export interface BackoffOptions {
  /** Delay before the first retry (ms). */
  baseMs: number;
  /** Upper bound of any delay (ms). */
  maxMs: number;
}

/**
 * Delay before retry number `retry` (1-based): `baseMs · 2^(retry-1)`, capped at `maxMs`; a
 * server's `Retry-After` (ms) is honoured when longer, within the same cap.
 */
export function backoffDelay(retry: number, options: BackoffOptions, retryAfterMs?: number): number {
  const exponential = options.baseMs * 2 ** Math.max(0, retry - 1);
  return Math.min(options.maxMs, Math.max(exponential, retryAfterMs ?? 0));
}

/**
 * `ms` with "equal jitter", as the Azure SDK's retry strategy: half of it fixed, half random
 * (`random()` in [0, 1)), so that callers polling the same thing spread out.
 */
export function withJitter(ms: number, random: () => number = Math.random): number {
  return ms / 2 + random() * (ms / 2);
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Waits `ms` milliseconds (the default delay of the callers that retry). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
