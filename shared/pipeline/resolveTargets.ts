import type { ClusterConfig } from '../config/loadConfig.js';
import type { ManagedFirewall, PanoramaApi } from '../panorama/PanoramaApi.js';
import { formatTargetId, isSerial } from '../panorama/targetId.js';
import { PANORAMA_TARGET } from '../state/TargetStatusRepository.js';

/** What is known of a firewall target: the firewall's hostname, its device group and vsys. */
export interface TargetInfo {
  serial: string;
  hostname?: string;
  /** The device group holding the firewall (the configured one or a descendant). */
  deviceGroup: string;
  /** The vsys the tags go to; absent = the firewall's default. */
  vsys?: string;
}

/** Where a cluster's tags go. */
export interface ClusterTargets {
  /** Targets to push to now: `panorama`, or the (firewall, vsys) ids of connected firewalls, sorted. */
  targets: string[];
  /** Targets of the device groups whose firewall is not connected (left to the audit), sorted. */
  disconnected: string[];
  /** Hostname, device group and vsys of every firewall target, by target id. */
  info: ReadonlyMap<string, TargetInfo>;
  /**
   * What is wrong with the resolution, one line each: a configured device group that resolves to
   * no firewall (nor do its descendants), a firewall whose serial cannot be a target.
   */
  problems: string[];
}

/**
 * The target ids of one firewall of a device group (see `shared/panorama/targetId.ts`): one per vsys
 * the group holds on a multi-vsys firewall, else the bare serial (the firewall's default vsys).
 */
export function firewallTargets(fw: ManagedFirewall): { id: string; info: TargetInfo }[] {
  const base = {
    serial: fw.serial,
    deviceGroup: fw.deviceGroup,
    ...(fw.hostname ? { hostname: fw.hostname } : {}),
  };
  if (!fw.multiVsys || !fw.vsys?.length) return [{ id: formatTargetId({ serial: fw.serial }), info: base }];
  return fw.vsys.map((vsys) => ({
    id: formatTargetId({ serial: fw.serial, vsys }),
    info: { ...base, vsys },
  }));
}

/**
 * Resolves a cluster's targets: Panorama itself when it has no notify device groups, otherwise
 * every (firewall, vsys) of those device groups and their descendants (connected ones to push to,
 * disconnected ones reported). A configured group with no firewall at all is a problem, not an
 * empty success.
 */
export async function resolveTargets(cluster: ClusterConfig, panorama: PanoramaApi): Promise<ClusterTargets> {
  if (cluster.deviceGroups.length === 0)
    return { targets: [PANORAMA_TARGET], disconnected: [], info: new Map(), problems: [] };
  const firewalls = await panorama.listDeviceGroupFirewalls(cluster.deviceGroups);
  const targets = new Set<string>();
  const disconnected = new Set<string>();
  const info = new Map<string, TargetInfo>();
  const problems: string[] = [];
  for (const fw of firewalls) {
    if (!isSerial(fw.serial)) {
      problems.push(
        `firewall "${fw.serial}" of device group ${fw.deviceGroup} has no usable serial; it gets no tags`,
      );
      continue;
    }
    for (const t of firewallTargets(fw)) {
      (fw.connected ? targets : disconnected).add(t.id);
      info.set(t.id, t.info);
    }
  }
  for (const s of targets) disconnected.delete(s);
  problems.unshift(...emptyGroupProblems(cluster.deviceGroups, firewalls));
  return { targets: [...targets].sort(), disconnected: [...disconnected].sort(), info, problems };
}

function emptyGroupProblems(names: readonly string[], firewalls: readonly ManagedFirewall[]): string[] {
  const resolved = new Set(firewalls.map((fw) => fw.notifyGroup ?? fw.deviceGroup));
  return [...new Set(names)]
    .filter((name) => !resolved.has(name))
    .map(
      (name) =>
        `device group ${name} resolves to no firewall (none in it nor in its descendants); no firewall of it receives the cluster's tags`,
    );
}

/** The fields of a status row that name a target's firewall: hostname, device group and vsys. */
export function targetStatusFields(info: TargetInfo): {
  hostname?: string;
  deviceGroup: string;
  vsys?: string;
} {
  return {
    deviceGroup: info.deviceGroup,
    ...(info.hostname ? { hostname: info.hostname } : {}),
    ...(info.vsys ? { vsys: info.vsys } : {}),
  };
}
