import type { KubeService } from '../../shared/kubernetes/KubeService.js';
import { isInternalLoadBalancer } from '../../shared/tags/isInternalLoadBalancer.js';
import { isCanonicalIpv4 } from '../../shared/tags/normalizeIp.js';
import type { KubeServiceStore } from './KubeServiceStore.js';

/** The annotation AKS reads for a requested load-balancer IPv4 address. */
export const AZURE_LB_IPV4_ANNOTATION = 'service.beta.kubernetes.io/azure-load-balancer-ipv4';

const POOLS = { internal: [10, 240, 0, 100], public: [20, 50, 1, 100] } as const;

/** An ingress entry as the API server shows it (`ipMode` since Kubernetes 1.30). */
function ingressOf(ip: string): { ip: string } {
  return { ip, ipMode: 'VIP' } as { ip: string };
}

function usedIps(store: KubeServiceStore): Set<string> {
  const used = new Set<string>();
  for (const s of store.sorted())
    for (const i of s.status?.loadBalancer?.ingress ?? []) if (i.ip) used.add(i.ip);
  return used;
}

function nextFreeIp(pool: readonly number[], used: ReadonlySet<string>): string {
  const [a, b, c, d] = pool as [number, number, number, number];
  for (let n = c * 256 + d; n < 65_536; n++) {
    const ip = `${a}.${b}.${Math.floor(n / 256)}.${n % 256}`;
    if (n % 256 !== 0 && n % 256 !== 255 && !used.has(ip)) return ip;
  }
  return '';
}

/**
 * What the AKS cloud provider writes into `status.loadBalancer` of a written Service, at once
 * (AKS takes seconds to minutes): a LoadBalancer Service gets the IP it asks for
 * ({@link AZURE_LB_IPV4_ANNOTATION} or `spec.loadBalancerIP`; a requested value that is not an
 * IPv4 address stays pending, as a failed provisioning would), else keeps the one it had, else the
 * next free one of 10.240.0.100+ (internal) or 20.50.1.100+ (public). Other types get none.
 */
export function assignLoadBalancerIngress(
  service: KubeService,
  previous: KubeService | undefined,
  store: KubeServiceStore,
): KubeService['status'] {
  if (service.spec?.type !== 'LoadBalancer') return { loadBalancer: {} };
  const requested = service.metadata?.annotations?.[AZURE_LB_IPV4_ANNOTATION] ?? service.spec.loadBalancerIP;
  if (requested !== undefined && requested !== '') {
    return { loadBalancer: isCanonicalIpv4(requested) ? { ingress: [ingressOf(requested)] } : {} };
  }
  const kept = previous?.spec?.type === 'LoadBalancer' ? previous.status?.loadBalancer?.ingress : undefined;
  if (kept && kept.length > 0 && isInternalLoadBalancer(previous) === isInternalLoadBalancer(service)) {
    return { loadBalancer: { ingress: structuredClone(kept) } };
  }
  const pool = isInternalLoadBalancer(service) ? POOLS.internal : POOLS.public;
  const ip = nextFreeIp(pool, usedIps(store));
  return { loadBalancer: ip ? { ingress: [ingressOf(ip)] } : {} };
}
