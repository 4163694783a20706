/**
 * Target id of Panorama itself. Other targets are a firewall's serial (its default vsys) or
 * `<serial>:<vsys>` (see `shared/panorama/targetId.ts`).
 */
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
  /** The firewall's hostname, as Panorama reported it when the targets were last resolved. */
  hostname?: string;
  /** The device group holding the firewall (the configured one or a descendant of it). */
  deviceGroup?: string;
  /** The vsys the cluster's tags go to; absent = the firewall's default. */
  vsys?: string;
}

/** Audit status of one target. */
export interface AuditStatus {
  target: string;
  /** The firewall's hostname, device group and vsys when the target was last audited. */
  hostname?: string;
  deviceGroup?: string;
  vsys?: string;
  lastAuditAt?: string;
  /** When the audit last re-registered every owned tag of the target (`TAG_TIMEOUT_MINUTES` only). */
  lastRefreshAt?: string;
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
