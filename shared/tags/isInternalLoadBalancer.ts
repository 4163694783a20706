/** The annotation that makes an AKS `LoadBalancer` Service internal. */
export const INTERNAL_LB_ANNOTATION = 'service.beta.kubernetes.io/azure-load-balancer-internal';

/**
 * Whether `service` is an internal load-balancer Service: `spec.type == "LoadBalancer"` and the
 * annotation {@link INTERNAL_LB_ANNOTATION} equal to `true` case-insensitively (as the Azure cloud
 * provider reads it). Having an ingress IP is the other half of eligibility, checked by the caller.
 * Never throws, whatever `service` is.
 */
export function isInternalLoadBalancer(service: unknown): boolean {
  if (typeof service !== 'object' || service === null) return false;
  const s = service as { spec?: { type?: unknown }; metadata?: { annotations?: unknown } };
  if (s.spec?.type !== 'LoadBalancer') return false;
  const annotations = s.metadata?.annotations;
  if (typeof annotations !== 'object' || annotations === null) return false;
  const v = (annotations as Record<string, unknown>)[INTERNAL_LB_ANNOTATION];
  return v === 'true' || (typeof v === 'string' && v.length === 4 && v.toLowerCase() === 'true');
}
