import type { V1Service } from '@kubernetes/client-node';
import type { KubeService } from './KubeService.js';

/**
 * Copies the fields the tag engine reads out of a client-node `V1Service` into a plain
 * {@link KubeService} (no class instances, no `Date`s, nothing else retained).
 */
export function toKubeService(s: V1Service): KubeService {
  const m = s.metadata;
  const ingress = s.status?.loadBalancer?.ingress;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      ...(m?.name !== undefined ? { name: m.name } : {}),
      ...(m?.namespace !== undefined ? { namespace: m.namespace } : {}),
      ...(m?.labels ? { labels: { ...m.labels } } : {}),
      ...(m?.annotations ? { annotations: { ...m.annotations } } : {}),
      ...(m?.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
    },
    spec: {
      ...(s.spec?.type !== undefined ? { type: s.spec.type } : {}),
      ...(s.spec?.clusterIP !== undefined ? { clusterIP: s.spec.clusterIP } : {}),
      ...(s.spec?.loadBalancerIP !== undefined ? { loadBalancerIP: s.spec.loadBalancerIP } : {}),
    },
    status: {
      loadBalancer: ingress
        ? {
            ingress: ingress.map((i) => ({
              ...(i.ip !== undefined ? { ip: i.ip } : {}),
              ...(i.hostname !== undefined ? { hostname: i.hostname } : {}),
            })),
          }
        : {},
    },
  };
}
