import { AzureError, classify, FailureKind } from '../errors.js';
import { redact } from '../logger.js';

/** What was being done when an ARM call failed. */
export interface ArmOperation {
  /** e.g. `list managed clusters`. */
  operation: string;
  /** ARM scope, e.g. `/subscriptions/…`. */
  scope: string;
  /** The RBAC action required, e.g. `Microsoft.ContainerService/managedClusters/read`. */
  action: string;
  /** Built-in role granting `action`, named in the 403 message. */
  role: string;
}

const LIST_CREDENTIAL_ACTION = 'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action';

/**
 * Maps an ARM/SDK failure (a `RestError` with `statusCode` and ARM `code`, a credential error, a
 * network error) to an {@link AzureError} whose message says what failed and which permission is
 * missing. SDK errors are not chained as `cause` (their request objects hold the bearer token);
 * status and ARM code go to `details`.
 */
export function toAzureError(err: unknown, op: ArmOperation): AzureError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: unknown;
    statusCode?: unknown;
    code?: unknown;
    message?: unknown;
  };
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const text = redact(typeof e.message === 'string' ? e.message : String(err)).split('\n')[0] ?? '';
  const details = { status, code, scope: op.scope, action: op.action };
  const name = typeof e.name === 'string' ? e.name : '';
  if (
    status === undefined &&
    /CredentialUnavailableError|AuthenticationError|AggregateAuthenticationError/.test(name)
  ) {
    return new AzureError(
      `Cannot ${op.operation} on ${op.scope}: no Azure token (${text}); give the Function a managed identity (set AZURE_CLIENT_ID for a user-assigned one) or sign in with az login locally`,
      { kind: FailureKind.authentication, details },
    );
  }
  if (status === 401) {
    return new AzureError(
      `Azure Resource Manager rejected the token to ${op.operation} on ${op.scope} (401 ${code ?? 'Unauthorized'}: ${text})`,
      { kind: FailureKind.authentication, details },
    );
  }
  if (status === 403) {
    const hint =
      op.action === LIST_CREDENTIAL_ACTION
        ? `assign the identity "${op.role}" on the cluster (or use auth type "token" with server and caData)`
        : `assign the identity "${op.role}" on ${op.scope}`;
    return new AzureError(
      `Not allowed to ${op.operation} on ${op.scope}: the identity lacks "${op.action}"; ${hint} (403 ${code ?? 'Forbidden'}: ${text})`,
      { kind: FailureKind.authentication, details },
    );
  }
  if (status === 404) {
    return new AzureError(
      `Cannot ${op.operation}: ${op.scope} was not found (404 ${code ?? 'NotFound'}: ${text})`,
      {
        kind: FailureKind.permanent,
        details,
      },
    );
  }
  const kind = classify(err);
  return new AzureError(
    `Failed to ${op.operation} on ${op.scope}${status ? ` (${status} ${code ?? ''})` : code ? ` (${code})` : ''}: ${text}`,
    { kind: kind === FailureKind.authentication ? FailureKind.permanent : kind, details },
  );
}

/** Permission facts of the ARM calls the AKS adapters make. */
export const ArmActions = {
  listClusters: {
    action: 'Microsoft.ContainerService/managedClusters/read',
    role: 'Reader',
  },
  getCluster: {
    action: 'Microsoft.ContainerService/managedClusters/read',
    role: 'Reader',
  },
  listUserCredential: {
    action: LIST_CREDENTIAL_ACTION,
    role: 'Azure Kubernetes Service Cluster User Role',
  },
} as const;
