import type { PanoramaApi } from '../panorama/PanoramaApi.js';
import type { ClusterStateRepository } from '../state/ClusterStateRepository.js';
import { isOwnedBy } from '../tags/tagGrammar.js';
import { hasCommittedState } from './clusterHead.js';
import { targetOptions } from './pushTagDeltas.js';

/** One registered IP of a target, its tags split by who owns them. */
export interface HeldIp {
  ip: string;
  /** Tags of the clusters managed here (`aks.<cluster>.…`, `aks_<selector>.<cluster>.…`). */
  owned: string[];
  /** Everything else: tags of people, other plugins, or clusters not managed here. */
  foreign: string[];
}

/**
 * Splits a target's read-back into owned and foreign tags per IP, by the clusters `managed` here
 * (lower case). IPs in code-unit order; tags sorted. Pure.
 */
export function splitHoldings(
  device: ReadonlyMap<string, readonly string[]>,
  managed: ReadonlySet<string>,
): HeldIp[] {
  return [...device.keys()].sort().map((ip) => {
    const tags = [...new Set(device.get(ip) ?? [])].sort();
    return {
      ip,
      owned: tags.filter((t) => isOwnedBy(t, managed)),
      foreign: tags.filter((t) => !isOwnedBy(t, managed)),
    };
  });
}

/** What a target holds now (a full read-back, every tag), split by owner. Reads only. */
export async function readTargetHoldings(
  deps: { panorama: PanoramaApi; clusterState: ClusterStateRepository },
  target: string,
): Promise<HeldIp[]> {
  const [device, heads] = await Promise.all([
    deps.panorama.listRegisteredIps(targetOptions(target)),
    deps.clusterState.listHeads(),
  ]);
  const managed = new Set(heads.filter(hasCommittedState).map((h) => h.cluster.toLowerCase()));
  return splitHoldings(device, managed);
}

/** Renders holdings for a terminal: one line per IP, owned tags then foreign ones. */
export function formatHoldings(target: string, held: readonly HeldIp[]): string {
  const owned = held.reduce((n, h) => n + h.owned.length, 0);
  const foreign = held.reduce((n, h) => n + h.foreign.length, 0);
  const lines = [
    `target ${target}: ${held.length} registered IPs, ${owned} owned tags, ${foreign} foreign tags`,
  ];
  for (const h of held) {
    lines.push(`  ${h.ip}  owned: ${h.owned.join(' ') || '-'}  foreign: ${h.foreign.join(' ') || '-'}`);
  }
  return `${lines.join('\n')}\n`;
}
