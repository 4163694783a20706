import type { IpTagMap } from '../tags/IpTagMap.js';

/** One IP with tags, as sent in a uid-message `<entry ip="…"><tag><member>…`. */
export interface IpTagEntry {
  ip: string;
  tags: readonly string[];
}

/**
 * Where a call goes: Panorama itself (no target) or a managed firewall by serial, in one of its
 * virtual systems. `targetOptions` in `shared/pipeline/pushTagDeltas.ts` maps a target id to it.
 */
export interface TargetOptions {
  /** Serial of a managed firewall (`target=<serial>`); absent = Panorama itself. */
  target?: string;
  /**
   * `vsys=` of the call. With `target`: the firewall's vsys, absent = its default (no `vsys` sent).
   * Without `target`: absent = `PANORAMA_VSYS` (`PanoramaConfig.vsys`), for Panorama itself only.
   */
  vsys?: string;
}

/** A per-entry failure reported by the device (not "already exists" / "does not exist"). */
export interface EntryFailure {
  ip: string;
  tags: readonly string[];
  message: string;
  /** The section the device rejected the entry in (set by `PanoramaClient`). */
  operation?: 'register' | 'unregister';
}

/** Outcome of a register/unregister call (possibly several chunks). */
export interface UidResult {
  /** Number of HTTP calls made. */
  calls: number;
  /** Entries the device rejected for a reason other than idempotent duplicates. */
  failures: EntryFailure[];
  /** Request bytes sent (form bodies), when the implementation measures them. */
  bytes?: number;
}

/** A firewall of a device group as `show devicegroups` reports it. */
export interface ManagedFirewall {
  serial: string;
  /** The device group that holds the firewall (the configured one, or one of its descendants). */
  deviceGroup: string;
  connected: boolean;
  hostname?: string;
  /** `<multi-vsys>yes</multi-vsys>`: the firewall runs several virtual systems. */
  multiVsys?: boolean;
  /**
   * The vsys of the firewall that belong to `deviceGroup` (`<vsys><entry name="vsys2"/>…`), sorted.
   * Empty or absent: the firewall's default vsys (a single-vsys firewall lists none).
   */
  vsys?: readonly string[];
  /** The configured notify device group the firewall was resolved through (`deviceGroup` or an ancestor). */
  notifyGroup?: string;
}

/**
 * What the pipeline needs from Panorama. The real client is `PanoramaClient`; the simulator in
 * `sim/panorama` speaks the same wire protocol.
 */
export interface PanoramaApi {
  /** Registers tags on IPs; "already exists" counts as success. */
  registerTags(entries: readonly IpTagEntry[], options?: TargetOptions): Promise<UidResult>;
  /** Unregisters tags from IPs; "does not exist" counts as success. */
  unregisterTags(entries: readonly IpTagEntry[], options?: TargetOptions): Promise<UidResult>;
  /**
   * Reads back registered IPs (paged, 500 per call). With `tagPrefixes`, keeps only tags starting
   * with one of them (and drops IPs left without tags).
   */
  listRegisteredIps(options?: TargetOptions & { tagPrefixes?: readonly string[] }): Promise<IpTagMap>;
  /**
   * Lists the firewalls of the named device groups and of all their descendants (`show dg-hierarchy`)
   * with their connected state and vsys; each carries the configured group in `notifyGroup`.
   */
  listDeviceGroupFirewalls(names: readonly string[]): Promise<ManagedFirewall[]>;
}
