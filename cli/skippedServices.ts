import type { KubeService } from '../shared/kubernetes/KubeService.js';
import { isRecord } from '../shared/tags/computeIpTags.js';
import { INTERNAL_LB_ANNOTATION, isInternalLoadBalancer } from '../shared/tags/isInternalLoadBalancer.js';
import { normalizeIp } from '../shared/tags/normalizeIp.js';

/** Why a listed Service got no tags, as a short category and the details of this Service. */
export interface SkippedService {
  /** `namespace/name` (`item N` when it has no name). */
  ref: string;
  /** One of the categories counted in the summary. */
  category:
    | 'not a LoadBalancer'
    | 'public load balancer'
    | 'no IP yet'
    | 'invalid IP'
    | 'no name'
    | 'not an object';
  /** The reason in full, e.g. `not a LoadBalancer (type ClusterIP)`. */
  reason: string;
}

type Ingress = NonNullable<NonNullable<KubeService['status']>['loadBalancer']>['ingress'];

function ipSkip(ingress: Ingress): Pick<SkippedService, 'category' | 'reason'> | undefined {
  if (!Array.isArray(ingress) || ingress.length === 0)
    return { category: 'no IP yet', reason: 'no IP yet (status.loadBalancer.ingress is empty: pending)' };
  const raws = ingress.map((i) => (typeof i === 'object' && i !== null ? i.ip : undefined));
  const given = raws.filter((ip) => ip !== undefined);
  if (given.length === 0)
    return {
      category: 'no IP yet',
      reason: 'no IP yet (status.loadBalancer.ingress has no ip, only hostnames)',
    };
  const problems = given.flatMap((ip) => {
    const n = normalizeIp(ip);
    return n.ok ? [] : [`${JSON.stringify(ip)}: ${n.reason}`];
  });
  if (problems.length < given.length) return undefined;
  return { category: 'invalid IP', reason: `invalid IP ${problems.join('; ')}` };
}

/** In the order `toEligibleService` in shared/tags/computeIpTags.ts decides, so both give one reason. */
function skipOf(item: unknown): Pick<SkippedService, 'category' | 'reason'> | undefined {
  if (!isRecord(item)) return { category: 'not an object', reason: 'not an object' };
  const s = item as KubeService;
  if (s.spec?.type !== 'LoadBalancer')
    return {
      category: 'not a LoadBalancer',
      reason: `not a LoadBalancer (type ${String(s.spec?.type ?? 'ClusterIP')})`,
    };
  if (!isInternalLoadBalancer(s))
    return {
      category: 'public load balancer',
      reason: `public load balancer (no ${INTERNAL_LB_ANNOTATION}: "true" annotation)`,
    };
  const ingress = s.status?.loadBalancer?.ingress;
  if (!Array.isArray(ingress) || ingress.length === 0) return ipSkip(ingress);
  const name = s.metadata?.name;
  if (typeof name !== 'string' || name === '') return { category: 'no name', reason: 'no metadata.name' };
  return ipSkip(ingress);
}

/**
 * The Services of a list that get no tags, and why: not a LoadBalancer, a public load balancer, no
 * IP yet, only invalid IPs, no name (the eligibility rule of `computeIpTags` in
 * `shared/tags/computeIpTags.ts`). In list order. Pure.
 */
export function skippedServices(services: readonly unknown[]): SkippedService[] {
  const out: SkippedService[] = [];
  services.forEach((item, index) => {
    const skip = skipOf(item);
    if (!skip) return;
    const m = (item as KubeService | null)?.metadata;
    const ref =
      typeof m?.name === 'string' && m.name !== ''
        ? `${typeof m.namespace === 'string' ? m.namespace : 'default'}/${m.name}`
        : `item ${index}`;
    out.push({ ref, ...skip });
  });
  return out;
}

/** The summary line: `skipped 2 of 7 Services: not a LoadBalancer: 1, public load balancer: 1`. */
export function skippedSummary(skipped: readonly SkippedService[], total: number): string {
  const counts = new Map<string, number>();
  for (const s of skipped) counts.set(s.category, (counts.get(s.category) ?? 0) + 1);
  const parts = [...counts].map(([category, n]) => `${category}: ${n}`);
  return `skipped ${skipped.length} of ${total} Service${total === 1 ? '' : 's'}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}
