import { KubeHttpError } from './KubeHttpError.js';
import type { ForbiddenMode } from './startKubernetesSimulator.js';

/** The 403 `Forbidden` the RBAC authorizer answers for `verb` on services (cluster-wide, in a namespace, or one Service). */
export function kubeForbiddenError(
  mode: ForbiddenMode,
  verb: string,
  namespace?: string,
  name?: string,
): KubeHttpError {
  const user = mode.user ?? 'system:serviceaccount:default:default';
  const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
  const subject = name ? `services "${name}"` : 'services';
  const suffix = mode.azureRbac
    ? ': User does not have access to the resource in Azure. Update role assignment to allow access.'
    : '';
  return new KubeHttpError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "services" in API group "" ${scope}${suffix}`,
    { ...(name ? { name } : {}), kind: 'services' },
  );
}
