import type { DagExpression } from '../dag/DagExpression.js';
import { dagTags } from '../dag/dagTags.js';
import { formatDagExpression } from '../dag/formatDagExpression.js';
import { selectDagMembers } from '../dag/selectDagMembers.js';
import { quoteForMessage as q } from '../tags/quoteForMessage.js';
import { parseTag, serviceTag } from '../tags/tagGrammar.js';
import type { PipelineDeps } from './PipelineDeps.js';
import { targetOptions } from './pushTagDeltas.js';

/** One IP a match selects. */
export interface DagMember {
  ip: string;
  /** `<cluster>/<service>` of every Service tag `aks.<cluster>.<service>` the IP carries, sorted. */
  services: string[];
  /** Every tag the IP carries in the source, sorted. */
  tags: string[];
}

/** What {@link evaluateDag} found. */
export interface DagReport {
  /** The match in canonical form (`shared/dag/formatDagExpression.ts`). */
  expression: string;
  /** The last-known state of the configured clusters, or one target's read-back. */
  source: { kind: 'state'; clusters: string[] } | { kind: 'target'; target: string };
  /** The selected IPs, in code-unit order. */
  members: DagMember[];
  /** Doubts about the match: a tag no IP of the source carries, a target no cluster sends to. */
  warnings: string[];
}

/** Where {@link evaluateDag} reads from. */
export type DagEvaluationDeps = Pick<PipelineDeps, 'clusterState' | 'clusters' | 'panorama'>;

/** `<cluster>/<service>` of a Service tag, or undefined for any other tag. */
function serviceOfTag(tag: string): string | undefined {
  const parsed = parseTag(tag);
  if (parsed?.form !== 'service') return undefined;
  return `${parsed.cluster}/${tag.slice(serviceTag(parsed.cluster, '').length)}`;
}

/** The member entry of `ip`. */
function memberOf(ip: string, tags: readonly string[]): DagMember {
  const services = tags.map(serviceOfTag).filter((s): s is string => s !== undefined);
  return { ip, services: [...new Set(services)].sort(), tags: [...tags].sort() };
}

/** IP → tags of every configured cluster's committed state (an IP in several clusters: the union). */
async function readState(
  deps: DagEvaluationDeps,
): Promise<{ clusters: string[]; ipTags: Map<string, string[]> }> {
  const clusters = (await deps.clusters.listClusters()).map((c) => c.name).sort();
  const ipTags = new Map<string, string[]>();
  for (const cluster of clusters) {
    for (const [ip, tags] of await deps.clusterState.readIpTags(cluster)) {
      ipTags.set(ip, [...new Set([...(ipTags.get(ip) ?? []), ...tags])]);
    }
  }
  return { clusters, ipTags };
}

/** A warning for each tag of the match that no IP of the source carries. */
function absentTagWarnings(
  expression: DagExpression,
  ipTags: ReadonlyMap<string, readonly string[]>,
  state?: readonly string[],
): string[] {
  const carried = new Set([...ipTags.values()].flat());
  const managed = new Set(state?.map((c) => c.toLowerCase()));
  return dagTags(expression)
    .filter((tag) => !carried.has(tag))
    .map((tag) => {
      const owner = parseTag(tag)?.cluster.toLowerCase();
      if (state && (owner === undefined || !managed.has(owner)))
        return `tag ${q(tag)} is not a tag of a configured cluster, so the last-known state never holds it; --target SERIAL evaluates the match against a firewall's read-back`;
      return `tag ${q(tag)} is on no IP of ${state ? 'the last-known state' : 'the target'} (a typo?)`;
    });
}

/** A warning when no configured cluster's last recompute sent to `target`. */
async function unknownTargetWarning(deps: DagEvaluationDeps, target: string): Promise<string[]> {
  const heads = await deps.clusterState.listHeads();
  if (heads.some((h) => h.targets.includes(target))) return [];
  return [`target ${q(target)} is not a target of any cluster's last recompute`];
}

/**
 * Evaluates a Dynamic Address Group match (`shared/dag/`) against the last-known state of the
 * configured clusters, or with `target` against that target's read-back (every registered tag, ours
 * and others'). Reads only; a failing read throws.
 */
export async function evaluateDag(
  expression: DagExpression,
  deps: DagEvaluationDeps,
  options: { target?: string } = {},
): Promise<DagReport> {
  const { target } = options;
  const read =
    target === undefined
      ? await readState(deps)
      : { clusters: undefined, ipTags: await deps.panorama.listRegisteredIps(targetOptions(target)) };
  const warnings = absentTagWarnings(expression, read.ipTags, read.clusters);
  if (target !== undefined) warnings.push(...(await unknownTargetWarning(deps, target)));
  return {
    expression: formatDagExpression(expression),
    source:
      target === undefined ? { kind: 'state', clusters: read.clusters ?? [] } : { kind: 'target', target },
    members: selectDagMembers(expression, read.ipTags).map((ip) => memberOf(ip, read.ipTags.get(ip) ?? [])),
    warnings,
  };
}
