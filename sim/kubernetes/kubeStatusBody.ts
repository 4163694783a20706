import type { KubeHttpError } from './KubeHttpError.js';

/** The `v1.Status` failure object the API server sends for an error. */
export function kubeStatusBody(err: KubeHttpError): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: err.metadata,
    status: 'Failure',
    message: err.message,
    reason: err.reason,
    ...(err.details ? { details: err.details } : {}),
    code: err.code,
  };
}
