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
  const { cluster, selectors } = options;
  if (!isClusterName(cluster)) throw new InputError(invalidClusterNameMessage(q(String(cluster))));
  for (const s of selectors) {
    if (!isSelectorName(s.name)) throw new InputError(invalidSelectorNameMessage(q(String(s.name))));
  }

  const issues: TagIssue[] = [];
  const byIp = new Map<string, string[]>();
  const shortened = new Map<string, string>();
  const labelCache = new Map<string, Map<string, Cached>>();
  const where = `in cluster ${cluster}`;

  const shorten = (full: string, service: string, label?: string): string => {
    let short = shortened.get(full);
    if (short === undefined) {
      short = shortenTag(full);
      shortened.set(full, short);
      issues.push({
        severity: 'warning',
        cluster,
        service,
        ...(label === undefined ? {} : { label }),
        message: `tag ${q(full)} of Service ${q(service)} ${where} is ${full.length} characters long (PAN-OS allows ${MAX_TAG_LENGTH}); registered as ${q(short)}`,
      });
    }
    return short;
  };

  const labelTagOf = (key: string, value: string, namespace: string, name: string): Cached => {
    let byValue = labelCache.get(key);
    if (byValue === undefined) {
      byValue = new Map();
      labelCache.set(key, byValue);
    }
    let cached = byValue.get(value);
    if (cached === undefined) {
      const full = labelTag(cluster, key, value);
      const problem = tagProblem(full);
      if (problem !== undefined) cached = { problem, tag: full };
      else cached = full.length > MAX_TAG_LENGTH ? shorten(full, serviceRef(namespace, name), key) : full;
      byValue.set(value, cached);
    }
    return cached;
  };

  const refuse = (service: string, label: string | undefined, refused: Refused, what: string): void => {
    issues.push({
      severity: 'error',
      cluster,
      service,
      ...(label === undefined ? {} : { label }),
      message: `Service ${q(service)} ${where}: ${what} gives tag ${q(refused.tag)}, which ${refused.problem}; tag not produced`,
    });
  };

  for (let index = 0; index < services.length; index++) {
    const svc: unknown = services[index];
    if (!isRecord(svc)) {
      issues.push({
        severity: 'error',
        cluster,
        message: `item ${index} of the Service list ${where} is not an object; skipped`,
      });
      continue;
    }
    if (!isInternalLoadBalancer(svc)) continue;
    const ingress = (svc as KubeService).status?.loadBalancer?.ingress;
    if (!Array.isArray(ingress) || ingress.length === 0) continue;

    const metadata = svc.metadata as Record<string, unknown>;
    const name = metadata.name;
    const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : 'default';
    if (typeof name !== 'string' || name === '') {
      issues.push({
        severity: 'error',
        cluster,
        message: `item ${index} of the Service list ${where} is an internal load balancer without metadata.name; skipped`,
      });
      continue;
    }

    let ips: string[] = [];
    for (const entry of ingress as unknown[]) {
      if (!isRecord(entry) || entry.ip === undefined) continue;
      const raw = entry.ip;
      if (isCanonicalIpv4(raw)) {
        ips.push(raw);
        continue;
      }
      const n = normalizeIp(raw);
      const shown = typeof raw === 'string' ? q(raw) : String(raw);
      const ref = serviceRef(namespace, name);
      if (!n.ok) {
        issues.push({
          severity: 'error',
          cluster,
          service: ref,
          ...(typeof raw === 'string' ? { ip: raw } : {}),
          message: `Service ${q(ref)} ${where}: ingress IP ${shown} is not usable (${n.reason}); not tagged`,
        });
        continue;
      }
      if (n.note !== undefined)
        issues.push({
          severity: 'warning',
          cluster,
          service: ref,
          ip: raw as string,
          message: `Service ${q(ref)} ${where}: ingress IP ${shown} is an ${n.note}`,
        });
      ips.push(n.ip);
    }
    if (ips.length === 0) continue;
    if (ips.length > 1) ips = [...new Set(ips)];

    const tags: string[] = [];
    const nameTag = serviceTag(cluster, name);
    const nameProblem = tagProblem(nameTag);
    if (nameProblem !== undefined)
      refuse(serviceRef(namespace, name), undefined, { problem: nameProblem, tag: nameTag }, 'its name');
    else tags.push(nameTag.length > MAX_TAG_LENGTH ? shorten(nameTag, serviceRef(namespace, name)) : nameTag);

    const rawLabels = metadata.labels;
    let labels: Record<string, string> | undefined;
    let labelsUsable = true;
    if (rawLabels === undefined || rawLabels === null) labels = undefined;
    else if (!isRecord(rawLabels)) {
      labelsUsable = false;
      const ref = serviceRef(namespace, name);
      issues.push({
        severity: 'error',
        cluster,
        service: ref,
        message: `Service ${q(ref)} ${where}: metadata.labels is not an object; no label or selector tags produced`,
      });
    } else {
      labels = rawLabels as Record<string, string>;
      for (const key of Object.keys(rawLabels)) {
        const value = rawLabels[key];
        if (typeof value !== 'string') {
          labelsUsable = false;
          const ref = serviceRef(namespace, name);
          issues.push({
            severity: 'error',
            cluster,
            service: ref,
            label: key,
            message: `Service ${q(ref)} ${where}: label ${q(key)} has a ${value === null ? 'null' : typeof value} value instead of a string; its tag and the Service's selector tags are not produced`,
          });
          continue;
        }
        const t = labelTagOf(key, value, namespace, name);
        if (typeof t === 'string') tags.push(t);
        else refuse(serviceRef(namespace, name), key, t, `label ${q(key)}`);
      }
    }

    if (labelsUsable && nameProblem === undefined) {
      for (const s of selectors) {
        if (!matchesSelector(s.selector, labels)) continue;
        const full = selectorTag(s.name, cluster, name);
        tags.push(full.length > MAX_TAG_LENGTH ? shorten(full, serviceRef(namespace, name)) : full);
      }
    }
    if (tags.length === 0) continue;

    sortTags(tags);
    let unique = tags;
    for (let i = 1; i < tags.length; i++) {
      if (tags[i] === tags[i - 1]) {
        unique = [...new Set(tags)];
        break;
      }
    }
    for (const ip of ips) {
      const existing = byIp.get(ip);
      byIp.set(ip, existing === undefined ? unique : mergeSorted(existing, unique));
    }
  }

  const result = new Map<string, readonly string[]>();
  for (const ip of [...byIp.keys()].sort()) result.set(ip, byIp.get(ip) as string[]);
  return { tags: result, issues };
}
