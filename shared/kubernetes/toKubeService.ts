import type { KubeService } from './KubeService.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The values of `keys` that `from` holds (as they are: the tag engine reports wrong types). */
function pick(from: unknown, keys: readonly string[]): Json {
  const out: Json = {};
  if (!isObject(from)) return out;
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

/**
 * Copies the fields the tag engine reads out of one item of a `ServiceList` as `JSON.parse` gave it
 * (or a client-node `V1Service`) into a plain {@link KubeService}: name, namespace, labels,
 * annotations, resourceVersion, `spec.type`/`clusterIP`/`loadBalancerIP` and
 * `status.loadBalancer.ingress[].ip`/`hostname`. Nothing else is retained (ports, managed fields…).
 * Input may be hostile: values are kept as they are, wrong types included, so that
 * `shared/tags/computeIpTags.ts` reports them; non-object parts become empty objects, and nothing
 * is ever assigned through a key taken from the input.
 */
export function toKubeService(raw: unknown): KubeService {
  const s = isObject(raw) ? raw : {};
  const ingress =
    isObject(s.status) && isObject(s.status.loadBalancer) ? s.status.loadBalancer.ingress : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: pick(s.metadata, ['name', 'namespace', 'labels', 'annotations', 'resourceVersion']),
    spec: pick(s.spec, ['type', 'clusterIP', 'loadBalancerIP']),
    status: {
      loadBalancer: Array.isArray(ingress)
        ? { ingress: ingress.map((i: unknown) => (isObject(i) ? pick(i, ['ip', 'hostname']) : i)) }
        : {},
    },
  } as KubeService;
}
