import { ApiException, type V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { toAzureError } from '../../../shared/aks/toAzureError.js';
import { backoffDelay, parseRetryAfter } from '../../../shared/backoff.js';
import { FailureKind } from '../../../shared/errors.js';
import { classifyKubeFailure, toKubernetesError } from '../../../shared/kubernetes/toKubernetesError.js';
import { toKubeService } from '../../../shared/kubernetes/toKubeService.js';

const ctx = { cluster: 'aks-1', server: 'https://aks-1:443', authType: 'token' as const };
const status = (code: number, body?: unknown, headers: Record<string, string> = {}) =>
  new ApiException(code, 'x', body === undefined ? undefined : JSON.stringify(body), headers);

describe('classifyKubeFailure', () => {
  it.each([
    [status(429), FailureKind.retryable],
    [status(500), FailureKind.retryable],
    [status(503), FailureKind.retryable],
    [status(501), FailureKind.permanent],
    [status(401), FailureKind.authentication],
    [status(403), FailureKind.authentication],
    [status(404), FailureKind.permanent],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), FailureKind.retryable],
    [Object.assign(new Error('aborted'), { name: 'AbortError' }), FailureKind.retryable],
    [Object.assign(new Error('self-signed'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), FailureKind.permanent],
  ])('%#: classifies as %s', (err, kind) => {
    expect(classifyKubeFailure(err)).toBe(kind);
  });
});

describe('toKubernetesError', () => {
  it('names the view ClusterRole for a service-account token and the AKS RBAC Reader role for Entra ID', () => {
    const body = {
      kind: 'Status',
      message: 'services is forbidden: User "u" cannot list resource "services"',
      code: 403,
    };
    const sa = toKubernetesError(status(403, body), ctx);
    const aad = toKubernetesError(status(403, body), { ...ctx, authType: 'azureAd' });
    expect(sa.kind).toBe(FailureKind.authentication);
    expect(sa.message).toContain('"view" ClusterRole');
    expect(sa.message).toContain('services is forbidden: User "u"');
    expect(aad.message).toContain('"Azure Kubernetes Service RBAC Reader"');
    expect(toKubernetesError(status(401), ctx).message).toContain('service-account token is invalid');
    expect(toKubernetesError(status(401), { ...ctx, authType: 'azureAd' }).message).toContain(
      'Microsoft Entra ID',
    );
  });

  it('describes other failures with status, reason and attempts', () => {
    const err = toKubernetesError(status(503, { reason: 'ServiceUnavailable', message: 'busy' }), ctx, 4);
    expect(err.kind).toBe(FailureKind.retryable);
    expect(err.message).toBe(
      'Kubernetes API of cluster "aks-1" (https://aks-1:443): listing Services failed after 4 attempts (HTTP 503 ServiceUnavailable: busy)',
    );
  });
});

describe('toAzureError', () => {
  const op = {
    operation: 'list managed clusters',
    scope: '/subscriptions/s',
    action: 'Microsoft.ContainerService/managedClusters/read',
    role: 'Reader',
  };
  it('maps ARM statuses to kinds and names the missing action and role on 403', () => {
    const rest = (statusCode: number, code: string) =>
      Object.assign(new Error(`${code} message`), { name: 'RestError', statusCode, code });
    expect(toAzureError(rest(403, 'AuthorizationFailed'), op).message).toContain(
      'lacks "Microsoft.ContainerService/managedClusters/read"; assign the identity "Reader"',
    );
    expect(toAzureError(rest(401, 'InvalidAuthenticationToken'), op).kind).toBe(FailureKind.authentication);
    expect(toAzureError(rest(404, 'SubscriptionNotFound'), op).kind).toBe(FailureKind.permanent);
    expect(toAzureError(rest(429, 'TooManyRequests'), op).kind).toBe(FailureKind.retryable);
    expect(toAzureError(rest(500, 'InternalServerError'), op).kind).toBe(FailureKind.retryable);
    expect(
      toAzureError(Object.assign(new Error('no identity'), { name: 'CredentialUnavailableError' }), op).kind,
    ).toBe(FailureKind.authentication);
  });
});

describe('backoffDelay / parseRetryAfter', () => {
  it('doubles from the base delay up to the cap and honours a longer Retry-After', () => {
    const o = { baseMs: 500, maxMs: 4_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, o))).toEqual([500, 1_000, 2_000, 4_000, 4_000]);
    expect(backoffDelay(1, o, 3_000)).toBe(3_000);
    expect(backoffDelay(1, o, 60_000)).toBe(4_000);
  });

  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('toKubeService', () => {
  it('keeps only the fields the tag engine reads, as plain data', () => {
    const v1: V1Service = {
      metadata: {
        name: 'web',
        namespace: 'ns',
        labels: { a: 'b' },
        uid: 'u',
        creationTimestamp: new Date(0),
      },
      spec: { type: 'LoadBalancer', clusterIP: '10.0.0.1', ports: [{ port: 80 }] },
      status: { loadBalancer: { ingress: [{ ip: '10.1.1.1', ipMode: 'VIP' }] } },
    };
    expect(toKubeService(v1)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'ns', labels: { a: 'b' } },
      spec: { type: 'LoadBalancer', clusterIP: '10.0.0.1' },
      status: { loadBalancer: { ingress: [{ ip: '10.1.1.1' }] } },
    });
  });
});
