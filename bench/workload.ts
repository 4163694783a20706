import type { KubeService } from '../shared/kubernetes/KubeService.js';

/** The label selectors of the benchmark cluster (name → selector source). */
export const BENCH_SELECTORS: readonly { name: string; selector: string }[] = [
  { name: 'web', selector: 'app in (app-1,app-2,app-3),tier=front' },
  { name: 'front', selector: 'tier=front' },
  { name: 'stable', selector: '!canary' },
];

/** The IPv4 address of Service number `i` (10.x.y.z, unique for i < 2^24). */
export function benchIp(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/**
 * Service number `i` as the API server returns it: 5 labels, a Helm annotation, one port; internal
 * ones carry the internal-LB annotation and one IPv4 ingress IP (every 50th shares its neighbour's
 * IP, every 10th adds an IPv6 one); the others are ClusterIP Services.
 */
export function benchService(i: number, internal: boolean): KubeService {
  const ns = `team-${i % 25}`;
  const name = `svc-${i}`;
  const ip = benchIp(i);
  const ingress: { ip: string }[] = [{ ip: i % 50 === 49 ? benchIp(i - 1) : ip }];
  if (i % 10 === 0) ingress.push({ ip: `fd00:10::${i.toString(16)}` });
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      annotations: internal
        ? {
            'service.beta.kubernetes.io/azure-load-balancer-internal': 'true',
            'meta.helm.sh/release-name': name,
          }
        : { 'meta.helm.sh/release-name': name },
      creationTimestamp: '2026-11-20T10:00:00Z',
      labels: {
        app: `app-${i % 200}`,
        tier: ['front', 'back', 'data'][i % 3] as string,
        team: ns,
        'app.kubernetes.io/instance': name,
        version: `v${i % 7}`,
      },
      name,
      namespace: ns,
      resourceVersion: String(100000 + i),
      uid: `8f0c${i.toString(16).padStart(4, '0')}-1a2b-4c3d-9e8f-0123456789ab`,
    },
    spec: {
      allocateLoadBalancerNodePorts: true,
      clusterIP: `10.0.${(i >> 8) & 255}.${i & 255}`,
      clusterIPs: [`10.0.${(i >> 8) & 255}.${i & 255}`],
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: [{ name: 'https', nodePort: 30000 + (i % 2000), port: 443, protocol: 'TCP', targetPort: 8443 }],
      selector: { app: `app-${i % 200}` },
      sessionAffinity: 'None',
      type: internal ? 'LoadBalancer' : 'ClusterIP',
    },
    status: { loadBalancer: internal ? { ingress } : {} },
  } as KubeService;
}

/** `count` internal LoadBalancer Services × 5 labels, plus 10 % ClusterIP ones (numbered from `count`). */
export function benchServices(count: number): KubeService[] {
  const items: KubeService[] = [];
  for (let i = 0; i < count; i++) {
    items.push(benchService(i, true));
    if (i % 10 === 5) items.push(benchService(count + i, false));
  }
  return items;
}

/** The same Services as one List in compact JSON, as the API server sends it. */
export function serviceListText(count: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: benchServices(count),
    metadata: { resourceVersion: '' },
  });
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Percentile (nearest rank) of a non-empty list, `p` in 0–100. */
export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1] as number;
}

/** `a / b` rounded to `digits` decimals (0 when b is 0). */
export function ratio(a: number, b: number, digits = 2): number {
  if (b === 0) return 0;
  const f = 10 ** digits;
  return Math.round((a / b) * f) / f;
}

/** Bytes → MiB with one decimal. */
export function mib(bytes: number): number {
  return Math.round(bytes / 1024 / 102.4) / 10;
}
