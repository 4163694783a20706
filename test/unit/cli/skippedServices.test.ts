import { describe, expect, it } from 'vitest';
import { skippedServices, skippedSummary } from '../../../cli/skippedServices.js';

const INTERNAL = 'service.beta.kubernetes.io/azure-load-balancer-internal';

function lb(name: string, ingress: unknown, internal: string | undefined = 'true') {
  return {
    metadata: { name, namespace: 'shop', ...(internal ? { annotations: { [INTERNAL]: internal } } : {}) },
    spec: { type: 'LoadBalancer' },
    status: { loadBalancer: ingress === undefined ? {} : { ingress } },
  };
}

describe('skippedServices: why a listed Service gets no tags', () => {
  it.each<[string, unknown, string | undefined]>([
    ['an internal LB with an IP', lb('a', [{ ip: '10.0.0.1' }]), undefined],
    [
      'an internal LB with one good and one bad IP',
      lb('a', [{ ip: '10.0.0.01' }, { ip: '10.0.0.2' }]),
      undefined,
    ],
    [
      'a ClusterIP Service',
      { metadata: { name: 'dns', namespace: 'kube-system' }, spec: { type: 'ClusterIP' } },
      'not a LoadBalancer (type ClusterIP)',
    ],
    ['a Service without spec.type', { metadata: { name: 'x' } }, 'not a LoadBalancer (type ClusterIP)'],
    [
      'a NodePort Service',
      { metadata: { name: 'np' }, spec: { type: 'NodePort' } },
      'not a LoadBalancer (type NodePort)',
    ],
    [
      'a public LB',
      lb('pub', [{ ip: '20.0.0.1' }], ''),
      `public load balancer (no ${INTERNAL}: "true" annotation)`,
    ],
    [
      'an LB annotated internal=false',
      lb('pub', [{ ip: '20.0.0.1' }], 'false'),
      `public load balancer (no ${INTERNAL}: "true" annotation)`,
    ],
    ['a pending LB', lb('p', undefined), 'no IP yet (status.loadBalancer.ingress is empty: pending)'],
    ['an LB with an empty ingress', lb('p', []), 'no IP yet (status.loadBalancer.ingress is empty: pending)'],
    [
      'an LB with a hostname only',
      lb('h', [{ hostname: 'x.example' }]),
      'no IP yet (status.loadBalancer.ingress has no ip, only hostnames)',
    ],
    [
      'an LB whose only IP is invalid',
      lb('bad', [{ ip: '10.0.0.256' }]),
      'invalid IP "10.0.0.256": 256 is larger than 255',
    ],
    [
      'an LB without a name',
      { ...lb('', [{ ip: '10.0.0.1' }]), metadata: { annotations: { [INTERNAL]: 'true' } } },
      'no metadata.name',
    ],
    ['a non-object', 'nope', 'not an object'],
    ['an array', [lb('a', [{ ip: '10.0.0.1' }])], 'not an object'],
    [
      'a nameless LB with only a hostname (computeIpTags reports the missing name)',
      { ...lb('', [{ hostname: 'x.example' }]), metadata: { annotations: { [INTERNAL]: 'true' } } },
      'no metadata.name',
    ],
    [
      'a nameless LB with only invalid IPs (computeIpTags reports the missing name)',
      { ...lb('', [{ ip: '10.0.0.256' }]), metadata: { annotations: { [INTERNAL]: 'true' } } },
      'no metadata.name',
    ],
  ])('%s', (_name, item, reason) => {
    const skipped = skippedServices([item]);
    expect(skipped.map((s) => s.reason)).toEqual(reason === undefined ? [] : [reason]);
  });

  it('names Services namespace/name (default namespace when unset), item N when nameless, in list order', () => {
    const skipped = skippedServices([
      { metadata: { name: 'k' }, spec: { type: 'ClusterIP' } },
      lb('ok', [{ ip: '10.0.0.1' }]),
      null,
      lb('p', undefined),
    ]);
    expect(skipped.map((s) => s.ref)).toEqual(['default/k', 'item 2', 'shop/p']);
  });

  it('summarises by category, counting every listed Service', () => {
    const items = [
      { metadata: { name: 'a' }, spec: { type: 'ClusterIP' } },
      { metadata: { name: 'b' }, spec: { type: 'ClusterIP' } },
      lb('c', undefined),
      lb('d', [{ ip: '10.0.0.4' }]),
    ];
    expect(skippedSummary(skippedServices(items), items.length)).toBe(
      'skipped 3 of 4 Services: not a LoadBalancer: 2, no IP yet: 1',
    );
    expect(skippedSummary([], 1)).toBe('skipped 0 of 1 Service');
  });
});
