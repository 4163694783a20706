import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  classify,
  classifyHttpStatus,
  FailureKind,
  FirewallNotConnectedError,
  isTlsFailureCode,
  PanoramaAuthError,
} from '../../shared/errors.js';

describe('classifyHttpStatus', () => {
  it.each([
    [408, FailureKind.retryable],
    [429, FailureKind.retryable],
    [500, FailureKind.retryable],
    [502, FailureKind.retryable],
    [503, FailureKind.retryable],
    [501, FailureKind.permanent],
    [505, FailureKind.permanent],
    [400, FailureKind.permanent],
    [404, FailureKind.permanent],
    [401, FailureKind.authentication],
    [403, FailureKind.authentication],
    [409, FailureKind.conflict],
    [412, FailureKind.conflict],
  ])('classifies HTTP %i as %s', (status, kind) => {
    expect(classifyHttpStatus(status)).toBe(kind);
  });
});

describe('classify', () => {
  it.each([
    [
      'ECONNRESET network error',
      Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
      FailureKind.retryable,
    ],
    ['ETIMEDOUT network error', Object.assign(new Error('t'), { code: 'ETIMEDOUT' }), FailureKind.retryable],
    [
      'SDK error with statusCode 412',
      Object.assign(new Error('etag'), { statusCode: 412 }),
      FailureKind.conflict,
    ],
    [
      'axios-like error with response.status 503',
      Object.assign(new Error('x'), { response: { status: 503 } }),
      FailureKind.retryable,
    ],
    [
      'wrapped cause',
      new Error('outer', { cause: Object.assign(new Error('i'), { code: 'ECONNREFUSED' }) }),
      FailureKind.retryable,
    ],
    ['plain error', new Error('boom'), FailureKind.permanent],
    ['a string', 'boom', FailureKind.permanent],
    ['Panorama auth error', new PanoramaAuthError(), FailureKind.authentication],
    ['disconnected firewall', new FirewallNotConnectedError('0071'), FailureKind.retryable],
    ['config error', new ConfigError(['X: bad']), FailureKind.permanent],
  ])('classifies %s', (_name, err, kind) => {
    expect(classify(err)).toBe(kind);
  });

  it('lists every problem of a ConfigError in its message', () => {
    const err = new ConfigError(['A: missing', 'B: bad']);
    expect(err.message).toContain('A: missing');
    expect(err.message).toContain('B: bad');
    expect(err.problems).toEqual(['A: missing', 'B: bad']);
  });
});

describe('isTlsFailureCode (one list for every adapter)', () => {
  it.each([
    ['SELF_SIGNED_CERT_IN_CHAIN', true],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', true],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', true],
    ['CERT_HAS_EXPIRED', true],
    ['CERT_REJECTED', true],
    ['ERR_TLS_CERT_ALTNAME_INVALID', true],
    ['ERR_SSL_WRONG_VERSION_NUMBER', true],
    ['ECONNREFUSED', false],
    ['ETIMEDOUT', false],
    ['EPROTO', false],
    [undefined, false],
  ] as const)('%s → %s', (code, expected) => {
    expect(isTlsFailureCode(code)).toBe(expected);
  });
});
