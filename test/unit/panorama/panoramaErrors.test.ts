import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FailureKind, FirewallNotConnectedError, PanoramaAuthError } from '../../../shared/errors.js';
import { errorFromResponse, errorFromTransport } from '../../../shared/panorama/panoramaErrors.js';
import { parsePanResponse } from '../../../shared/panorama/parsePanResponse.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/panorama/${name}`, import.meta.url), 'utf8');
const FW = '007951000000001';

describe('errorFromResponse', () => {
  it.each([
    [
      'HTTP 403 with the verbatim body',
      403,
      fixture('keygen-invalid-credential.xml'),
      undefined,
      FailureKind.authentication,
    ],
    [
      'HTTP 200 with body code 403',
      200,
      fixture('keygen-invalid-credential.xml'),
      undefined,
      FailureKind.authentication,
    ],
    ['HTTP 403 with no body', 403, '', undefined, FailureKind.authentication],
    [
      'code 16 unauthorized',
      200,
      '<response status="error" code="16"><msg>Unauthorized</msg></response>',
      undefined,
      FailureKind.authentication,
    ],
    ['code 22 session timed out', 200, fixture('session-timed-out.xml'), undefined, FailureKind.retryable],
    [
      '"Session timed out" without a code',
      200,
      '<response status="error"><msg><line>Session timed out</line></msg></response>',
      undefined,
      FailureKind.retryable,
    ],
    [
      'internal error code 5',
      200,
      '<response status="error" code="5"><msg>Internal error</msg></response>',
      undefined,
      FailureKind.retryable,
    ],
    ['HTTP 502 HTML page', 502, '<html><body>Bad Gateway</body></html>', undefined, FailureKind.retryable],
    [
      'HTTP 503 with an error body',
      503,
      '<response status="error"><msg>busy</msg></response>',
      undefined,
      FailureKind.retryable,
    ],
    ['HTTP 429', 429, '', undefined, FailureKind.retryable],
    ['code 17 invalid command', 200, fixture('invalid-command-cdata.xml'), undefined, FailureKind.permanent],
    [
      'code 18 malformed command',
      200,
      '<response status="error" code="18"><msg><line>Malformed command</line></msg></response>',
      undefined,
      FailureKind.permanent,
    ],
    [
      'HTTP 400 with a single-quoted code 400 body',
      400,
      fixture('bad-request-single-quoted.xml'),
      undefined,
      FailureKind.permanent,
    ],
    [
      'HTTP 200 with code 400',
      200,
      fixture('bad-request-single-quoted.xml'),
      undefined,
      FailureKind.permanent,
    ],
    [
      'HTTP 413',
      413,
      '<response status="error" code="400"><msg><line>too large</line></msg></response>',
      undefined,
      FailureKind.permanent,
    ],
    ['HTTP 200 with an HTML page', 200, '<html><body>login</body></html>', undefined, FailureKind.permanent],
    ['HTTP 302 redirect', 302, '', undefined, FailureKind.permanent],
    [
      'not connected without target',
      200,
      '<response status="error"><msg><line>Device 1 is not connected</line></msg></response>',
      undefined,
      FailureKind.permanent,
    ],
    [
      'unknown serial with target',
      200,
      '<response status="error"><msg><line>Device 1 is not a managed device</line></msg></response>',
      FW,
      FailureKind.permanent,
    ],
  ])('%s → %s', (_name, status, body, target, kind) => {
    const err = errorFromResponse(status, parsePanResponse(body), {
      operation: 'register',
      ...(target ? { target } : {}),
    });
    expect(err?.kind).toBe(kind);
  });

  it('maps a "not connected" answer to a targeted call to FirewallNotConnectedError', () => {
    const body = `<response status="error"><msg><line>Device ${FW} is not connected</line></msg></response>`;
    const err = errorFromResponse(200, parsePanResponse(body), { operation: 'register', target: FW });
    expect(err).toBeInstanceOf(FirewallNotConnectedError);
    expect((err as FirewallNotConnectedError).serial).toBe(FW);
  });

  it('returns undefined for success, and an auth error is a PanoramaAuthError', () => {
    expect(
      errorFromResponse(200, parsePanResponse(fixture('uid-success.xml')), { operation: 'register' }),
    ).toBeUndefined();
    expect(errorFromResponse(403, undefined, { operation: 'keygen' })).toBeInstanceOf(PanoramaAuthError);
  });

  it('names the operation, the target, the device message and code', () => {
    const err = errorFromResponse(200, parsePanResponse(fixture('invalid-command-cdata.xml')), {
      operation: 'show registered-ip',
      target: FW,
    });
    expect(err?.message).toBe(
      `Panorama show registered-ip on firewall ${FW} failed: show -> nonsense  is unexpected | second line (code 17)`,
    );
    expect(err?.details).toMatchObject({
      operation: 'show registered-ip',
      target: FW,
      code: 17,
      httpStatus: 200,
    });
  });
});

describe('errorFromTransport', () => {
  const axiosLike = (code: string, message: string) =>
    Object.assign(new Error(message), {
      code,
      isAxiosError: true,
      config: { headers: { 'X-PAN-KEY': 'SECRET-KEY-abcdef' }, data: 'user=admin&password=SECRET-PW-123' },
    });

  it.each([
    ['ECONNRESET', 'socket hang up', FailureKind.retryable],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1', FailureKind.retryable],
    ['ECONNABORTED', 'timeout of 100ms exceeded', FailureKind.retryable],
    ['ERR_CANCELED', 'canceled', FailureKind.retryable],
    ['ETIMEDOUT', 'connect ETIMEDOUT', FailureKind.retryable],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate', FailureKind.permanent],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate', FailureKind.permanent],
    [
      'ERR_TLS_CERT_ALTNAME_INVALID',
      "Hostname/IP does not match certificate's altnames",
      FailureKind.permanent,
    ],
  ])('%s → %s', (code, message, kind) => {
    expect(errorFromTransport(axiosLike(code, message), { operation: 'op' }, 100).kind).toBe(kind);
  });

  it('keeps request headers and body (key, password) out of the error and its cause', () => {
    const err = errorFromTransport(axiosLike('ECONNRESET', 'socket hang up'), { operation: 'keygen' }, 100);
    const shown = inspect(err, { depth: 10, showHidden: true });
    expect(shown).not.toContain('SECRET-KEY');
    expect(shown).not.toContain('SECRET-PW');
    expect((err.cause as Error).message).toBe('socket hang up');
  });
});
