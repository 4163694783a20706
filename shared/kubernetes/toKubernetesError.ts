import { classify, classifyHttpStatus, FailureKind, isTlsFailureCode, KubernetesError } from '../errors.js';
import { redact } from '../logger.js';

/** Who was called and how, for error messages. */
export interface KubeCallContext {
  cluster: string;
  server: string;
  authType: 'azureAd' | 'token';
  /** Server and CA came from ARM `listClusterUserCredential`. */
  endpointFromArm?: boolean;
}

function withoutQueries(text: string): string {
  return text.replace(/(https?:\/\/[^\s?]+)\?\S*/g, '$1');
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The HTTP status of a client-node `ApiException` (numeric `code`) or any `statusCode`/`status`. */
export function kubeStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown; status?: unknown };
  return [e.code, e.statusCode, e.status].find((v): v is number => typeof v === 'number');
}

/** The `Status` object of an error response (client-node keeps it as text), if any. */
export function kubeStatusBody(err: unknown): { message?: string; reason?: string } | undefined {
  const body = (err as { body?: unknown } | null)?.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const s = parsed as { message?: unknown; reason?: unknown };
  return {
    ...(typeof s.message === 'string' ? { message: s.message } : {}),
    ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
  };
}

/** The `Retry-After` header of an error response, if any. */
export function kubeRetryAfter(err: unknown): string | undefined {
  const headers = (err as { headers?: unknown } | null)?.headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const value = (headers as Record<string, unknown>)['retry-after'];
  return typeof value === 'string' ? value : undefined;
}

/** True for certificate-verification and handshake failures. */
export function isTlsFailure(err: unknown): boolean {
  const code = errorCode(err);
  return isTlsFailureCode(code) || code === 'EPROTO';
}

/** How a failed Kubernetes call should be handled (410 is handled by the caller: relist). */
export function classifyKubeFailure(err: unknown): FailureKind {
  const status = kubeStatusOf(err);
  if (status !== undefined) return classifyHttpStatus(status);
  if (isTlsFailure(err)) return FailureKind.permanent;
  return classify(err);
}

/**
 * A {@link KubernetesError} for a failed list of Services whose message says what to fix: for
 * 401/403 which identity or permission is missing (the `view` ClusterRole binding for a
 * service-account token; "Azure Kubernetes Service RBAC Reader" for Entra ID), for TLS failures
 * which CA is wrong. Never contains tokens (messages are built from status, reason and the
 * server's `Status` message; the original error is not chained).
 */
export function toKubernetesError(err: unknown, ctx: KubeCallContext, attempts = 1): KubernetesError {
  const where = `Kubernetes API of cluster "${ctx.cluster}" (${ctx.server})`;
  const status = kubeStatusOf(err);
  const body = kubeStatusBody(err);
  const serverSays = body?.message ? `: ${redact(body.message)}` : '';
  const details = {
    cluster: ctx.cluster,
    server: ctx.server,
    status,
    code: errorCode(err),
    reason: body?.reason,
  };
  if (status === 401) {
    const fix =
      ctx.authType === 'token'
        ? 'the service-account token is invalid, expired or revoked; create a new token for the service account bound to the "view" ClusterRole and update the cluster\'s auth token'
        : 'the Microsoft Entra token was not accepted; the cluster needs AKS-managed Microsoft Entra ID integration (local-account clusters need auth type "token"), and the token must be for the AKS server application';
    return new KubernetesError(`${where} rejected the credentials (401 Unauthorized): ${fix}`, {
      kind: FailureKind.authentication,
      details,
    });
  }
  if (status === 403) {
    const fix =
      ctx.authType === 'token'
        ? 'the service account needs "list" on "services" in all namespaces: bind it to the "view" ClusterRole with a ClusterRoleBinding (kubectl create clusterrolebinding aks-panorama-sync-view --clusterrole=view --serviceaccount=<namespace>:<name>)'
        : 'the identity needs "list" on "services" in all namespaces: assign it the "Azure Kubernetes Service RBAC Reader" role on the cluster (Azure RBAC), or bind its object ID to the "view" ClusterRole (Kubernetes RBAC)';
    return new KubernetesError(`${where} refused to list Services (403 Forbidden${serverSays}): ${fix}`, {
      kind: FailureKind.authentication,
      details,
    });
  }
  if (isTlsFailure(err)) {
    const fix = ctx.endpointFromArm
      ? 'the CA from listClusterUserCredential does not match the server certificate (certificate rotation?)'
      : 'set the cluster\'s "caData" to the base64 PEM of the cluster CA (certificate-authority-data of its kubeconfig)';
    return new KubernetesError(`TLS verification of the ${where} failed (${errorCode(err)}): ${fix}`, {
      kind: FailureKind.permanent,
      details,
    });
  }
  const kind = classifyKubeFailure(err);
  const what =
    status !== undefined
      ? `HTTP ${status}${body?.reason ? ` ${body.reason}` : ''}${serverSays}`
      : `${errorCode(err) ?? (err as Error)?.name ?? 'error'}: ${withoutQueries(redact((err as Error)?.message ?? String(err)).split('\n')[0] ?? '')}`;
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  return new KubernetesError(`${where}: listing Services failed${tries} (${what})`, {
    kind: kind === FailureKind.authentication ? FailureKind.permanent : kind,
    details,
  });
}
