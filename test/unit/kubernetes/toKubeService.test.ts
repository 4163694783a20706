import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FailureKind } from '../../../shared/errors.js';
import { KubeResponseError } from '../../../shared/kubernetes/KubeResponseError.js';
import { classifyKubeFailure, toKubernetesError } from '../../../shared/kubernetes/toKubernetesError.js';
import { toKubeService } from '../../../shared/kubernetes/toKubeService.js';

const EMPTY = { apiVersion: 'v1', kind: 'Service', metadata: {}, spec: {}, status: { loadBalancer: {} } };

describe('toKubeService on raw JSON (the lean harvest decodes with JSON.parse)', () => {
  it.each([
    ['null item', 'null', EMPTY],
    ['string item', '"svc"', EMPTY],
    ['array item', '[1,2]', EMPTY],
    ['non-object parts', '{"metadata":"m","spec":7,"status":{"loadBalancer":[]}}', EMPTY],
    [
      'wrong types kept for the engine to report',
      '{"metadata":{"name":5,"labels":"app=web","annotations":[1]},"status":{"loadBalancer":{"ingress":[null,"10.0.0.1",{"ip":7,"ipMode":"VIP"}]}}}',
      {
        ...EMPTY,
        metadata: { name: 5, labels: 'app=web', annotations: [1] },
        status: { loadBalancer: { ingress: [null, '10.0.0.1', { ip: 7 }] } },
      },
    ],
    [
      'ingress not an array',
      '{"spec":{"type":"LoadBalancer","ports":[{"port":80}]},"status":{"loadBalancer":{"ingress":{"ip":"10.0.0.1"}}}}',
      { ...EMPTY, spec: { type: 'LoadBalancer' } },
    ],
    [
      'only the fields the engine reads',
      '{"metadata":{"name":"web","namespace":"ns","uid":"u","managedFields":[{}],"labels":{"a":"b"},"resourceVersion":"9"},"spec":{"type":"LoadBalancer","clusterIP":"10.0.0.9","loadBalancerIP":"10.1.1.2","ports":[]},"status":{"loadBalancer":{"ingress":[{"ip":"10.1.1.1","hostname":"h","ipMode":"VIP"}]}}}',
      {
        ...EMPTY,
        metadata: { name: 'web', namespace: 'ns', labels: { a: 'b' }, resourceVersion: '9' },
        spec: { type: 'LoadBalancer', clusterIP: '10.0.0.9', loadBalancerIP: '10.1.1.2' },
        status: { loadBalancer: { ingress: [{ ip: '10.1.1.1', hostname: 'h' }] } },
      },
    ],
  ])('%s', (_name, json, expected) => {
    expect(toKubeService(JSON.parse(json))).toEqual(expected);
  });

  it('keeps a "__proto__" label as a plain label and pollutes no prototype', () => {
    const svc = toKubeService(
      JSON.parse('{"metadata":{"labels":{"__proto__":{"polluted":"yes"},"app":"web"}}}'),
    );
    expect(Object.keys(svc.metadata?.labels ?? {})).toEqual(['__proto__', 'app']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(svc.metadata?.labels)).toBe(Object.prototype);
  });

  it('never throws and never pollutes Object.prototype, whatever JSON an item is', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (item, labels) => {
        const raw = JSON.parse(
          JSON.stringify({
            item,
            svc: { metadata: { labels, name: item }, status: { loadBalancer: { ingress: [item] } } },
          }),
        ) as { item: unknown; svc: unknown };
        for (const value of [raw.item, raw.svc]) {
          const out = toKubeService(value);
          expect(out.kind).toBe('Service');
          expect(typeof out.metadata).toBe('object');
        }
        expect(Object.keys(Object.prototype)).toEqual([]);
      }),
    );
  });
});

describe('KubeResponseError through the error classification', () => {
  const forbidden = JSON.stringify({
    kind: 'Status',
    reason: 'Forbidden',
    message: 'services is forbidden: User "u"',
  });
  it.each([
    [new KubeResponseError(429, '', { 'retry-after': '3' }), FailureKind.retryable],
    [new KubeResponseError(503, '', {}), FailureKind.retryable],
    [new KubeResponseError(501, '', {}), FailureKind.permanent],
    [new KubeResponseError(403, forbidden, {}), FailureKind.authentication],
    [new KubeResponseError(404, 'not json', {}), FailureKind.permanent],
  ])('%#: classifies %s as %s', (err, kind) => {
    expect(classifyKubeFailure(err)).toBe(kind);
  });

  it('names the permission and quotes the server, as for client-node errors', () => {
    const ctx = { cluster: 'aks-1', server: 'https://aks-1:443', authType: 'token' as const };
    const err = toKubernetesError(new KubeResponseError(403, forbidden, {}), ctx);
    expect(err.kind).toBe(FailureKind.authentication);
    expect(err.message).toContain('403 Forbidden: services is forbidden: User "u"');
    expect(err.message).toContain('"view" ClusterRole');
    const busy = toKubernetesError(
      new KubeResponseError(503, JSON.stringify({ reason: 'ServiceUnavailable', message: 'busy' }), {}),
      ctx,
      2,
    );
    expect(busy.message).toBe(
      'Kubernetes API of cluster "aks-1" (https://aks-1:443): listing Services failed after 2 attempts (HTTP 503 ServiceUnavailable: busy)',
    );
  });
});
