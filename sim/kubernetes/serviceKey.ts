import type { KubeService } from '../../shared/kubernetes/KubeService.js';

/** The etcd-order key of a Service: `namespace/name`. */
export function serviceKeyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The etcd-order key of a stored Service (namespace `default` when unset). */
export function serviceKey(s: KubeService): string {
  return serviceKeyOf(s.metadata?.namespace ?? 'default', s.metadata?.name ?? '');
}
