import type { ClusterConfig, NamedSelector } from '../config/loadConfig.js';
import { InputError } from '../errors.js';
import type { KubeService } from '../kubernetes/KubeService.js';
import { matchesSelector } from '../selectors/matchesSelector.js';
import {
  type ClusterTagFacts,
  sharedServiceTagWarnings,
  unmatchedSelectorWarnings,
} from './clusterTagWarnings.js';
import type { IpTagMap } from './IpTagMap.js';
import { isInternalLoadBalancer } from './isInternalLoadBalancer.js';
import { type LabelTagFilter, labelGlobProblem, labelKeyFilter } from './labelTagFilter.js';
import { isCanonicalIpv4, normalizeIp } from './normalizeIp.js';
import { quoteForMessage as q } from './quoteForMessage.js';
import { shortenTag } from './shortenTag.js';
import type { TagIssue } from './TagIssue.js';
import { applyTagBudget, type BudgetFacts, cutToBudget, cutWarning, type TagCut } from './tagBudget.js';
import {
  invalidClusterNameMessage,
  invalidSelectorNameMessage,
  isClusterName,
  isSelectorName,
  isTagBudget,
  labelTag,
  MAX_TAG_LENGTH,
  MAX_TAGS_PER_IP,
  namespaceTag,
  selectorTag,
  serviceTag,
  TAG_BUDGET_RULE,
} from './tagGrammar.js';
import { tagProblem } from './tagProblem.js';

/** Input of {@link computeIpTags}; {@link tagOptionsOf} takes it from a cluster's configuration. */
export interface ComputeIpTagsOptions {
  /** The AKS cluster name used in tags (1–63 letters, digits, `-`, `_`). */
  cluster: string;
  /** The label selectors configured for the cluster. */
  selectors: readonly NamedSelector[];
  /**
   * The most tags one IP gets (1–32, default {@link MAX_TAGS_PER_IP}); what is kept when an IP has
   * more is in `shared/tags/tagBudget.ts`.
   */
  maxTagsPerIp?: number;
  /** Which label keys become label tags (default every one); selectors still match on all labels. */
  labelTags?: LabelTagFilter;
  /** Whether every IP of a Service also gets `aks.<cluster>.ns.<namespace>` (default false). */
  namespaceTags?: boolean;
}

export type { TagCut } from './tagBudget.js';

/** Output of {@link computeIpTags}. */
export interface ComputeIpTagsResult {
  /** IP → unique tags in code-unit order, at most the budget per IP; IPs in code-unit order. */
  tags: IpTagMap;
  /** Everything skipped, changed or doubtful, one entry each; never thrown. */
  issues: TagIssue[];
  /** One entry per IP whose tags were cut to its budget (each also reported in `issues`), by IP. */
  cuts: TagCut[];
}

/** The options of {@link computeIpTags} for `cluster` as configured. */
export function tagOptionsOf(cluster: ClusterConfig): ComputeIpTagsOptions {
  return {
    cluster: cluster.name,
    selectors: cluster.labelSelectors,
    maxTagsPerIp: cluster.maxTagsPerIp,
    labelTags: cluster.labelTags,
    namespaceTags: cluster.namespaceTags,
  };
}

/** A tag refused by {@link tagProblem}, cached like a valid tag. */
interface Refused {
  problem: string;
  tag: string;
}

type Cached = string | Refused;

/** True for a plain object (not null, not an array): what a Service list item must be. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function serviceRef(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** Sorts in code-unit order; insertion sort beats `Array#sort` for the handful of tags of one Service. */
function sortTags(a: string[]): void {
  if (a.length > 16) {
    a.sort();
    return;
  }
  for (let i = 1; i < a.length; i++) {
    const x = a[i] as string;
    let j = i - 1;
    while (j >= 0 && (a[j] as string) > x) {
      a[j + 1] = a[j] as string;
      j--;
    }
    a[j + 1] = x;
  }
}

function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    let next: string;
    if (y === undefined || (x !== undefined && x < y)) {
      next = x as string;
      i++;
    } else if (x === undefined || y < x) {
      next = y;
      j++;
    } else {
      next = x;
      i++;
      j++;
    }
    if (out[out.length - 1] !== next) out.push(next);
  }
  return out;
}

/** State shared by the steps of one {@link computeIpTags} call. */
interface TagRun extends BudgetFacts, ClusterTagFacts {
  /** Whether a label key is tagged; `undefined` = every key. */
  keepLabel: ((key: string) => boolean) | undefined;
  issues: TagIssue[];
  /** Full tag → shortened tag, so each tag is warned about once. */
  shortened: Map<string, string>;
  /** Label key → value → tag or refusal; `null` for a key the label filter leaves out. */
  labelCache: Map<string, Map<string, Cached> | null>;
  /** Namespace → namespace tag or refusal. */
  namespaceCache: Map<string, Cached>;
  matched: boolean[];
  /** Service name → namespace of the first Service whose name tag was produced. */
  firstNamespace: Map<string, string>;
  sharedNames: Map<string, Set<string>>;
}

/** An internal load-balancer Service with a name and at least one ingress entry. */
interface EligibleService {
  metadata: Record<string, unknown>;
  name: string;
  namespace: string;
  ingress: unknown[];
}

/** Throws {@link InputError} for an invalid cluster or selector name, budget or label glob. */
function assertValidOptions({ cluster, selectors, maxTagsPerIp, labelTags }: ComputeIpTagsOptions): void {
  if (!isClusterName(cluster)) throw new InputError(invalidClusterNameMessage(q(String(cluster))));
  for (const s of selectors) {
    if (!isSelectorName(s.name)) throw new InputError(invalidSelectorNameMessage(q(String(s.name))));
  }
  if (maxTagsPerIp !== undefined && !isTagBudget(maxTagsPerIp))
    throw new InputError(`invalid tag budget ${q(String(maxTagsPerIp))}: expected ${TAG_BUDGET_RULE}`);
  for (const glob of [...(labelTags?.include ?? []), ...(labelTags?.exclude ?? [])]) {
    const problem = labelGlobProblem(glob);
    if (problem !== undefined) throw new InputError(`invalid label glob ${q(String(glob))}: it ${problem}`);
  }
}

function startRun(options: ComputeIpTagsOptions): TagRun {
  const { cluster, selectors } = options;
  return {
    cluster,
    selectors,
    budget: options.maxTagsPerIp ?? MAX_TAGS_PER_IP,
    keepLabel: labelKeyFilter(options.labelTags),
    namespaceTags: options.namespaceTags === true,
    where: `in cluster ${cluster}`,
    issues: [],
    shortened: new Map(),
    labelCache: new Map(),
    namespaceCache: new Map(),
    matched: selectors.map(() => false),
    checked: 0,
    firstNamespace: new Map(),
    sharedNames: new Map(),
  };
}

function refOf(svc: EligibleService): string {
  return serviceRef(svc.namespace, svc.name);
}

/** The list item as an eligible Service, or `undefined` (non-objects and nameless ones reported). */
function toEligibleService(run: TagRun, item: unknown, index: number): EligibleService | undefined {
  const { cluster, where } = run;
  if (!isRecord(item)) {
    run.issues.push({
      severity: 'error',
      cluster,
      message: `item ${index} of the Service list ${where} is not an object; skipped`,
    });
    return undefined;
  }
  if (!isInternalLoadBalancer(item)) return undefined;
  const ingress = (item as KubeService).status?.loadBalancer?.ingress;
  if (!Array.isArray(ingress) || ingress.length === 0) return undefined;

  const metadata = item.metadata as Record<string, unknown>;
  const name = metadata.name;
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : 'default';
  if (typeof name !== 'string' || name === '') {
    run.issues.push({
      severity: 'error',
      cluster,
      message: `item ${index} of the Service list ${where} is an internal load balancer without metadata.name; skipped`,
    });
    return undefined;
  }
  return { metadata, name, namespace, ingress };
}

/** The canonical form of a non-canonical ingress IP, or `undefined` if unusable (reported either way). */
function normalizeIngressIp(run: TagRun, svc: EligibleService, raw: unknown): string | undefined {
  const { cluster, where } = run;
  const n = normalizeIp(raw);
  const shown = typeof raw === 'string' ? q(raw) : String(raw);
  const ref = refOf(svc);
  if (!n.ok) {
    run.issues.push({
      severity: 'error',
      cluster,
      service: ref,
      ...(typeof raw === 'string' ? { ip: raw } : {}),
      message: `Service ${q(ref)} ${where}: ingress IP ${shown} is not usable (${n.reason}); not tagged`,
    });
    return undefined;
  }
  if (n.note !== undefined)
    run.issues.push({
      severity: 'warning',
      cluster,
      service: ref,
      ip: raw as string,
      message: `Service ${q(ref)} ${where}: ingress IP ${shown} is an ${n.note}`,
    });
  return n.ip;
}

/** The Service's usable ingress IPs, canonical and unique, in ingress order. */
function collectIngressIps(run: TagRun, svc: EligibleService): string[] {
  const ips: string[] = [];
  for (const entry of svc.ingress) {
    if (!isRecord(entry) || entry.ip === undefined) continue;
    const raw = entry.ip;
    if (isCanonicalIpv4(raw)) {
      ips.push(raw);
      continue;
    }
    const ip = normalizeIngressIp(run, svc, raw);
    if (ip !== undefined) ips.push(ip);
  }
  return ips.length > 1 ? [...new Set(ips)] : ips;
}

/** Shortens an over-long tag, warning the first time each tag is shortened. */
function shortenWithWarning(run: TagRun, full: string, service: string, label?: string): string {
  let short = run.shortened.get(full);
  if (short === undefined) {
    short = shortenTag(full);
    run.shortened.set(full, short);
    run.issues.push({
      severity: 'warning',
      cluster: run.cluster,
      service,
      ...(label === undefined ? {} : { label }),
      message: `tag ${q(full)} of Service ${q(service)} ${run.where} is ${full.length} characters long (PAN-OS allows ${MAX_TAG_LENGTH}); registered as ${q(short)}`,
    });
  }
  return short;
}

/** The tag itself, or its shortened form if longer than {@link MAX_TAG_LENGTH}. */
function fitTag(run: TagRun, full: string, svc: EligibleService, label?: string): string {
  return full.length > MAX_TAG_LENGTH ? shortenWithWarning(run, full, refOf(svc), label) : full;
}

/** Reports a tag refused by {@link tagProblem}; `what` names its source. */
function reportRefusedTag(
  run: TagRun,
  svc: EligibleService,
  label: string | undefined,
  refused: Refused,
  what: string,
): void {
  const service = refOf(svc);
  run.issues.push({
    severity: 'error',
    cluster: run.cluster,
    service,
    ...(label === undefined ? {} : { label }),
    message: `Service ${q(service)} ${run.where}: ${what} gives tag ${q(refused.tag)}, which ${refused.problem}; tag not produced`,
  });
}

/** Pushes the Service's name tag, or reports its refusal; returns whether it was accepted. */
function pushNameTag(run: TagRun, svc: EligibleService, tags: string[]): boolean {
  const tag = serviceTag(run.cluster, svc.name);
  const problem = tagProblem(tag);
  if (problem !== undefined) {
    reportRefusedTag(run, svc, undefined, { problem, tag }, 'its name');
    return false;
  }
  tags.push(fitTag(run, tag, svc));
  return true;
}

/** Pushes the namespace tag of the Service, or reports its refusal (computed once per namespace). */
function pushNamespaceTag(run: TagRun, svc: EligibleService, tags: string[]): void {
  let cached = run.namespaceCache.get(svc.namespace);
  if (cached === undefined) {
    const full = namespaceTag(run.cluster, svc.namespace);
    const problem = tagProblem(full);
    cached = problem !== undefined ? { problem, tag: full } : fitTag(run, full, svc);
    run.namespaceCache.set(svc.namespace, cached);
  }
  if (typeof cached === 'string') tags.push(cached);
  else reportRefusedTag(run, svc, undefined, cached, 'its namespace');
}

/** Remembers the namespace behind the Service's name tag, to find names used in several namespaces. */
function noteNamespace(run: TagRun, svc: EligibleService): void {
  const first = run.firstNamespace.get(svc.name);
  if (first === undefined) run.firstNamespace.set(svc.name, svc.namespace);
  else if (first !== svc.namespace) {
    const all = run.sharedNames.get(svc.name) ?? new Set([first]);
    run.sharedNames.set(svc.name, all.add(svc.namespace));
  }
}

/**
 * The fitted tag or refusal of one label, computed once per key and value; `undefined` when the
 * label filter leaves the key out.
 */
function labelTagOf(run: TagRun, svc: EligibleService, key: string, value: string): Cached | undefined {
  let byValue = run.labelCache.get(key);
  if (byValue === undefined) {
    byValue = run.keepLabel === undefined || run.keepLabel(key) ? new Map() : null;
    run.labelCache.set(key, byValue);
  }
  if (byValue === null) return undefined;
  let cached = byValue.get(value);
  if (cached === undefined) {
    const full = labelTag(run.cluster, key, value);
    const problem = tagProblem(full);
    cached = problem !== undefined ? { problem, tag: full } : fitTag(run, full, svc, key);
    byValue.set(value, cached);
  }
  return cached;
}

/** `metadata.labels`, `undefined` if absent, or `false` if not an object (reported). */
function readLabels(run: TagRun, svc: EligibleService): Record<string, unknown> | undefined | false {
  const raw = svc.metadata.labels;
  if (raw === undefined || raw === null) return undefined;
  if (isRecord(raw)) return raw;
  const ref = refOf(svc);
  run.issues.push({
    severity: 'error',
    cluster: run.cluster,
    service: ref,
    message: `Service ${q(ref)} ${run.where}: metadata.labels is not an object; no label or selector tags produced`,
  });
  return false;
}

/** Pushes the tag of each label; reports non-string values and refused tags. Returns whether all values were strings. */
function pushLabelTags(
  run: TagRun,
  svc: EligibleService,
  labels: Record<string, unknown>,
  tags: string[],
): boolean {
  let allStrings = true;
  for (const key of Object.keys(labels)) {
    const value = labels[key];
    if (typeof value !== 'string') {
      allStrings = false;
      const ref = refOf(svc);
      run.issues.push({
        severity: 'error',
        cluster: run.cluster,
        service: ref,
        label: key,
        message: `Service ${q(ref)} ${run.where}: label ${q(key)} has a ${value === null ? 'null' : typeof value} value instead of a string; its tag and the Service's selector tags are not produced`,
      });
      continue;
    }
    const t = labelTagOf(run, svc, key, value);
    if (typeof t === 'string') tags.push(t);
    else if (t !== undefined) reportRefusedTag(run, svc, key, t, `label ${q(key)}`);
  }
  return allStrings;
}

/** Pushes the tag of each configured selector the labels match. */
function pushSelectorTags(
  run: TagRun,
  svc: EligibleService,
  labels: Record<string, string> | undefined,
  tags: string[],
): void {
  const { selectors, matched } = run;
  run.checked++;
  for (let i = 0; i < selectors.length; i++) {
    const s = selectors[i] as NamedSelector;
    if (!matchesSelector(s.selector, labels)) continue;
    matched[i] = true;
    tags.push(fitTag(run, selectorTag(s.name, run.cluster, svc.name), svc));
  }
}

/** The Service's name, namespace, label and selector tags, unsorted and possibly repeated. */
function buildServiceTags(run: TagRun, svc: EligibleService): string[] {
  const tags: string[] = [];
  const nameAccepted = pushNameTag(run, svc, tags);
  if (nameAccepted) noteNamespace(run, svc);
  if (run.namespaceTags) pushNamespaceTag(run, svc, tags);
  const labels = readLabels(run, svc);
  if (labels === false) return tags;
  const labelsUsable = labels === undefined || pushLabelTags(run, svc, labels, tags);
  if (labelsUsable && nameAccepted)
    pushSelectorTags(run, svc, labels as Record<string, string> | undefined, tags);
  return tags;
}

/** Sorts `tags` in place in code-unit order and returns them without repeats. */
function sortUnique(tags: string[]): string[] {
  sortTags(tags);
  for (let i = 1; i < tags.length; i++) {
    if (tags[i] === tags[i - 1]) return [...new Set(tags)];
  }
  return tags;
}

/** Merges one Service's sorted unique tags into the tags of each of its IPs. */
function addTagsToIps(byIp: Map<string, string[]>, ips: readonly string[], tags: string[]): void {
  for (const ip of ips) {
    const existing = byIp.get(ip);
    byIp.set(ip, existing === undefined ? tags : mergeSorted(existing, tags));
  }
}

/** Tags the IPs of list item `index`, if it is an eligible Service. */
function tagService(run: TagRun, byIp: Map<string, string[]>, item: unknown, index: number): void {
  const svc = toEligibleService(run, item, index);
  if (svc === undefined) return;
  const ips = collectIngressIps(run, svc);
  if (ips.length === 0) return;
  const tags = buildServiceTags(run, svc);
  if (tags.length === 0) return;
  addTagsToIps(byIp, ips, sortUnique(tags));
}

/**
 * IP → `namespace/name` of every eligible Service with that IP (unique, code-unit order), for the
 * IPs in `ips`: a second, quiet pass over the list, made only when an IP was cut.
 */
function servicesOnIps(run: TagRun, services: readonly unknown[], ips: ReadonlySet<string>) {
  const quiet: TagRun = { ...run, issues: [] };
  const byIp = new Map<string, Set<string>>();
  services.forEach((item, index) => {
    const svc = toEligibleService(quiet, item, index);
    if (svc === undefined) return;
    for (const ip of collectIngressIps(quiet, svc)) {
      if (ips.has(ip)) byIp.set(ip, (byIp.get(ip) ?? new Set()).add(refOf(svc)));
    }
  });
  return new Map([...byIp].map(([ip, refs]) => [ip, [...refs].sort()]));
}

/** The IP → tags map with IPs in code-unit order. */
function sortByIp(byIp: ReadonlyMap<string, string[]>): IpTagMap {
  const result = new Map<string, readonly string[]>();
  for (const ip of [...byIp.keys()].sort()) result.set(ip, byIp.get(ip) as string[]);
  return result;
}

/**
 * Computes the IP tags of one cluster's Services (forms and budget in `shared/tags/tagGrammar.ts`), purely.
 *
 * A Service is eligible when `spec.type` is `LoadBalancer`, the annotation
 * `service.beta.kubernetes.io/azure-load-balancer-internal` is `true` (any case) and it has at least
 * one `status.loadBalancer.ingress[].ip`. Each of its IPs (canonicalised by {@link normalizeIp})
 * gets `aks.<cluster>.<service>`, `aks.<cluster>.ns.<namespace>` when `namespaceTags` is set,
 * `aks.<cluster>.svc.<label>.<value>` per label the `labelTags` filter lets through, and
 * `aks_<selector>.<cluster>.<service>` per selector its labels (all of them) match. IPs shared by
 * several Services get the union, cut to `maxTagsPerIp` ({@link cutToBudget}: one warning and one
 * {@link TagCut} per IP cut). Tags longer than 127 characters are shortened ({@link shortenTag})
 * with one warning per tag; tags PAN-OS would refuse ({@link tagProblem}) are left out with an
 * error naming the Service, cluster and label. A Service without `metadata.namespace` is taken to
 * be in `default`, as the API server would place it. Also warned about: a Service tag standing for
 * Services of several namespaces, and a selector that matches none of the tagged Services.
 *
 * Hostile items (non-objects, missing names, non-string labels, invalid IPs) become issues; the
 * rest proceeds. Non-eligible Services are skipped silently. The result depends on the set of
 * Services and labels only, not on their order.
 *
 * @throws InputError only for bad options: an invalid cluster or selector name, budget or label glob.
 * @example computeIpTags(list.items, tagOptionsOf(cluster))
 */
export function computeIpTags(
  services: readonly KubeService[],
  options: ComputeIpTagsOptions,
): ComputeIpTagsResult {
  assertValidOptions(options);
  const run = startRun(options);
  const byIp = new Map<string, string[]>();
  for (let index = 0; index < services.length; index++) tagService(run, byIp, services[index], index);
  const cuts = applyTagBudget(run, byIp, (ips) => servicesOnIps(run, services, ips));
  const issues = [
    ...run.issues,
    ...cuts.map((cut) => cutWarning(run, cut)),
    ...sharedServiceTagWarnings(run),
    ...unmatchedSelectorWarnings(run),
  ];
  return { tags: sortByIp(byIp), issues, cuts };
}
