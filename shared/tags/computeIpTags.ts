import type { NamedSelector } from '../config/loadConfig.js';
import { InputError } from '../errors.js';
import type { KubeService } from '../kubernetes/KubeService.js';
import { matchesSelector } from '../selectors/matchesSelector.js';
import type { IpTagMap } from './IpTagMap.js';
import { isInternalLoadBalancer } from './isInternalLoadBalancer.js';
import { isCanonicalIpv4, normalizeIp } from './normalizeIp.js';
import { shortenTag } from './shortenTag.js';
import type { TagIssue } from './TagIssue.js';
import {
  invalidClusterNameMessage,
  invalidSelectorNameMessage,
  isClusterName,
  isSelectorName,
  labelTag,
  MAX_TAG_LENGTH,
  selectorTag,
  serviceTag,
} from './tagGrammar.js';
import { tagProblem } from './tagProblem.js';

/** Input of {@link computeIpTags}. */
export interface ComputeIpTagsOptions {
  /** The AKS cluster name used in tags (1–63 letters, digits, `-`, `_`). */
  cluster: string;
  /** The label selectors configured for the cluster. */
  selectors: readonly NamedSelector[];
}

/** Output of {@link computeIpTags}. */
export interface ComputeIpTagsResult {
  /** IP → unique tags in code-unit order; IPs in code-unit order. */
  tags: IpTagMap;
  /** Everything skipped or changed, one entry each; never thrown. */
  issues: TagIssue[];
}

/** A tag refused by {@link tagProblem}, cached like a valid tag. */
interface Refused {
  problem: string;
  tag: string;
}

type Cached = string | Refused;

const DISPLAY_LIMIT = 300;

/** Characters `JSON.stringify` leaves raw that terminals or log viewers act on (DEL, C1 such as CSI, line separators). */
const UNSAFE_AFTER_JSON = /[\u007f-\u009f\u2028\u2029]/g;

/** JSON-quotes hostile text for a one-line message, cut to a readable length. */
function q(text: string): string {
  return JSON.stringify(text.length > DISPLAY_LIMIT ? `${text.slice(0, DISPLAY_LIMIT)}…` : text).replace(
    UNSAFE_AFTER_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
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
interface TagRun {
  cluster: string;
  selectors: readonly NamedSelector[];
  /** `in cluster <cluster>`, for messages. */
  where: string;
  issues: TagIssue[];
  /** Full tag → shortened tag, so each tag is warned about once. */
  shortened: Map<string, string>;
  /** Label key → value → tag or refusal. */
  labelCache: Map<string, Map<string, Cached>>;
}

/** An internal load-balancer Service with a name and at least one ingress entry. */
interface EligibleService {
  metadata: Record<string, unknown>;
  name: string;
  namespace: string;
  ingress: unknown[];
}

/** Throws {@link InputError} for an invalid cluster or selector name. */
function assertValidOptions({ cluster, selectors }: ComputeIpTagsOptions): void {
  if (!isClusterName(cluster)) throw new InputError(invalidClusterNameMessage(q(String(cluster))));
  for (const s of selectors) {
    if (!isSelectorName(s.name)) throw new InputError(invalidSelectorNameMessage(q(String(s.name))));
  }
}

function startRun({ cluster, selectors }: ComputeIpTagsOptions): TagRun {
  return {
    cluster,
    selectors,
    where: `in cluster ${cluster}`,
    issues: [],
    shortened: new Map(),
    labelCache: new Map(),
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

/** The fitted tag or refusal of one label, computed once per key and value. */
function labelTagOf(run: TagRun, svc: EligibleService, key: string, value: string): Cached {
  let byValue = run.labelCache.get(key);
  if (byValue === undefined) {
    byValue = new Map();
    run.labelCache.set(key, byValue);
  }
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
    else reportRefusedTag(run, svc, key, t, `label ${q(key)}`);
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
  for (const s of run.selectors) {
    if (!matchesSelector(s.selector, labels)) continue;
    tags.push(fitTag(run, selectorTag(s.name, run.cluster, svc.name), svc));
  }
}

/** The Service's name, label and selector tags, unsorted and possibly repeated. */
function buildServiceTags(run: TagRun, svc: EligibleService): string[] {
  const tags: string[] = [];
  const nameAccepted = pushNameTag(run, svc, tags);
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
 * gets `aks.<cluster>.<service>`, `aks.<cluster>.svc.<label>.<value>` per label, and
 * `aks_<selector>.<cluster>.<service>` per selector its labels match. IPs shared by several
 * Services get the union. Tags longer than 127 characters are shortened ({@link shortenTag}) with
 * one warning per tag; tags PAN-OS would refuse ({@link tagProblem}) are left out with an error
 * naming the Service, cluster and label. A Service without `metadata.namespace` is taken to be in
 * `default`, as the API server would place it.
 *
 * Hostile items (non-objects, missing names, non-string labels, invalid IPs) become issues; the
 * rest proceeds. Non-eligible Services are skipped silently.
 *
 * @throws InputError only for bad options: an invalid cluster or selector name.
 * @example computeIpTags(list.items, { cluster: 'aks-prod-1', selectors: cluster.labelSelectors })
 */
export function computeIpTags(
  services: readonly KubeService[],
  options: ComputeIpTagsOptions,
): ComputeIpTagsResult {
  assertValidOptions(options);
  const run = startRun(options);
  const byIp = new Map<string, string[]>();
  for (let index = 0; index < services.length; index++) {
    const svc = toEligibleService(run, services[index], index);
    if (svc === undefined) continue;
    const ips = collectIngressIps(run, svc);
    if (ips.length === 0) continue;
    const tags = buildServiceTags(run, svc);
    if (tags.length > 0) addTagsToIps(byIp, ips, sortUnique(tags));
  }
  return { tags: sortByIp(byIp), issues: run.issues };
}
