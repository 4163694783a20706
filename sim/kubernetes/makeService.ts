import type { KubeService } from '../../shared/kubernetes/KubeService.js';

/** The annotation that makes an AKS LoadBalancer Service internal. */
export const INTERNAL_LB_ANNOTATION = 'service.beta.kubernetes.io/azure-load-balancer-internal';

/** What {@link makeService} needs to build a Service. */
export interface ServiceSpecInput {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  /** Extra annotations (the internal-LB annotation is added for internal LoadBalancers). */
  annotations?: Record<string, string>;
  /** Default `LoadBalancer`. */
  type?: 'LoadBalancer' | 'ClusterIP' | 'NodePort';
  /** Adds `azure-load-balancer-internal: "true"` (default true for LoadBalancer Services). */
  internal?: boolean;
  /** `status.loadBalancer.ingress[].ip`; empty or absent = pending. */
  ips?: string[];
  /** Service port (default 80). */
  port?: number;
}

let clusterIpCounter = 0;

/**
 * Builds a `v1.Service` as the API server returns it (uid, creationTimestamp, clusterIP, ports;
 * `resourceVersion` is set by the simulator when the Service is added).
 */
export function makeService(input: ServiceSpecInput): KubeService {
  const type = input.type ?? 'LoadBalancer';
  const internal = input.internal ?? type === 'LoadBalancer';
  clusterIpCounter = (clusterIpCounter + 1) % 65_000;
  const port = input.port ?? 80;
  const annotations = { ...(internal ? { [INTERNAL_LB_ANNOTATION]: 'true' } : {}), ...input.annotations };
  const service = {
    metadata: {
      name: input.name,
      namespace: input.namespace ?? 'default',
      uid: crypto.randomUUID(),
      creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(input.labels && Object.keys(input.labels).length > 0 ? { labels: { ...input.labels } } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      type,
      clusterIP: `10.0.${Math.floor(clusterIpCounter / 250)}.${(clusterIpCounter % 250) + 2}`,
      ports: [
        {
          protocol: 'TCP',
          port,
          targetPort: port,
          ...(type === 'ClusterIP' ? {} : { nodePort: 30_000 + (clusterIpCounter % 2_000) }),
        },
      ],
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
      ...(type === 'ClusterIP' ? {} : { externalTrafficPolicy: 'Cluster' }),
    },
    status: {
      loadBalancer:
        type === 'LoadBalancer' && input.ips && input.ips.length > 0
          ? { ingress: input.ips.map((ip) => ({ ip, ipMode: 'VIP' })) }
          : {},
    },
  };
  return service as KubeService;
}
