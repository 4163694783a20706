import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AppConfig } from '../config/loadConfig.js';
import type { Logger } from '../logger.js';
import type { CallPermits } from '../panorama/CallPermits.js';
import { SharedCallLimit } from '../panorama/SharedCallLimit.js';
import { permitPartition } from '../state/PermitRepository.js';
import { PANORAMA_PERMIT_TABLE, PermitStore } from '../state/PermitStore.js';
import type { StorageClients } from './storageClients.js';

/**
 * Longest wait for a permit, at least: two minutes. It is never shorter than a permit's expiry plus
 * 30 s, so a permit a crashed instance left is always outwaited.
 */
export const MIN_PERMIT_WAIT_MS = 120_000;

/**
 * The Panorama call limit shared by every instance of the app (`PANORAMA_CONCURRENCY` permits in the
 * `panoramapermits` table of the app's storage account, one partition per Panorama), or undefined
 * when `PANORAMA_PERMIT_SECONDS` is 0.
 */
export function createCallPermits(
  config: AppConfig,
  storage: StorageClients,
  logger: Logger,
): CallPermits | undefined {
  if (config.panoramaPermitSeconds === 0) return undefined;
  const permitMs = config.panoramaPermitSeconds * 1000;
  return new SharedCallLimit({
    permits: new PermitStore(storage.table(PANORAMA_PERMIT_TABLE)),
    partition: permitPartition(config.panorama.url),
    limit: config.panorama.concurrency,
    permitMs,
    maxWaitMs: Math.max(MIN_PERMIT_WAIT_MS, permitMs + 30_000),
    owner: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    logger,
  });
}
