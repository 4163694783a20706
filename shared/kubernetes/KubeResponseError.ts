/**
 * A non-2xx answer of the Kubernetes API server: its status, its body (usually a `Status` object,
 * kept as text) and its headers. Read by `shared/kubernetes/toKubernetesError.ts` through
 * `statusCode`, `body` and `headers['retry-after']`; never carries the request's credentials.
 */
export class KubeResponseError extends Error {
  readonly statusCode: number;
  readonly body: string;
  readonly headers: Record<string, string>;

  constructor(statusCode: number, body: string, headers: Record<string, string>) {
    super(`HTTP ${statusCode}`);
    this.name = 'KubeResponseError';
    this.statusCode = statusCode;
    this.body = body;
    this.headers = headers;
  }
}
