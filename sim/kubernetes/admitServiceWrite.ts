import { randomUUID } from 'node:crypto';
import type { KubeService } from '../../shared/kubernetes/KubeService.js';
import { assignLoadBalancerIngress } from './assignLoadBalancerIngress.js';
import { KubeHttpError } from './KubeHttpError.js';
import type { KubeServiceStore } from './KubeServiceStore.js';
import { serviceWriteProblems } from './serviceWriteProblems.js';

let clusterIpCounter = 0;

function invalid(name: unknown, problems: ReturnType<typeof serviceWriteProblems>): KubeHttpError {
  const text = problems.map((p) => `${p.field}: ${p.message}`);
  const shown = typeof name === 'string' ? name : '';
  return new KubeHttpError(
    422,
    'Invalid',
    `Service "${shown}" is invalid: ${text.length === 1 ? text[0] : `[${text.join(', ')}]`}`,
    {
      name: shown,
      kind: 'Service',
      causes: problems.map((p) => ({ reason: 'FieldValueInvalid', message: p.message, field: p.field })),
    },
  );
}

/**
 * Checks a written Service as the API server does (422 `Invalid`) and completes it as the control
 * plane would: uid, creationTimestamp and clusterIP kept from `previous` or set, `status` from
 * {@link assignLoadBalancerIngress} (whatever status the client sent is ignored, as for a real
 * Service). Returns the object to store; the store sets the resourceVersion.
 */
export function admitServiceWrite(
  body: Record<string, unknown>,
  previous: KubeService | undefined,
  store: KubeServiceStore,
): KubeService {
  const problems = serviceWriteProblems(body);
  const metadata = { ...((body.metadata ?? {}) as Record<string, unknown>) };
  if (problems.length > 0) throw invalid(metadata.name, problems);
  const spec = { ...((body.spec ?? {}) as Record<string, unknown>) };
  spec.type ??= 'ClusterIP';
  const old = previous as { metadata?: Record<string, unknown>; spec?: Record<string, unknown> } | undefined;
  metadata.uid = old?.metadata?.uid ?? randomUUID();
  metadata.creationTimestamp =
    old?.metadata?.creationTimestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (spec.type !== 'ExternalName' && !spec.clusterIP) {
    clusterIpCounter = (clusterIpCounter + 1) % 60_000;
    spec.clusterIP =
      old?.spec?.clusterIP ??
      `10.0.${200 + (Math.floor(clusterIpCounter / 250) % 50)}.${(clusterIpCounter % 250) + 2}`;
  }
  delete metadata.resourceVersion;
  const service = { metadata, spec } as KubeService;
  return { ...service, status: assignLoadBalancerIngress(service, previous, store) };
}
