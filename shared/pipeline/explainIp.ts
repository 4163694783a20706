import type { ClusterConfig, NamedSelector } from '../config/loadConfig.js';
import { describeError, FailureKind, InputError, SyncError } from '../errors.js';
import type { KubeService } from '../kubernetes/KubeService.js';
import { formatLabelSelector } from '../selectors/formatLabelSelector.js';
import { matchesSelector } from '../selectors/matchesSelector.js';
import type { ClusterHead } from '../state/ClusterStateRepository.js';
import { computeIpTags, tagOptionsOf } from '../tags/computeIpTags.js';
import { isInternalLoadBalancer } from '../tags/isInternalLoadBalancer.js';
import { labelKeyFilter } from '../tags/labelTagFilter.js';
import { normalizeIp } from '../tags/normalizeIp.js';
import { shortenTag } from '../tags/shortenTag.js';
import {
  labelTag,
  MAX_TAG_LENGTH,
  MAX_TAGS_PER_IP,
  ownerClusterOfTag,
  selectorTag,
} from '../tags/tagGrammar.js';
import { tagProblem } from '../tags/tagProblem.js';
import type { PipelineDeps } from './PipelineDeps.js';
import { targetOptions } from './pushTagDeltas.js';

/** Why a label of a Service has (or has no) label tag on the IP. */
export type LabelTagStatus = 'tagged' | 'filtered' | 'cut' | 'refused' | 'not-a-string';

/** One label of a Service and what became of it. */
export interface LabelExplanation {
  key: string;
  value: string;
  /** The label tag as registered (shortened past 127 characters); absent when `filtered`. */
  tag?: string;
  /** `filtered`: the cluster's `labelTags` leaves the key out; `cut`: dropped by the tag budget. */
  status: LabelTagStatus;
}

/** One configured selector of the cluster and whether the Service matched it. */
export interface SelectorExplanation {
  name: string;
  selector: string;
  matched: boolean;
  /** The selector tag (when matched) and whether the budget cut it. */
  tag?: string;
  cut?: boolean;
  /** The requirements the Service's labels fail (when not matched), in selector syntax. */
  failing: string[];
}

/** A Service behind the IP. */
export interface ServiceExplanation {
  /** `namespace/name`. */
  service: string;
  labels: LabelExplanation[];
  selectors: SelectorExplanation[];
}

/** What one target holds for the IP compared with the committed state. */
export interface TargetExplanation {
  target: string;
  /** Every tag the target has registered on the IP (ours and others'); absent when it could not be read. */
  held?: string[];
  /** Committed tags the target does not hold (the next push or audit registers them). */
  missing?: string[];
  /** Tags of this cluster the target holds that the committed state no longer has. */
  stale?: string[];
  /** Why the target could not be read. */
  error?: string;
}

/** The explanation of the IP in one cluster that owns it. */
export interface ClusterExplanation {
  cluster: string;
  generation: number;
  /** The IP's tags in the last-known (committed) state. */
  committed: string[];
  /** The Services of the cluster with this IP now (empty when they could not be listed). */
  services: ServiceExplanation[];
  /** The tags the IP gets from the live Services (absent when they could not be listed). */
  wanted?: string[];
  /** The IP's tag budget and the tags it cut. */
  budget: number;
  cut: string[];
  /** Issues of the tag engine about these Services or this IP, one line each. */
  issues: string[];
  /** Why the live Services could not be listed. */
  liveError?: string;
  targets: TargetExplanation[];
}

/** What {@link explainIp} found. */
export interface IpExplanation {
  ip: string;
  clusters: ClusterExplanation[];
}

/** Where {@link explainIp} reads from. */
export type ExplainDeps = Pick<PipelineDeps, 'clusterState' | 'clusters' | 'services' | 'panorama'>;

/** Thrown when no configured cluster's last-known state holds the IP (the command line: exit 1). */
export class UnknownIpError extends SyncError {
  constructor(ip: string, clusters: readonly string[]) {
    super(
      `IP ${ip} is in the last-known state of no configured cluster (${clusters.join(', ') || 'none configured'})`,
      { kind: FailureKind.permanent, details: { ip, clusters } },
    );
    this.name = 'UnknownIpError';
  }
}

/** The canonical form of `text`, or an {@link InputError} saying why it is no IP. */
function canonicalIp(text: string): string {
  const n = normalizeIp(text);
  if (!n.ok) throw new InputError(`${JSON.stringify(text)} is not an IP address: ${n.reason}`);
  return n.ip;
}

/** Whether the Service is an internal load balancer with `ip` among its ingress IPs. */
function hasIp(service: KubeService, ip: string): boolean {
  if (!isInternalLoadBalancer(service)) return false;
  const ingress = service.status?.loadBalancer?.ingress;
  return (
    Array.isArray(ingress) &&
    ingress.some((e) => {
      const n = normalizeIp(e?.ip);
      return n.ok && n.ip === ip;
    })
  );
}

function fitted(tag: string): string {
  return tag.length > MAX_TAG_LENGTH ? shortenTag(tag) : tag;
}

function refOf(service: KubeService): string {
  return `${service.metadata?.namespace ?? 'default'}/${service.metadata?.name ?? ''}`;
}

/** What became of one label: filtered, refused, cut by the budget or tagged. */
function explainLabel(
  cluster: ClusterConfig,
  key: string,
  value: unknown,
  cut: ReadonlySet<string>,
): LabelExplanation {
  if (typeof value !== 'string') return { key, value: String(value), status: 'not-a-string' };
  if (labelKeyFilter(cluster.labelTags)?.(key) === false) return { key, value, status: 'filtered' };
  const full = labelTag(cluster.name, key, value);
  if (tagProblem(full) !== undefined) return { key, value, tag: full, status: 'refused' };
  const tag = fitted(full);
  return { key, value, tag, status: cut.has(tag) ? 'cut' : 'tagged' };
}

/** Whether the Service matched one selector, its tag, and the requirements it fails. */
function explainSelector(
  cluster: ClusterConfig,
  s: NamedSelector,
  service: KubeService,
  cut: ReadonlySet<string>,
): SelectorExplanation {
  const labels = service.metadata?.labels;
  const selector = formatLabelSelector(s.selector);
  if (!matchesSelector(s.selector, labels)) {
    const failing = s.selector.requirements
      .filter((r) => !matchesSelector({ requirements: [r] }, labels))
      .map((r) => formatLabelSelector({ requirements: [r] }));
    return { name: s.name, selector, matched: false, failing };
  }
  const tag = fitted(selectorTag(s.name, cluster.name, service.metadata?.name ?? ''));
  return { name: s.name, selector, matched: true, tag, cut: cut.has(tag), failing: [] };
}

function explainService(
  cluster: ClusterConfig,
  service: KubeService,
  cut: ReadonlySet<string>,
): ServiceExplanation {
  const labels = Object.entries((service.metadata?.labels ?? {}) as Record<string, unknown>);
  return {
    service: refOf(service),
    labels: labels.map(([key, value]) => explainLabel(cluster, key, value, cut)),
    selectors: cluster.labelSelectors.map((s) => explainSelector(cluster, s, service, cut)),
  };
}

/** The live part of a cluster's explanation: Services, wanted tags, cut and issues. */
async function explainLive(deps: ExplainDeps, cluster: ClusterConfig, ip: string) {
  const all = await deps.services.listServices(cluster);
  const mine = all.filter((s) => hasIp(s, ip));
  const result = computeIpTags(all, tagOptionsOf(cluster));
  const cut = result.cuts.find((c) => c.ip === ip)?.dropped ?? [];
  const refs = new Set(mine.map(refOf));
  const issues = result.issues
    .filter((i) => i.ip === ip || (i.service !== undefined && refs.has(i.service)))
    .map((i) => `${i.severity}: ${i.message}`);
  const cutSet = new Set(cut);
  return {
    services: mine
      .map((s) => explainService(cluster, s, cutSet))
      .sort((a, b) => (a.service < b.service ? -1 : 1)),
    wanted: [...(result.tags.get(ip) ?? [])],
    cut,
    issues,
  };
}

/** What one target holds for the IP, against the committed tags of `cluster`. */
async function explainTarget(
  deps: ExplainDeps,
  target: string,
  cluster: string,
  ip: string,
  committed: readonly string[],
): Promise<TargetExplanation> {
  try {
    const held = [...((await deps.panorama.listRegisteredIps(targetOptions(target))).get(ip) ?? [])].sort();
    const has = new Set(held);
    const want = new Set(committed);
    const owned = (t: string) => ownerClusterOfTag(t)?.toLowerCase() === cluster.toLowerCase();
    return {
      target,
      held,
      missing: committed.filter((t) => !has.has(t)),
      stale: held.filter((t) => owned(t) && !want.has(t)),
    };
  } catch (err) {
    return { target, error: describeError(err) };
  }
}

/** The explanation of `ip` in `cluster`, whose committed state holds it with `committed`. */
async function explainCluster(
  deps: ExplainDeps,
  cluster: ClusterConfig,
  head: ClusterHead | undefined,
  ip: string,
  committed: readonly string[],
): Promise<ClusterExplanation> {
  let live: Awaited<ReturnType<typeof explainLive>> | { liveError: string };
  try {
    live = await explainLive(deps, cluster, ip);
  } catch (err) {
    live = { liveError: describeError(err) };
  }
  const targets: TargetExplanation[] = [];
  for (const t of head?.targets ?? [])
    targets.push(await explainTarget(deps, t, cluster.name, ip, committed));
  return {
    cluster: cluster.name,
    generation: head?.generation ?? 0,
    committed: [...committed].sort(),
    budget: cluster.maxTagsPerIp ?? MAX_TAGS_PER_IP,
    ...('liveError' in live ? { services: [], cut: [], issues: [], liveError: live.liveError } : live),
    targets,
  };
}

/**
 * Explains an IP: which configured clusters' last-known state holds it and with which tags; the
 * live Services behind it with their labels (tagged, filtered by `labelTags`, refused, cut by the
 * budget), the selectors they match or the requirements they fail; the tags wanted now; and for
 * each target of the cluster's last recompute what the device holds (missing and stale tags).
 * Reads only. A cluster whose Services cannot be listed, or a target that cannot be read, is
 * reported in the result (`liveError`, `error`), not thrown.
 *
 * @throws InputError when `ipText` is not an IP; {@link UnknownIpError} when no state holds it.
 */
export async function explainIp(ipText: string, deps: ExplainDeps): Promise<IpExplanation> {
  const ip = canonicalIp(ipText);
  const configured = await deps.clusters.listClusters();
  const clusters: ClusterExplanation[] = [];
  for (const cluster of configured) {
    const committed = (await deps.clusterState.readIpTagsFor(cluster.name, [ip])).get(ip);
    if (committed === undefined) continue;
    const head = await deps.clusterState.getHead(cluster.name);
    clusters.push(await explainCluster(deps, cluster, head, ip, committed));
  }
  if (clusters.length === 0)
    throw new UnknownIpError(
      ip,
      configured.map((c) => c.name),
    );
  return { ip, clusters };
}
