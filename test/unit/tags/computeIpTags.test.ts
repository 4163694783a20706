import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NamedSelector } from '../../../shared/config/loadConfig.js';
import { InputError } from '../../../shared/errors.js';
import type { KubeService } from '../../../shared/kubernetes/KubeService.js';
import { parseLabelSelector } from '../../../shared/selectors/parseLabelSelector.js';
import { computeIpTags } from '../../../shared/tags/computeIpTags.js';
import { ipTagMapToJson } from '../../../shared/tags/IpTagMap.js';

const INTERNAL = 'service.beta.kubernetes.io/azure-load-balancer-internal';

interface LbOptions {
  ns?: string;
  labels?: Record<string, unknown>;
  ips?: unknown[];
  /** The internal annotation's value; `null` for none. */
  internal?: unknown;
  type?: string;
}

/** An internal LoadBalancer Service as the API returns it; options override each part. */
function lb(
  name: string,
  { ns = 'shop', labels, ips = ['10.240.0.10'], internal = 'true', type = 'LoadBalancer' }: LbOptions = {},
): KubeService {
  return {
    metadata: {
      name,
      namespace: ns,
      annotations: internal === null ? {} : { [INTERNAL]: internal as string },
      ...(labels ? { labels: labels as Record<string, string> } : {}),
    },
    spec: { type },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip: ip as string })) } },
  };
}

function sel(name: string, source: string): NamedSelector {
  return { name, source, selector: parseLabelSelector(source) };
}

function run(services: unknown[], selectors: NamedSelector[] = [], cluster = 'aks-prod-1') {
  const { tags, issues } = computeIpTags(services as KubeService[], { cluster, selectors });
  return { json: ipTagMapToJson(tags), tags, issues };
}

function sha8(text: string): string {
  return createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex').slice(0, 8);
}

describe('computeIpTags: eligibility', () => {
  it.each<[string, boolean, unknown]>([
    ['internal LoadBalancer with "true" and an IP', true, lb('a')],
    ['internal LoadBalancer with "True"', true, lb('a', { internal: 'True' })],
    ['internal LoadBalancer with "tRuE"', true, lb('a', { internal: 'tRuE' })],
    ['LoadBalancer with the annotation "false"', false, lb('a', { internal: 'false' })],
    ['public LoadBalancer (no annotation)', false, lb('a', { internal: null })],
    ['ClusterIP with the annotation', false, lb('a', { type: 'ClusterIP' })],
    ['NodePort with the annotation', false, lb('a', { type: 'NodePort' })],
    ['ExternalName with the annotation', false, lb('a', { type: 'ExternalName' })],
    ['pending internal LoadBalancer (empty ingress)', false, lb('a', { ips: [] })],
    [
      'pending internal LoadBalancer (no status)',
      false,
      { metadata: { name: 'a', annotations: { [INTERNAL]: 'true' } }, spec: { type: 'LoadBalancer' } },
    ],
    [
      'internal LoadBalancer with a hostname-only ingress',
      false,
      {
        metadata: { name: 'a', annotations: { [INTERNAL]: 'true' } },
        spec: { type: 'LoadBalancer' },
        status: { loadBalancer: { ingress: [{ hostname: 'a.example' }] } },
      },
    ],
  ])('%s → tagged: %s', (_name, tagged, service) => {
    const { tags, issues } = run([service]);
    expect(tags.size > 0).toBe(tagged);
    expect(issues).toEqual([]);
  });
});

describe('computeIpTags: tag forms', () => {
  it('gives an internal Service its service tag and one tag per label', () => {
    const { json, issues } = run([lb('checkout', { labels: { app: 'checkout', tier: 'front' } })]);
    expect(json).toEqual({
      '10.240.0.10': [
        'aks.aks-prod-1.checkout',
        'aks.aks-prod-1.svc.app.checkout',
        'aks.aks-prod-1.svc.tier.front',
      ],
    });
    expect(issues).toEqual([]);
  });

  it('gives a Service without labels only its service tag', () => {
    expect(run([lb('checkout')]).json).toEqual({ '10.240.0.10': ['aks.aks-prod-1.checkout'] });
  });

  it('keeps prefixed label keys and empty label values as they are', () => {
    const { json } = run([lb('web', { labels: { 'app.kubernetes.io/name': 'web', canary: '' } })]);
    expect(json['10.240.0.10']).toEqual([
      'aks.aks-prod-1.svc.app.kubernetes.io/name.web',
      'aks.aks-prod-1.svc.canary.',
      'aks.aks-prod-1.web',
    ]);
  });

  it('keeps XML metacharacters in tags (escaping is the Panorama client’s job)', () => {
    const { json, issues } = run([lb('web', { labels: { note: '<a&b>' } })]);
    expect(json['10.240.0.10']).toContain('aks.aks-prod-1.svc.note.<a&b>');
    expect(issues).toEqual([]);
  });

  const labels = { app: 'web', tier: 'front', track: 'stable' };
  it.each<[string, string, boolean]>([
    ['=', 'app=web', true],
    ['= (mismatch)', 'app=api', false],
    ['==', 'app==web', true],
    ['!=', 'app!=api', true],
    ['!= (same value)', 'app!=web', false],
    ['!= (absent key)', 'team!=x', true],
    ['in', 'tier in (front,edge)', true],
    ['in (mismatch)', 'tier in (back)', false],
    ['in (absent key)', 'team in (a)', false],
    ['notin', 'tier notin (back)', true],
    ['notin (mismatch)', 'tier notin (front)', false],
    ['notin (absent key)', 'team notin (a)', true],
    ['exists', 'track', true],
    ['exists (absent)', 'canary', false],
    ['!', '!canary', true],
    ['! (present)', '!track', false],
    ['AND of all', 'app=web,tier in (front),!canary,track', true],
    ['AND with one failing', 'app=web,tier in (back)', false],
    ['empty selector', '', true],
  ])('adds aks_<selector>.<cluster>.<service> for operator %s when it matches', (_op, source, matches) => {
    const { json } = run([lb('checkout', { labels })], [sel('web', source)]);
    expect(json['10.240.0.10']?.includes('aks_web.aks-prod-1.checkout')).toBe(matches);
  });

  it('adds one selector tag per matching selector, in code-unit order', () => {
    const { json } = run(
      [lb('checkout', { labels: { app: 'web' } })],
      [sel('zeta', 'app'), sel('Alpha', 'app=web'), sel('mid', 'app=api'), sel('beta', '!canary')],
    );
    expect(json['10.240.0.10']).toEqual([
      'aks.aks-prod-1.checkout',
      'aks.aks-prod-1.svc.app.web',
      'aks_Alpha.aks-prod-1.checkout',
      'aks_beta.aks-prod-1.checkout',
      'aks_zeta.aks-prod-1.checkout',
    ]);
  });

  it('matches selectors against labels without a key on a Service without labels', () => {
    const { json } = run([lb('bare')], [sel('nocanary', '!canary'), sel('web', 'app=web')]);
    expect(json['10.240.0.10']).toEqual(['aks.aks-prod-1.bare', 'aks_nocanary.aks-prod-1.bare']);
  });
});

describe('computeIpTags: IPs', () => {
  it('gives every ingress IP of a dual-stack Service the same tags, IPv6 in RFC 5952 form', () => {
    const { json } = run([
      lb('web', { ips: ['10.240.0.12', 'FD00:10:240:0:0:0:0:000C'], labels: { app: 'web' } }),
    ]);
    expect(json).toEqual({
      '10.240.0.12': ['aks.aks-prod-1.svc.app.web', 'aks.aks-prod-1.web'],
      'fd00:10:240::c': ['aks.aks-prod-1.svc.app.web', 'aks.aks-prod-1.web'],
    });
  });

  it('gives an IP shared by several Services the union of their tags, unique and sorted', () => {
    const { json } = run([
      lb('api-https', { labels: { app: 'api', port: 'https' }, ips: ['10.240.0.20'] }),
      lb('api-http', { labels: { app: 'api', port: 'http' }, ips: ['10.240.0.20'] }),
      lb('other', { ns: 'ops', labels: { app: 'api' }, ips: ['10.240.0.20', '10.240.0.21'] }),
    ]);
    expect(json).toEqual({
      '10.240.0.20': [
        'aks.aks-prod-1.api-http',
        'aks.aks-prod-1.api-https',
        'aks.aks-prod-1.other',
        'aks.aks-prod-1.svc.app.api',
        'aks.aks-prod-1.svc.port.http',
        'aks.aks-prod-1.svc.port.https',
      ],
      '10.240.0.21': ['aks.aks-prod-1.other', 'aks.aks-prod-1.svc.app.api'],
    });
  });

  it('gives one tag to Services of the same name in different namespaces', () => {
    const { json } = run([lb('web', { ns: 'a' }), lb('web', { ns: 'b' })]);
    expect(json).toEqual({ '10.240.0.10': ['aks.aks-prod-1.web'] });
  });

  it('sorts tags and IPs in code-unit order (upper case before lower case, "." before "_")', () => {
    const { json, tags } = run(
      [
        lb('b', { labels: { a: '1', Z: '1', _x: '1' }, ips: ['10.0.0.2'] }),
        lb('a', { ips: ['10.0.0.10'] }),
        lb('c', { ips: ['fd00::1'] }),
        lb('d', { ips: ['10.0.0.1'] }),
      ],
      [sel('s', '')],
    );
    expect(json['10.0.0.2']).toEqual([
      'aks.aks-prod-1.b',
      'aks.aks-prod-1.svc.Z.1',
      'aks.aks-prod-1.svc._x.1',
      'aks.aks-prod-1.svc.a.1',
      'aks_s.aks-prod-1.b',
    ]);
    expect([...tags.keys()]).toEqual(['10.0.0.1', '10.0.0.10', '10.0.0.2', 'fd00::1']);
  });

  it('counts an IP listed twice (or once as IPv4-mapped IPv6) once', () => {
    const { json, issues } = run([lb('a', { ips: ['10.0.0.1', '10.0.0.1', '::ffff:10.0.0.1'] })]);
    expect(json).toEqual({ '10.0.0.1': ['aks.aks-prod-1.a'] });
    expect(issues).toEqual([
      expect.objectContaining({ severity: 'warning', service: 'shop/a', ip: '::ffff:10.0.0.1' }),
    ]);
    expect(issues[0]?.message).toMatch(/IPv4-mapped IPv6 address, tagged as its IPv4 address 10\.0\.0\.1/);
  });

  it.each([
    ['fe80::1%eth0', /zone IDs/],
    ['010.0.0.1', /leading zero/],
    ['not-an-ip', /not an IPv4 or IPv6 address/],
    ['0.0.0.0', /unspecified/],
  ])('reports the invalid IP %j as an error and still tags the Service’s other IPs', (bad, reason) => {
    const { json, issues } = run([lb('a', { ips: [bad, '10.0.0.1'] })]);
    expect(json).toEqual({ '10.0.0.1': ['aks.aks-prod-1.a'] });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'error', cluster: 'aks-prod-1', service: 'shop/a', ip: bad });
    expect(issues[0]?.message).toMatch(reason);
    expect(issues[0]?.message).toContain(JSON.stringify(bad));
  });
});

describe('computeIpTags: long tags', () => {
  it('shortens a tag over 127 characters to 118 characters, "-" and 8 hex of its SHA-256, warning once per tag', () => {
    const value = `${'x'.repeat(60)}.${'y'.repeat(60)}`;
    const full = `aks.aks-prod-1.svc.note.${value}`;
    const expected = `${full.slice(0, 118)}-${sha8(full)}`;
    const { json, issues } = run([
      lb('a', { labels: { note: value }, ips: ['10.0.0.1'] }),
      lb('b', { labels: { note: value }, ips: ['10.0.0.2'] }),
      lb('c', { labels: { note: value }, ips: ['10.0.0.1'] }),
    ]);
    expect(expected).toHaveLength(127);
    expect(json['10.0.0.1']).toEqual(['aks.aks-prod-1.a', 'aks.aks-prod-1.c', expected]);
    expect(json['10.0.0.2']).toEqual(['aks.aks-prod-1.b', expected]);
    expect(issues).toEqual([
      {
        severity: 'warning',
        cluster: 'aks-prod-1',
        service: 'shop/a',
        label: 'note',
        message: `tag ${JSON.stringify(full)} of Service "shop/a" in cluster aks-prod-1 is ${full.length} characters long (PAN-OS allows 127); registered as ${JSON.stringify(expected)}`,
      },
    ]);
  });

  it('leaves a tag of exactly 127 characters alone and shortens one of 128', () => {
    const prefix = 'aks.aks-prod-1.svc.k.';
    const v127 = 'v'.repeat(127 - prefix.length);
    const v128 = 'w'.repeat(128 - prefix.length);
    const { json, issues } = run([lb('a', { labels: { k: v127 } }), lb('b', { labels: { k: v128 } })]);
    const full128 = `${prefix}${v128}`;
    expect(json['10.240.0.10']).toEqual([
      'aks.aks-prod-1.a',
      'aks.aks-prod-1.b',
      `${prefix}${v127}`,
      `${full128.slice(0, 118)}-${sha8(full128)}`,
    ]);
    expect(issues.map((i) => i.severity)).toEqual(['warning']);
  });

  it('shortens long service and selector tags too', () => {
    const cluster = `c${'l'.repeat(62)}`;
    const name = `s${'n'.repeat(62)}`;
    const serviceFull = `aks.${cluster}.${name}`;
    const selectorFull = `aks_web.${cluster}.${name}`;
    const { json, issues } = run([lb(name)], [sel('web', '')], cluster);
    expect(json['10.240.0.10']).toEqual([
      `${serviceFull.slice(0, 118)}-${sha8(serviceFull)}`,
      `${selectorFull.slice(0, 118)}-${sha8(selectorFull)}`,
    ]);
    expect(issues).toHaveLength(2);
    expect(issues.every((i) => i.severity === 'warning' && i.service === `shop/${name}`)).toBe(true);
  });
});

describe('computeIpTags: hostile labels', () => {
  it.each([
    ['a single quote', "o'brien", /contains a single quote/],
    ['a double quote', 'say "hi"', /contains a double quote/],
    ['a newline', 'a\nb', /control character U\+000A/],
    ['an escape sequence', '\u001b[2J', /control character U\+001B/],
    ['a NUL', 'a\u0000', /control character U\+0000/],
    ['two consecutive spaces', 'a  b', /two consecutive spaces/],
    ['a non-ASCII letter', 'zürich', /non-ASCII character U\+00FC/],
    ['a very long value with a quote', `${'v'.repeat(300)}'`, /single quote/],
  ])(
    'leaves out a label tag with %s and reports an error naming Service, cluster and label',
    (_n, value, reason) => {
      const { json, issues } = run(
        [lb('web', { ns: 'team-a', labels: { app: 'web', note: value } })],
        [sel('web', 'app=web')],
      );
      expect(json).toEqual({
        '10.240.0.10': ['aks.aks-prod-1.svc.app.web', 'aks.aks-prod-1.web', 'aks_web.aks-prod-1.web'],
      });
      expect(issues).toHaveLength(1);
      const [issue] = issues;
      expect(issue).toMatchObject({
        severity: 'error',
        cluster: 'aks-prod-1',
        service: 'team-a/web',
        label: 'note',
      });
      expect(issue?.message).toMatch(reason);
      expect(issue?.message).toMatch(
        /^Service "team-a\/web" in cluster aks-prod-1: label "note" gives tag ".*"/,
      );
      expect([...(issue?.message ?? '')].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    },
  );

  it('leaves out a label tag whose key is hostile', () => {
    const { json, issues } = run([lb('web', { labels: { "it's": 'x', app: 'web' } })]);
    expect(json['10.240.0.10']).toEqual(['aks.aks-prod-1.svc.app.web', 'aks.aks-prod-1.web']);
    expect(issues).toEqual([expect.objectContaining({ severity: 'error', label: "it's" })]);
  });

  it('reports a hostile label once per Service that carries it', () => {
    const { issues } = run([lb('a', { labels: { q: '"' } }), lb('b', { labels: { q: '"' } })]);
    expect(issues.map((i) => i.service)).toEqual(['shop/a', 'shop/b']);
  });

  it('leaves out the service and selector tags of a Service whose name PAN-OS would refuse, keeping label tags', () => {
    const { json, issues } = run([lb("we'b", { labels: { app: 'web' } })], [sel('all', '')]);
    expect(json).toEqual({ '10.240.0.10': ['aks.aks-prod-1.svc.app.web'] });
    expect(issues).toEqual([expect.objectContaining({ severity: 'error', service: "shop/we'b" })]);
    expect(issues[0]?.message).toMatch(
      /its name gives tag "aks\.aks-prod-1\.we'b", which contains a single quote/,
    );
  });

  it('leaves out the label tag and all selector tags when a label value is not a string', () => {
    const { json, issues } = run(
      [lb('web', { labels: { app: 'web', replicas: 3, gone: null } })],
      [sel('web', 'app=web'), sel('few', 'replicas notin (1)')],
    );
    expect(json).toEqual({ '10.240.0.10': ['aks.aks-prod-1.svc.app.web', 'aks.aks-prod-1.web'] });
    expect(issues.map((i) => [i.severity, i.label])).toEqual([
      ['error', 'replicas'],
      ['error', 'gone'],
    ]);
    expect(issues[0]?.message).toMatch(/label "replicas" has a number value instead of a string/);
    expect(issues[1]?.message).toMatch(/has a null value/);
  });

  it('reports labels that are not an object and tags only the service', () => {
    const { json, issues } = run(
      [lb('web', { labels: ['app=web'] as unknown as Record<string, string> })],
      [sel('all', '')],
    );
    expect(json).toEqual({ '10.240.0.10': ['aks.aks-prod-1.web'] });
    expect(issues).toEqual([expect.objectContaining({ severity: 'error', service: 'shop/web' })]);
    expect(issues[0]?.message).toMatch(/metadata\.labels is not an object/);
  });

  it('does not see prototype properties as labels', () => {
    const { json } = run(
      [lb('web', { labels: JSON.parse('{"__proto__":"x","app":"web"}') })],
      [sel('ctor', 'constructor')],
    );
    expect(json['10.240.0.10']).toEqual([
      'aks.aks-prod-1.svc.__proto__.x',
      'aks.aks-prod-1.svc.app.web',
      'aks.aks-prod-1.web',
    ]);
  });
});

describe('computeIpTags: hostile items', () => {
  it('reports items it cannot read and tags the rest', () => {
    const nameless: unknown = {
      metadata: { annotations: { [INTERNAL]: 'true' } },
      spec: { type: 'LoadBalancer' },
      status: { loadBalancer: { ingress: [{ ip: '10.0.0.9' }] } },
    };
    const weird: unknown[] = [
      null,
      42,
      'svc',
      [],
      nameless,
      lb('ok', { ips: ['10.0.0.1'] }),
      { ...lb('ingress-not-array'), status: { loadBalancer: { ingress: 'x' } } },
      {
        ...lb('ingress-entries'),
        status: { loadBalancer: { ingress: [null, 7, { ip: 5 }, { ip: '10.0.0.3' }] } },
      },
      { metadata: null, spec: { type: 'LoadBalancer' } },
      { spec: null, status: null, metadata: 'x' },
    ];
    const { json, issues } = run(weird);
    expect(json).toEqual({
      '10.0.0.1': ['aks.aks-prod-1.ok'],
      '10.0.0.3': ['aks.aks-prod-1.ingress-entries'],
    });
    expect(issues.map((i) => i.message)).toEqual([
      'item 0 of the Service list in cluster aks-prod-1 is not an object; skipped',
      'item 1 of the Service list in cluster aks-prod-1 is not an object; skipped',
      'item 2 of the Service list in cluster aks-prod-1 is not an object; skipped',
      'item 3 of the Service list in cluster aks-prod-1 is not an object; skipped',
      'item 4 of the Service list in cluster aks-prod-1 is an internal load balancer without metadata.name; skipped',
      'Service "shop/ingress-entries" in cluster aks-prod-1: ingress IP 5 is not usable (expected a string, got number); not tagged',
    ]);
    expect(issues.every((i) => i.severity === 'error' && i.cluster === 'aks-prod-1')).toBe(true);
  });

  it('takes a Service without namespace to be in "default"', () => {
    const svc = lb('web', { labels: { q: "'" } });
    delete svc.metadata?.namespace;
    expect(run([svc]).issues[0]?.service).toBe('default/web');
  });

  it('keeps messages about a Service with a hostile name on one line', () => {
    const { issues } = run([lb('web\nERROR fake log line', { ips: ['bad', '10.0.0.1'] })]);
    expect(issues).toHaveLength(2);
    for (const issue of issues) expect(issue.message).not.toContain('\n');
  });

  it('returns an empty map and no issues for no Services', () => {
    const { tags, issues } = run([]);
    expect(tags.size).toBe(0);
    expect(issues).toEqual([]);
  });
});

describe('computeIpTags: options', () => {
  it.each(['', 'aks prod', "aks'1", '-aks', 'a'.repeat(64), 'aks.prod'])(
    'refuses the cluster name %j',
    (cluster) => {
      expect(() => computeIpTags([], { cluster, selectors: [] })).toThrow(InputError);
    },
  );

  it.each(['', 'we b', 'web.x', "w'"])('refuses the selector name %j', (name) => {
    expect(() =>
      computeIpTags([], { cluster: 'c', selectors: [sel('ok', ''), { ...sel('x', ''), name }] }),
    ).toThrow(/invalid selector name/);
  });
});

describe('computeIpTags: determinism', () => {
  const pool = [
    lb('a', { labels: { app: 'web', tier: 'front' }, ips: ['10.0.0.1'] }),
    lb('b', { labels: { app: 'web' }, ips: ['10.0.0.1', 'fd00::1'] }),
    lb('c', { labels: { app: 'db', note: "x'y" }, ips: ['10.0.0.2'] }),
    lb('d', { ns: 'x', labels: { app: 'api', big: 'z'.repeat(120) }, ips: ['10.0.0.2', '10.0.0.3'] }),
    lb('e', { ips: ['::ffff:10.0.0.3'] }),
    lb('f', { internal: 'false' }),
  ];
  const selectors = [sel('web', 'app=web'), sel('notdb', 'app notin (db)')];

  it('gives the same tags whatever the order of the Services', () => {
    const expected = ipTagMapToJson(computeIpTags(pool, { cluster: 'c', selectors }).tags);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(pool, { minLength: pool.length, maxLength: pool.length }),
        (services) => {
          const { tags } = computeIpTags(services, { cluster: 'c', selectors });
          expect(ipTagMapToJson(tags)).toEqual(expected);
          expect(JSON.stringify([...tags.keys()])).toBe(JSON.stringify(Object.keys(expected)));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('keeps every tag list unique and sorted, and every tag at most 127 characters', () => {
    const { tags } = computeIpTags(pool, { cluster: 'c', selectors });
    for (const list of tags.values()) {
      expect([...new Set(list)].sort()).toEqual(list);
      for (const t of list) expect(t.length).toBeLessThanOrEqual(127);
    }
  });
});
