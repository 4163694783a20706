import type { Settings } from './localSettings.js';

/** Largest `PANORAMA_PERMIT_SECONDS`: one hour. */
const MAX_PERMIT_SECONDS = 3600;

/**
 * Default `PANORAMA_PERMIT_SECONDS` for a request timeout: twice the timeout plus 30 s (90 s for the
 * default 30 s). A permit covers one HTTP request (`#send` in shared/panorama/PanoramaClient.ts:
 * failovers, re-keys and HA probes take their own), so a request that runs to its timeout still holds
 * its permit with room to spare, while a crashed instance's permit comes back within that time.
 */
export function defaultPermitSeconds(timeoutMs: number): number {
  return Math.ceil((2 * timeoutMs) / 1000) + 30;
}

/**
 * `PANORAMA_PERMIT_SECONDS`: how long a permit of the shared Panorama call limit lasts if its holder
 * never gives it back (`shared/panorama/SharedCallLimit.ts`). `0` turns the shared limit off (each
 * instance limits only its own calls). A value at or below the request timeout is refused: a permit
 * must outlive the call it covers. Problems are appended to `problems`.
 */
export function panoramaPermitSeconds(settings: Settings, timeoutMs: number, problems: string[]): number {
  const fallback = defaultPermitSeconds(timeoutMs);
  const raw = settings.PANORAMA_PERMIT_SECONDS;
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  const minimum = Math.floor(timeoutMs / 1000) + 1;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PERMIT_SECONDS || (n > 0 && n < minimum)) {
    problems.push(
      `PANORAMA_PERMIT_SECONDS: expected 0 (no limit shared across instances) or an integer from ${minimum} (longer than PANORAMA_TIMEOUT_MS) to ${MAX_PERMIT_SECONDS}, got "${raw}"`,
    );
    return fallback;
  }
  return n;
}
