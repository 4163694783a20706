/**
 * The one error family of aks-panorama-sync.
 *
 * Every failure the service raises is a {@link SyncError} carrying a {@link FailureKind}:
 *
 * | kind             | meaning                                                   |
 * |------------------|-----------------------------------------------------------|
 * | `retryable`      | transient: timeouts, resets, 5xx, 429, "session timed out" |
 * | `permanent`      | the request itself is wrong (400, malformed, bad input)   |
 * | `authentication` | credentials refused (HTTP 403 / code 403, 401)            |
 * | `conflict`       | optimistic-concurrency loss (409/412 on Table)            |
 *
 * What a failure does to a queue message is one rule, `messageDisposition` in
 * `shared/queues/messageDisposition.ts`: a step that throws is retried, then poisoned. Steps choose
 * by kind whether to throw: a recompute records a permanent failure and returns (a delete always
 * throws); a push throws on any failure of a whole call and records per-entry rejections. A step
 * that must wait returns `requeueAfter` (`shared/queues/QueueStep.ts`) instead of failing an attempt.
 *
 * Messages never contain secrets: callers build them from names, URLs without credentials and counts.
 */

/** How a failure should be handled. */
export const FailureKind = {
  retryable: 'retryable',
  permanent: 'permanent',
  authentication: 'authentication',
  conflict: 'conflict',
} as const;
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

/** Options shared by every error of the family. */
export interface SyncErrorOptions {
  kind: FailureKind;
  cause?: unknown;
  /** Machine-readable extra data (never secrets). */
  details?: Record<string, unknown>;
}

/** Base class of every error this service raises on purpose. */
export class SyncError extends Error {
  readonly kind: FailureKind;
  readonly details: Record<string, unknown>;

  constructor(message: string, options: SyncErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SyncError';
    this.kind = options.kind;
    this.details = options.details ?? {};
  }
}

/** Invalid configuration; `problems` holds one line per bad setting. */
export class ConfigError extends SyncError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      kind: FailureKind.permanent,
      details: { problems },
    });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Input that cannot be processed (malformed JSON, events, selectors, labels, IPs). */
export class InputError extends SyncError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, { kind: FailureKind.permanent, ...(details ? { details } : {}) });
    this.name = 'InputError';
  }
}

/** A failure talking to Panorama or a firewall through it. */
export class PanoramaError extends SyncError {
  constructor(message: string, options: SyncErrorOptions) {
    super(message, options);
    this.name = 'PanoramaError';
  }
}

/** Panorama refused the credentials (HTTP 403 or body code 403). */
export class PanoramaAuthError extends PanoramaError {
  constructor(
    message = 'Panorama authentication failed (check the API key or username/password)',
    cause?: unknown,
  ) {
    super(message, { kind: FailureKind.authentication, cause });
    this.name = 'PanoramaAuthError';
  }
}

/** A managed firewall addressed with `target=<serial>` is not connected to Panorama. */
export class FirewallNotConnectedError extends PanoramaError {
  readonly serial: string;

  constructor(serial: string, cause?: unknown) {
    super(`Firewall ${serial} is not connected to Panorama`, {
      kind: FailureKind.retryable,
      cause,
      details: { serial },
    });
    this.name = 'FirewallNotConnectedError';
    this.serial = serial;
  }
}

/** A failure talking to a Kubernetes API server. */
export class KubernetesError extends SyncError {
  constructor(message: string, options: SyncErrorOptions) {
    super(message, options);
    this.name = 'KubernetesError';
  }
}

/** A failure talking to Azure (ARM, Storage). */
export class AzureError extends SyncError {
  constructor(message: string, options: SyncErrorOptions) {
    super(message, options);
    this.name = 'AzureError';
  }
}

const RETRYABLE_NETWORK_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** Node/OpenSSL codes of a failed TLS certificate verification. */
const TLS_VERIFICATION_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * True when a Node error code says the peer's certificate was not trusted (or TLS itself failed:
 * `ERR_SSL_*`, `ERR_TLS_*`). One list for every adapter (Panorama, Kubernetes).
 */
export function isTlsFailureCode(code: string | undefined): boolean {
  if (code === undefined) return false;
  return TLS_VERIFICATION_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_');
}

/**
 * Classifies an HTTP status the way the Azure SDK retry policies do: 408, 429 and 5xx except
 * 501/505 are retryable; 401/403 are authentication; 409/412 are conflicts; the rest is permanent.
 */
export function classifyHttpStatus(status: number): FailureKind {
  if (status === 408 || status === 429) return FailureKind.retryable;
  if (status >= 500) return status === 501 || status === 505 ? FailureKind.permanent : FailureKind.retryable;
  if (status === 401 || status === 403) return FailureKind.authentication;
  if (status === 409 || status === 412) return FailureKind.conflict;
  return FailureKind.permanent;
}

/**
 * Classifies any thrown value. {@link SyncError}s carry their kind; Node network errors and HTTP
 * errors from SDKs (`statusCode` / `status` / `response.status`) are classified by code/status;
 * anything else is permanent.
 */
export function classify(err: unknown): FailureKind {
  if (err instanceof SyncError) return err.kind;
  if (typeof err !== 'object' || err === null) return FailureKind.permanent;
  const e = err as {
    code?: unknown;
    statusCode?: unknown;
    status?: unknown;
    response?: { status?: unknown };
    name?: unknown;
    cause?: unknown;
  };
  if (typeof e.code === 'string' && RETRYABLE_NETWORK_CODES.has(e.code)) return FailureKind.retryable;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return FailureKind.retryable;
  const status = [e.statusCode, e.status, e.response?.status].find((s) => typeof s === 'number');
  if (typeof status === 'number') return classifyHttpStatus(status);
  if (e.cause !== undefined && e.cause !== err) return classify(e.cause);
  return FailureKind.permanent;
}

/** Normalises anything thrown into an `Error`. */
export function ensureError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (typeof err === 'string') return new Error(err);
  try {
    return new Error(JSON.stringify(err));
  } catch {
    return new Error(String(err));
  }
}

/**
 * One-line description of an error for logs, `status` and the command line: its message, in words.
 * The kind is not appended (an internal label such as `[retryable]` tells an operator nothing);
 * where it matters, the caller says what happens next ("retried, then poisoned") and logs `kind`
 * as a field.
 */
export function describeError(err: unknown): string {
  return ensureError(err).message;
}
