import type { ClusterConfig } from '../config/loadConfig.js';
import type { PanoramaApi } from '../panorama/PanoramaApi.js';
import { PANORAMA_TARGET } from '../state/TargetStatusRepository.js';

/** Where a cluster's tags go. */
export interface ClusterTargets {
  /** Targets to push to now: `panorama`, or the serials of connected firewalls. */
  targets: string[];
  /** Firewalls of the device groups that are not connected (left to the audit). */
  disconnected: string[];
}

/**
 * Resolves a cluster's targets: Panorama itself when it has no notify device groups, otherwise
 * every firewall of those device groups (connected ones to push to, disconnected ones reported).
 */
export async function resolveTargets(cluster: ClusterConfig, panorama: PanoramaApi): Promise<ClusterTargets> {
  if (cluster.deviceGroups.length === 0) return { targets: [PANORAMA_TARGET], disconnected: [] };
  const firewalls = await panorama.listDeviceGroupFirewalls(cluster.deviceGroups);
  const targets = new Set<string>();
  const disconnected = new Set<string>();
  for (const fw of firewalls) (fw.connected ? targets : disconnected).add(fw.serial);
  for (const s of targets) disconnected.delete(s);
  return { targets: [...targets].sort(), disconnected: [...disconnected].sort() };
}
