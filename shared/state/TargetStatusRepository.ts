/** Target id of Panorama itself (other targets are firewall serials). */
export const PANORAMA_TARGET = 'panorama';

/** Push status of one cluster on one target. */
export interface TargetStatus {
  cluster: string;
  target: string;
  lastPushAt?: string;
  lastPushGeneration?: number;
  registered?: number;
  unregistered?: number;
  lastError?: string;
  lastErrorAt?: string;
  /** Entries the device rejected permanently in the last push (0 when it succeeded). */
  failedEntries?: number;
  /** True when the firewall was not connected at the last attempt (left to the audit). */
  disconnected?: boolean;
}

/** Audit status of one target. */
export interface AuditStatus {
  target: string;
  lastAuditAt?: string;
  registered?: number;
  unregistered?: number;
  lastError?: string;
  lastErrorAt?: string;
}

/**
 * Longest string kept in a status row (a Table string property holds 32 K characters); longer ones
 * are cut, ending in `…`.
 */
export const MAX_STATUS_ERROR_CHARS = 2000;

/**
 * Status rows for `status`: unconditional merges, since they only report. A record merges its
 * defined fields into the row (undefined fields leave the stored ones alone) and cuts strings longer
 * than {@link MAX_STATUS_ERROR_CHARS}. Push rows are keyed by (cluster case-insensitively, target).
 */
export interface TargetStatusRepository {
  /** Merges fields into the status of (cluster, target). */
  recordPush(status: TargetStatus): Promise<void>;
  /** Merges fields into the audit status of a target. */
  recordAudit(status: AuditStatus): Promise<void>;
  /** Lists every push status row. */
  listPushStatus(): Promise<TargetStatus[]>;
  /** Lists every audit status row. */
  listAuditStatus(): Promise<AuditStatus[]>;
}
