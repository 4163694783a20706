import type { PanoramaApi } from '../panorama/PanoramaApi.js';
import { parseTargetId } from '../panorama/targetId.js';
import type { ClusterStateRepository } from '../state/ClusterStateRepository.js';
import type { TargetStatusRepository } from '../state/TargetStatusRepository.js';
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

/** A target and the hostname its status rows last recorded. */
export interface KnownTarget {
  target: string;
  hostname?: string;
}

/** What `--target TEXT` names: one target, several (an ambiguous hostname), or none. */
export type TargetMatch =
  | { kind: 'target'; target: string; hostname?: string }
  | { kind: 'ambiguous'; candidates: KnownTarget[] }
  | { kind: 'unknown'; known: KnownTarget[] };

/**
 * Reads `text` as a target id (`panorama`, a serial, `SERIAL:vsysN`) or else as a hostname,
 * case-insensitively, among `known`: one target, several (a multi-vsys firewall, or two
 * firewalls sharing a name: ambiguous), or none. Candidates sorted by target id. Pure.
 */
export function matchTarget(text: string, known: readonly KnownTarget[]): TargetMatch {
  const hostnameOf = (target: string) => known.find((k) => k.target === target && k.hostname)?.hostname;
  if (parseTargetId(text)) {
    const hostname = hostnameOf(text);
    return { kind: 'target', target: text, ...(hostname ? { hostname } : {}) };
  }
  const wanted = text.toLowerCase();
  const byTarget = new Map<string, KnownTarget>();
  for (const k of known) if (k.hostname?.toLowerCase() === wanted) byTarget.set(k.target, k);
  const candidates = [...byTarget.values()].sort((a, b) => (a.target < b.target ? -1 : 1));
  if (candidates.length === 1) return { kind: 'target', ...(candidates[0] as KnownTarget) };
  if (candidates.length > 1) return { kind: 'ambiguous', candidates };
  return { kind: 'unknown', known: uniqueTargets(known) };
}

function uniqueTargets(known: readonly KnownTarget[]): KnownTarget[] {
  const byTarget = new Map<string, KnownTarget>();
  for (const k of known) if (!byTarget.get(k.target)?.hostname) byTarget.set(k.target, k);
  return [...byTarget.values()].sort((a, b) => (a.target < b.target ? -1 : 1));
}

/** The targets of the push and audit status rows, with the hostnames they recorded. Reads only. */
export async function listKnownTargets(deps: {
  targetStatus: TargetStatusRepository;
}): Promise<KnownTarget[]> {
  const [pushes, audits] = await Promise.all([
    deps.targetStatus.listPushStatus(),
    deps.targetStatus.listAuditStatus(),
  ]);
  return [...pushes, ...audits].map((r) => ({
    target: r.target,
    ...(r.hostname ? { hostname: r.hostname } : {}),
  }));
}
