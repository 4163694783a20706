import { describe, expect, it } from 'vitest';
import type { KubeService } from '../../../shared/kubernetes/KubeService.js';
import { computeIpTags } from '../../../shared/tags/computeIpTags.js';
import { ipTagMapToJson } from '../../../shared/tags/IpTagMap.js';
import { normalizeIp } from '../../../shared/tags/normalizeIp.js';

/**
 * Invalid and edge IPs in `status.loadBalancer.ingress[].ip` (normalizeIp's contract):
 * each is canonicalised or refused with a reason naming Service, cluster and IP; the Service's
 * other, valid IPs and the other Services are still tagged.
 */

function svc(name: string, ips: unknown[], labels: Record<string, string> = {}): KubeService {
  return {
    metadata: {
      name,
      namespace: 'edge',
      labels,
      annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' },
    },
    spec: { type: 'LoadBalancer' },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  } as unknown as KubeService;
}

const refused: [string, unknown, RegExp][] = [
  ['an IPv6 zone', 'fe80::1%eth0', /zone IDs/],
  ['an IPv6 zone with a number', 'fe80::1%2', /zone IDs/],
  ['a leading zero', '010.0.0.1', /leading zero/],
  ['a leading zero in the last octet', '10.0.0.01', /leading zero/],
  ['an out-of-range octet', '10.0.0.256', /larger than 255/],
  ['a five-part IPv4', '10.0.0.1.5', /4 dot-separated numbers, found 5/],
  ['a three-part IPv4', '10.0.1', /found 3/],
  ['an empty part', '10..0.1', /no empty parts/],
  ['a hostname', 'internal.example.net', /not an IPv4 or IPv6 address/],
  ['a hostname that looks numeric', '1e3', /not an IPv4 or IPv6 address/],
  ['an empty string', '', /empty string/],
  ['a number', 167772161, /expected a string, got number/],
  ['null', null, /expected a string, got object/],
  ['an object', { v4: '10.0.0.1' }, /expected a string, got object/],
  ['a boolean', true, /expected a string, got boolean/],
  ['an IPv4 CIDR', '10.0.0.0/24', /prefix length/],
  ['an IPv6 CIDR', 'fd00::/64', /prefix length/],
  ['an IPv4 range', '10.0.0.1-10.0.0.9', /not an IPv4 or IPv6 address/],
  ['0.0.0.0', '0.0.0.0', /unspecified address 0.0.0.0/],
  ['::', '::', /unspecified address ::/],
  ['0:0:0:0:0:0:0:0', '0:0:0:0:0:0:0:0', /unspecified address ::/],
  ['::ffff:0.0.0.0', '::ffff:0.0.0.0', /unspecified address 0.0.0.0/],
  ['a bracketed IPv6', '[fd00::1]', /brackets/],
  ['surrounding whitespace', ' 10.0.0.1', /whitespace/],
  ['a trailing newline', '10.0.0.1\n', /whitespace/],
  ['a NUL byte', '10.0.0.1\u0000', /not a dotted-quad|not an IPv4 or IPv6 address|decimal/],
  ['two "::"', 'fd00::1::2', /"::" may appear only once/],
  ['nine groups', '1:2:3:4:5:6:7:8:9', /8 groups, found 9/],
  ['a 5-digit group', 'fd00::12345', /not a group of 1-4 hex digits/],
  ['a bad embedded IPv4', '::ffff:10.0.0.300', /embedded IPv4 part/],
  ['an XML-hostile string', '<ip>&"\'', /not an IPv4 or IPv6 address/],
  ['a 10 KB string', '1'.repeat(10_000), /too long/],
  ['a C1 control character (CSI)', '10.0.0.1\u009b31m', /not an IPv4 or IPv6 address/],
  ['a DEL character', '10.0.0.1\u007f', /not an IPv4 or IPv6 address/],
  ['a line separator', '10.0.0.1\u2028', /whitespace/],
  ['fullwidth digits', '１０.０.０.１', /not an IPv4 or IPv6 address/],
];

const canonical: [string, string, string][] = [
  ['IPv4 stays as is', '10.0.0.1', '10.0.0.1'],
  ['upper-case IPv6 is lower-cased', 'FD00::1', 'fd00::1'],
  ['a redundant zero group is compressed', 'fd00:0::1', 'fd00::1'],
  ['the full form is compressed', 'fd00:0000:0000:0000:0000:0000:0000:0001', 'fd00::1'],
  ['leading zeros in groups go', 'fd00::00ab', 'fd00::ab'],
  ['the longest zero run is compressed', '2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'],
  ['the first run wins a tie', '2001:0:0:1:0:0:2:3', '2001::1:0:0:2:3'],
  ['a single zero group is not compressed', '2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ['IPv4-mapped IPv6 becomes IPv4', '::ffff:10.0.0.7', '10.0.0.7'],
  ['IPv4-mapped IPv6 in hex becomes IPv4', '::FFFF:0a00:0007', '10.0.0.7'],
  ['IPv4-compatible (deprecated) stays IPv6', '::10.0.0.7', '::a00:7'],
  ['link-local', 'FE80::1', 'fe80::1'],
  ['loopback', '::1', '::1'],
];

describe('normalizeIp on edge IPs', () => {
  it.each(refused)('refuses %s with a reason', (_what, ip, reason) => {
    const n = normalizeIp(ip);
    expect(n.ok).toBe(false);
    expect(!n.ok && n.reason).toMatch(reason);
  });

  it.each(canonical)('%s: %s → %s', (_what, ip, expected) => {
    const n = normalizeIp(ip);
    expect(n).toMatchObject({ ok: true, ip: expected });
    expect(normalizeIp(expected)).toMatchObject({ ok: true, ip: expected });
  });
});

describe('computeIpTags on edge IPs', () => {
  const cluster = 'aks-edge';

  it.each(refused)(
    'a Service with %s is reported, its valid IP and the other Services still tagged',
    (_what, ip) => {
      const { tags, issues } = computeIpTags(
        [svc('bad', [ip, '10.9.0.1'], { app: 'x' }), svc('good', ['10.9.0.2'])],
        { cluster, selectors: [] },
      );
      expect(ipTagMapToJson(tags)).toEqual({
        '10.9.0.1': ['aks.aks-edge.bad', 'aks.aks-edge.svc.app.x'],
        '10.9.0.2': ['aks.aks-edge.good'],
      });
      const errors = issues.filter((i) => i.severity === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ cluster, service: 'edge/bad' });
      expect(errors[0]?.message).toContain('"edge/bad"');
      expect(errors[0]?.message).toContain(`in cluster ${cluster}`);
      expect(errors[0]?.message).toMatch(/ingress IP .* is not usable/);
      // The message is one printable line (hostile text is JSON-quoted) and bounded.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none got through
      expect(errors[0]?.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      expect(errors[0]?.message.length).toBeLessThan(1000);
    },
  );

  it('duplicates in different spellings collapse to one canonical IP with the union of tags', () => {
    const { tags, issues } = computeIpTags(
      [
        svc('a', ['FD00::1', 'fd00::1', 'fd00:0::1', 'fd00:0000:0:0:0:0:0:0001'], { app: 'a' }),
        svc('b', ['fd00:0:0:0::1'], { app: 'b' }),
        svc('c', ['::ffff:10.9.0.3', '10.9.0.3']),
      ],
      { cluster, selectors: [] },
    );
    expect(ipTagMapToJson(tags)).toEqual({
      '10.9.0.3': ['aks.aks-edge.c'],
      'fd00::1': ['aks.aks-edge.a', 'aks.aks-edge.b', 'aks.aks-edge.svc.app.a', 'aks.aks-edge.svc.app.b'],
    });
    // The IPv4-mapped spelling is a warning (changed form), never an error.
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(issues).toEqual([
      expect.objectContaining({ severity: 'warning', service: 'edge/c', ip: '::ffff:10.9.0.3' }),
    ]);
    expect(issues[0]?.message).toMatch(/IPv4-mapped IPv6 address, tagged as its IPv4 address 10\.9\.0\.3/);
  });

  it('a Service whose IPs are all invalid gives no entry and one error per IP', () => {
    const { tags, issues } = computeIpTags([svc('none', ['fe80::1%eth0', '0.0.0.0', '', 'host.local'])], {
      cluster,
      selectors: [],
    });
    expect(tags.size).toBe(0);
    expect(issues.filter((i) => i.severity === 'error')).toHaveLength(4);
  });

  it('hostile ingress shapes are skipped without throwing', () => {
    const weird = [
      { ...svc('w1', []), status: { loadBalancer: { ingress: 'fd00::1' } } },
      { ...svc('w2', []), status: { loadBalancer: { ingress: [null, 7, 'fd00::2', { hostname: 'x' }] } } },
      { ...svc('w3', []), status: { loadBalancer: null } },
      { ...svc('w4', []), status: 'up' },
      svc('ok', ['10.9.0.9']),
    ] as unknown as KubeService[];
    const { tags } = computeIpTags(weird, { cluster, selectors: [] });
    expect(ipTagMapToJson(tags)).toEqual({ '10.9.0.9': ['aks.aks-edge.ok'] });
  });
});
