import {
  classify,
  classifyHttpStatus,
  FailureKind,
  FirewallNotConnectedError,
  isTlsFailureCode,
  PanoramaAuthError,
  PanoramaError,
} from '../errors.js';
import { redact } from '../logger.js';
import type { PanResponse } from './parsePanResponse.js';

/** What a call was doing, for error messages and logs. */
export interface CallContext {
  /** Short name of the operation, e.g. `register`, `show registered-ip`, `keygen`. */
  operation: string;
  /** `target=<serial>` of the call, when routed to a managed firewall. */
  target?: string;
  /** `vsys=` of a call routed to a managed firewall, when one was sent. */
  vsys?: string;
}

/**
 * Body codes (PAN-OS XML API error codes) that mean a transient failure: 22 "Session timed out"
 * and the internal errors 2–5 and 11. Every other error code is permanent.
 */
export const RETRYABLE_CODES: ReadonlySet<number> = new Set([2, 3, 4, 5, 11, 22]);

/**
 * How a target that is not connected answers (HTTP 200, `status="error"`, the reason in
 * `msg/line`). Matched only when the call had a `target`.
 */
export const NOT_CONNECTED_PATTERN = /\bnot connected\b|\bdisconnected\b/i;

const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED', 'ESOCKETTIMEDOUT']);

function where(ctx: CallContext): string {
  if (!ctx.target) return `${ctx.operation} on Panorama`;
  return `${ctx.operation} on firewall ${ctx.target}${ctx.vsys ? ` ${ctx.vsys}` : ''}`;
}

function details(ctx: CallContext, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    operation: ctx.operation,
    ...(ctx.target ? { target: ctx.target } : {}),
    ...(ctx.vsys ? { vsys: ctx.vsys } : {}),
    ...extra,
  };
}

/** True when a response means the key or credentials were refused (HTTP 403 or body code 403). */
export function isAuthFailure(httpStatus: number, response: PanResponse | undefined): boolean {
  return httpStatus === 403 || response?.code === 403;
}

/**
 * Maps an HTTP status and parsed body to an error of the family, or `undefined` when the call
 * succeeded. A `status="error"` body is decided by its code and message; a body that is not a PAN-OS
 * response is decided by the HTTP status. See the table in `PanoramaClient`'s TSDoc.
 */
export function errorFromResponse(
  httpStatus: number,
  response: PanResponse | undefined,
  ctx: CallContext,
): PanoramaError | undefined {
  if (isAuthFailure(httpStatus, response)) {
    return new PanoramaAuthError(`Panorama refused the API key or credentials (${where(ctx)})`);
  }
  const ok2xx = httpStatus >= 200 && httpStatus < 300;
  if (response && response.status === 'success') {
    if (ok2xx) return undefined;
  }
  const message = response?.message ? redact(response.message) : undefined;
  if (response && response.status !== 'success') {
    const code = response.code;
    const text = `${message ?? 'no message'}${code === undefined ? '' : ` (code ${code})`}`;
    const extra = details(ctx, { httpStatus, ...(code === undefined ? {} : { code }) });
    if (code === 22 || /session timed out/i.test(message ?? '')) {
      return new PanoramaError(`Panorama session timed out (${where(ctx)}): ${text}`, {
        kind: FailureKind.retryable,
        details: extra,
      });
    }
    if (ctx.target && message && NOT_CONNECTED_PATTERN.test(message)) {
      return new FirewallNotConnectedError(ctx.target, new Error(message));
    }
    if (code === 16) return new PanoramaAuthError(`Panorama denied ${where(ctx)}: ${text}`);
    const kind =
      (code !== undefined && RETRYABLE_CODES.has(code)) || httpStatus >= 500
        ? FailureKind.retryable
        : FailureKind.permanent;
    return new PanoramaError(`Panorama ${where(ctx)} failed: ${text}`, { kind, details: extra });
  }
  const kind = ok2xx ? FailureKind.permanent : classifyHttpStatus(httpStatus);
  const reason = ok2xx ? 'the body is not a PAN-OS XML response' : `HTTP ${httpStatus}`;
  return new PanoramaError(`Panorama ${where(ctx)} failed: ${reason}${message ? `: ${message}` : ''}`, {
    kind,
    details: details(ctx, { httpStatus }),
  });
}

/**
 * Maps a transport failure (timeout, reset, refused, TLS) to the family. The original error is not
 * chained as is, because HTTP client errors carry the request headers (the API key) and body; the
 * cause is a plain `Error` with the code and message only.
 */
export function errorFromTransport(err: unknown, ctx: CallContext, timeoutMs: number): PanoramaError {
  const e = err as { code?: unknown; message?: unknown; name?: unknown; cause?: { code?: unknown } };
  const code =
    typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  const original = redact(typeof e?.message === 'string' ? e.message : String(err));
  const cause = Object.assign(new Error(original), code ? { code } : {});
  if (isTlsFailureCode(code)) {
    return new PanoramaError(
      `TLS verification of Panorama failed (${where(ctx)}): ${code}; set PANORAMA_CA_CERT to the CA that signed its certificate`,
      { kind: FailureKind.permanent, cause, details: details(ctx, { code }) },
    );
  }
  if ((code && TIMEOUT_CODES.has(code)) || e?.name === 'TimeoutError' || e?.name === 'CanceledError') {
    return new PanoramaError(`Panorama did not answer within ${timeoutMs} ms (${where(ctx)})`, {
      kind: FailureKind.retryable,
      cause,
      details: details(ctx, { code: code ?? 'TIMEOUT', timeoutMs }),
    });
  }
  const kind = classify(code ? { code } : cause);
  return new PanoramaError(`Panorama connection failed (${where(ctx)}): ${original}`, {
    kind: kind === FailureKind.permanent && code === undefined ? FailureKind.retryable : kind,
    cause,
    details: details(ctx, code ? { code } : {}),
  });
}
