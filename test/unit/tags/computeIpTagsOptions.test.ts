import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClusterConfig, NamedSelector } from '../../../shared/config/loadConfig.js';
import { InputError } from '../../../shared/errors.js';
import type { KubeService } from '../../../shared/kubernetes/KubeService.js';
import { parseLabelSelector } from '../../../shared/selectors/parseLabelSelector.js';
import {
  type ComputeIpTagsOptions,
  computeIpTags,
  tagOptionsOf,
} from '../../../shared/tags/computeIpTags.js';
import { ipTagMapToJson } from '../../../shared/tags/IpTagMap.js';
import { parseTag } from '../../../shared/tags/tagGrammar.js';

const INTERNAL = 'service.beta.kubernetes.io/azure-load-balancer-internal';
const C = 'aks-prod-1';

/** An internal LoadBalancer Service in `ns` with `labels` on `ips`. */
function lb(name: string, ns: string | undefined, labels: Record<string, unknown> = {}, ips = ['10.0.0.1']) {
  return {
    metadata: {
      name,
      ...(ns === undefined ? {} : { namespace: ns }),
      annotations: { [INTERNAL]: 'true' },
      labels: labels as Record<string, string>,
    },
    spec: { type: 'LoadBalancer' },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  } as KubeService;
}

function sel(name: string, source: string): NamedSelector {
  return { name, source, selector: parseLabelSelector(source) };
}

function run(services: KubeService[], options: Partial<ComputeIpTagsOptions> = {}) {
  const result = computeIpTags(services, { cluster: C, selectors: [], ...options });
  return { ...result, json: ipTagMapToJson(result.tags) };
}

/** `n` labels `k00`…: value `v`. */
function manyLabels(n: number, value = 'v'): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${String(i).padStart(2, '0')}`, value]));
}

describe('computeIpTags: namespace tags', () => {
  it('adds no namespace tag unless namespaceTags is set', () => {
    expect(run([lb('web', 'shop')]).json).toEqual({ '10.0.0.1': ['aks.aks-prod-1.web'] });
    expect(run([lb('web', 'shop')], { namespaceTags: false }).json).toEqual({
      '10.0.0.1': ['aks.aks-prod-1.web'],
    });
  });

  it('adds aks.<cluster>.ns.<namespace> to every IP of the Service', () => {
    const { json, issues } = run([lb('web', 'shop', { app: 'web' }, ['10.0.0.1', 'fd00::1'])], {
      namespaceTags: true,
    });
    const tags = ['aks.aks-prod-1.ns.shop', 'aks.aks-prod-1.svc.app.web', 'aks.aks-prod-1.web'];
    expect(json).toEqual({ '10.0.0.1': tags, 'fd00::1': tags });
    expect(issues).toEqual([]);
    expect(parseTag('aks.aks-prod-1.ns.shop')).toEqual({ form: 'namespace', cluster: C });
  });

  it('gives a Service without metadata.namespace the namespace tag of "default"', () => {
    expect(run([lb('web', undefined)], { namespaceTags: true }).json['10.0.0.1']).toContain(
      'aks.aks-prod-1.ns.default',
    );
  });

  it('keeps a Service named "ns" apart from namespace tags', () => {
    const { json } = run([lb('ns', 'ns')], { namespaceTags: true });
    expect(json['10.0.0.1']).toEqual(['aks.aks-prod-1.ns', 'aks.aks-prod-1.ns.ns']);
    expect(json['10.0.0.1']?.map((t) => parseTag(t)?.form)).toEqual(['service', 'namespace']);
  });

  it('leaves out a namespace tag PAN-OS would refuse and reports it, keeping the other tags', () => {
    const { json, issues } = run([lb('web', "o'hara")], { namespaceTags: true });
    expect(json).toEqual({ '10.0.0.1': ['aks.aks-prod-1.web'] });
    expect(issues).toEqual([expect.objectContaining({ severity: 'error', service: "o'hara/web" })]);
    expect(issues[0]?.message).toMatch(
      /its namespace gives tag "aks\.aks-prod-1\.ns\.o'hara", which contains a single quote/,
    );
  });

  it('shortens a long namespace tag once, keeping its owner', () => {
    const ns = `n${'s'.repeat(119)}`;
    const { json, issues } = run([lb('a', ns, {}, ['10.0.0.1']), lb('b', ns, {}, ['10.0.0.2'])], {
      namespaceTags: true,
    });
    const short = json['10.0.0.1']?.find((t) => t.startsWith('aks.aks-prod-1.ns.'));
    expect(short).toHaveLength(127);
    expect(json['10.0.0.2']).toContain(short);
    expect(parseTag(short ?? '')).toEqual({ form: 'namespace', cluster: C });
    expect(issues.filter((i) => /characters long/.test(i.message))).toHaveLength(1);
  });
});

describe('computeIpTags: label filters', () => {
  const labels = {
    app: 'web',
    tier: 'front',
    'helm.sh/chart': 'web-1.2.3',
    'app.kubernetes.io/version': '1.2.3',
    'app.kubernetes.io/name': 'web',
  };
  const labelTags = (json: Record<string, string[]>) =>
    (json['10.0.0.1'] ?? []).filter((t) => t.startsWith('aks.aks-prod-1.svc.'));

  it.each<[string, ComputeIpTagsOptions['labelTags'], string[]]>([
    [
      'no filter: every label',
      undefined,
      ['app', 'app.kubernetes.io/name', 'app.kubernetes.io/version', 'helm.sh/chart', 'tier'],
    ],
    [
      'exclude the volatile keys',
      { exclude: ['helm.sh/chart', 'app.kubernetes.io/version'] },
      ['app', 'app.kubernetes.io/name', 'tier'],
    ],
    ['include only some keys', { include: ['app', 'tier'] }, ['app', 'tier']],
    [
      'include a prefix, exclude one of it',
      { include: ['app.kubernetes.io/*'], exclude: ['*/version'] },
      ['app.kubernetes.io/name'],
    ],
    ['include nothing', { include: [] }, []],
    ['exclude everything', { exclude: ['*'] }, []],
  ])('%s', (_name, filter, keys) => {
    const { json, issues } = run([lb('web', 'shop', labels)], { labelTags: filter });
    expect(labelTags(json)).toEqual(
      keys.map((k) => `aks.aks-prod-1.svc.${k}.${labels[k as keyof typeof labels]}`).sort(),
    );
    expect(json['10.0.0.1']).toContain('aks.aks-prod-1.web');
    expect(issues).toEqual([]);
  });

  it('still matches selectors on the labels it does not tag', () => {
    const { json } = run([lb('web', 'shop', labels)], {
      labelTags: { include: ['app'] },
      selectors: [sel('charted', 'helm.sh/chart'), sel('v1', 'app.kubernetes.io/version=1.2.3')],
    });
    expect(json['10.0.0.1']).toEqual([
      'aks.aks-prod-1.svc.app.web',
      'aks.aks-prod-1.web',
      'aks_charted.aks-prod-1.web',
      'aks_v1.aks-prod-1.web',
    ]);
  });

  it('reports nothing about a hostile value of a label it does not tag', () => {
    const { json, issues } = run([lb('web', 'shop', { note: "it's", app: 'web' })], {
      labelTags: { exclude: ['note'] },
    });
    expect(json['10.0.0.1']).toEqual(['aks.aks-prod-1.svc.app.web', 'aks.aks-prod-1.web']);
    expect(issues).toEqual([]);
  });

  it('still reports a non-string value of a label it does not tag: selectors cannot be matched', () => {
    const { json, issues } = run([lb('web', 'shop', { replicas: 3, app: 'web' })], {
      labelTags: { include: ['app'] },
      selectors: [sel('web', 'app=web')],
    });
    expect(json['10.0.0.1']).toEqual(['aks.aks-prod-1.svc.app.web', 'aks.aks-prod-1.web']);
    expect(issues).toEqual([expect.objectContaining({ severity: 'error', label: 'replicas' })]);
  });

  it.each([[{ include: [''] }], [{ exclude: ['a b'] }], [{ include: ['ok', 7 as unknown as string] }]])(
    'refuses the invalid glob in %j',
    (filter) => {
      expect(() => run([], { labelTags: filter })).toThrow(InputError);
      expect(() => run([], { labelTags: filter })).toThrow(/invalid label glob/);
    },
  );
});

describe('computeIpTags: tag budget', () => {
  it('cuts an IP to its budget in priority order and reports it once, in issues and in cuts', () => {
    const { json, issues, cuts } = run([lb('web', 'shop', { b: '1', a: '2', c: '3' })], {
      maxTagsPerIp: 3,
      namespaceTags: true,
      selectors: [sel('web', 'a')],
    });
    expect(json).toEqual({
      '10.0.0.1': ['aks.aks-prod-1.ns.shop', 'aks.aks-prod-1.web', 'aks_web.aks-prod-1.web'],
    });
    const dropped = ['aks.aks-prod-1.svc.a.2', 'aks.aks-prod-1.svc.b.1', 'aks.aks-prod-1.svc.c.3'];
    expect(cuts).toEqual([{ ip: '10.0.0.1', services: ['shop/web'], dropped }]);
    expect(issues).toEqual([
      {
        severity: 'warning',
        kind: 'over-budget',
        cluster: C,
        ip: '10.0.0.1',
        service: 'shop/web',
        message: `IP 10.0.0.1 of Service "shop/web" in cluster ${C} has 6 tags, more than its budget of 3; not registered: ${dropped.map((t) => JSON.stringify(t)).join(', ')} (kept first: Service, namespace and selector tags, then label tags by key; raise maxTagsPerIp or MAX_TAGS_PER_IP (at most 32) or leave labels out with labelTags)`,
      },
    ]);
  });

  it('keeps label tags by key, then value, when it cuts among them', () => {
    const { json } = run([lb('web', 'shop', { tier: 'front', app: 'web', 'a.b': 'c' })], { maxTagsPerIp: 3 });
    expect(json['10.0.0.1']).toEqual([
      'aks.aks-prod-1.svc.a.b.c',
      'aks.aks-prod-1.svc.app.web',
      'aks.aks-prod-1.web',
    ]);
  });

  it('keeps 32 tags by default: the Service tag and the first 31 labels by key', () => {
    const { json, cuts, issues } = run([lb('big', 'shop', manyLabels(40))]);
    expect(json['10.0.0.1']).toHaveLength(32);
    expect(json['10.0.0.1']).toContain('aks.aks-prod-1.big');
    expect(json['10.0.0.1']).toContain('aks.aks-prod-1.svc.k30.v');
    expect(cuts[0]?.dropped).toEqual(Array.from({ length: 9 }, (_, i) => `aks.aks-prod-1.svc.k${31 + i}.v`));
    expect(issues[0]?.message).toMatch(
      /has 41 tags, more than its budget of 32; .*\(kept first: .*; leave labels out with labelTags\)$/,
    );
  });

  it('names every Service of a shared IP once and cuts only the IP over its budget', () => {
    const { json, cuts, issues } = run(
      [
        lb('a', 'shop', { x: '1', y: '1' }, ['10.0.0.1', '10.0.0.2']),
        lb('b', 'ops', { z: '1' }, ['10.0.0.2']),
      ],
      { maxTagsPerIp: 4 },
    );
    expect(json['10.0.0.1']).toEqual([
      'aks.aks-prod-1.a',
      'aks.aks-prod-1.svc.x.1',
      'aks.aks-prod-1.svc.y.1',
    ]);
    expect(json['10.0.0.2']).toEqual([
      'aks.aks-prod-1.a',
      'aks.aks-prod-1.b',
      'aks.aks-prod-1.svc.x.1',
      'aks.aks-prod-1.svc.y.1',
    ]);
    expect(cuts).toEqual([
      { ip: '10.0.0.2', services: ['ops/b', 'shop/a'], dropped: ['aks.aks-prod-1.svc.z.1'] },
    ]);
    expect(issues).toHaveLength(1);
    expect(issues[0]).not.toHaveProperty('service');
    expect(issues[0]?.message).toMatch(
      /^IP 10\.0\.0\.2 of Services "ops\/b", "shop\/a" in cluster aks-prod-1 has 5 tags/,
    );
  });

  it('lists at most 20 dropped tags in the message, and all of them in cuts', () => {
    const { cuts, issues } = run([lb('big', 'shop', manyLabels(30))], { maxTagsPerIp: 1 });
    expect(cuts[0]?.dropped).toHaveLength(30);
    expect(issues[0]?.message).toContain('and 10 more (kept first');
  });

  it('returns no cuts when every IP is within its budget', () => {
    expect(run([lb('web', 'shop', manyLabels(31))]).cuts).toEqual([]);
  });

  it.each([0, 33, 1.5, -1, Number.NaN])('refuses the budget %s', (maxTagsPerIp) => {
    expect(() => run([], { maxTagsPerIp })).toThrow(
      /invalid tag budget .*: expected an integer from 1 to 32/,
    );
  });
});

describe('computeIpTags: tag budget properties', () => {
  const KEY = fc.constantFrom(
    'app',
    'tier',
    'team',
    'a.b',
    'a',
    'a-b',
    'z',
    'Z',
    'x/y',
    'x.y/z',
    'k1',
    'k2',
    'k3',
  );
  const VALUE = fc.constantFrom('', '1', 'b.c', 'c', 'web', 'front', 'x');
  const SERVICE = fc.record({
    name: fc.constantFrom('a', 'b', 'c', 'web', 'db', 'ns', 'svc'),
    ns: fc.constantFrom('shop', 'ops', 'default'),
    labels: fc.dictionary(KEY, VALUE, { maxKeys: 12 }),
    ips: fc.uniqueArray(fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', 'fd00::1'), {
      minLength: 1,
      maxLength: 3,
    }),
  });
  const OPTIONS = fc.record({
    maxTagsPerIp: fc.integer({ min: 1, max: 32 }),
    namespaceTags: fc.boolean(),
    selectors: fc.constant([sel('web', 'app=web'), sel('any', 'tier'), sel('none', '!team')]),
  });
  const toServices = (list: { name: string; ns: string; labels: Record<string, string>; ips: string[] }[]) =>
    list.map((s) => lb(s.name, s.ns, s.labels, s.ips));

  it('never gives an IP more tags than its budget, and reports exactly the IPs it cut', () => {
    fc.assert(
      fc.property(fc.array(SERVICE, { maxLength: 8 }), OPTIONS, (list, options) => {
        const { tags, cuts, issues } = computeIpTags(toServices(list), { cluster: C, ...options });
        for (const t of tags.values()) expect(t.length).toBeLessThanOrEqual(options.maxTagsPerIp);
        for (const cut of cuts) expect(tags.get(cut.ip)).toHaveLength(options.maxTagsPerIp);
        const warned = issues.filter((i) => /more than its budget/.test(i.message)).map((i) => i.ip);
        expect(warned).toEqual(cuts.map((c) => c.ip));
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same tags and cuts whatever the order of the Services and of their labels', () => {
    const reorder = fc
      .array(SERVICE, { maxLength: 8 })
      .chain((list) =>
        fc.tuple(
          fc.constant(list),
          fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }),
        ),
      );
    fc.assert(
      fc.property(reorder, OPTIONS, ([list, shuffled], options) => {
        const reversed = shuffled.map((s) => ({
          ...s,
          labels: Object.fromEntries(Object.entries(s.labels).reverse()),
        }));
        const a = computeIpTags(toServices(list), { cluster: C, ...options });
        const b = computeIpTags(toServices(reversed), { cluster: C, ...options });
        expect(ipTagMapToJson(b.tags)).toEqual(ipTagMapToJson(a.tags));
        expect(b.cuts).toEqual(a.cuts);
      }),
      { numRuns: 300 },
    );
  });
});

describe('computeIpTags: one Service tag for several namespaces', () => {
  it('warns once per name, naming the namespaces and the fix, whatever namespaceTags is', () => {
    const services = [
      lb('web', 'b', {}, ['10.0.0.1']),
      lb('web', 'a', {}, ['10.0.0.2']),
      lb('web', 'b', {}, ['10.0.0.3']),
      lb('db', 'a'),
    ];
    const off = run(services).issues;
    expect(off).toEqual([
      {
        severity: 'warning',
        kind: 'shared-service-tag',
        cluster: C,
        message: `tag "aks.aks-prod-1.web" in cluster ${C} stands for the Services "web" of 2 namespaces ("a", "b"), so a policy matching it matches all of them; enable namespaceTags for the cluster and match it together with aks.${C}.ns.<namespace>, or give the Services distinct names`,
      },
    ]);
    const on = run(services, { namespaceTags: true }).issues;
    expect(on).toHaveLength(1);
    expect(on[0]?.message).toMatch(
      /of 2 namespaces \("a", "b"\), .*; match it together with aks\.aks-prod-1\.ns\.<namespace>, or give the Services distinct names$/,
    );
  });

  it('does not warn about one Service listed twice or about names in one namespace', () => {
    expect(run([lb('web', 'a'), lb('web', 'a'), lb('api', 'a')]).issues).toEqual([]);
  });

  it('does not count a Service whose Service tag was refused', () => {
    const { issues } = run([lb("we'b", 'a'), lb("we'b", 'b')]);
    expect(issues.map((i) => i.severity)).toEqual(['error', 'error']);
  });
});

describe('computeIpTags: selectors that match nothing', () => {
  it('warns about each selector no Service matches, naming it and its text', () => {
    const { issues } = run([lb('web', 'shop', { app: 'web', replicas: '3' })], {
      selectors: [sel('web', 'app=web'), sel('typo', 'ap=web'), sel('big', 'replicas>5')],
    });
    expect(issues).toEqual([
      {
        severity: 'warning',
        kind: 'unmatched-selector',
        cluster: C,
        selector: 'typo',
        message: `selector "typo" ("ap=web") in cluster ${C} matches none of the 1 Service it was checked against, so no aks_typo.${C}.* tag is produced; check its keys and values against the Services' labels`,
      },
      expect.objectContaining({ selector: 'big', severity: 'warning' }),
    ]);
  });

  it('says nothing when the cluster has no eligible Service', () => {
    const clusterIp = { ...lb('web', 'shop'), spec: { type: 'ClusterIP' } };
    expect(run([clusterIp], { selectors: [sel('typo', 'ap=web')] }).issues).toEqual([]);
    expect(run([], { selectors: [sel('typo', 'ap=web')] }).issues).toEqual([]);
  });

  it('tags Services that a > or < selector matches', () => {
    const { json } = run(
      [lb('a', 's', { replicas: '3' }, ['10.0.0.1']), lb('b', 's', { replicas: '12' }, ['10.0.0.2'])],
      {
        selectors: [sel('big', 'replicas>10'), sel('small', 'replicas<10')],
      },
    );
    expect(json['10.0.0.1']).toContain('aks_small.aks-prod-1.a');
    expect(json['10.0.0.1']).not.toContain('aks_big.aks-prod-1.a');
    expect(json['10.0.0.2']).toContain('aks_big.aks-prod-1.b');
  });
});

describe('tagOptionsOf', () => {
  it('takes the cluster name, selectors, budget, label filter and namespace tags from the configuration', () => {
    const cluster: ClusterConfig = {
      name: C,
      auth: { type: 'azureAd' },
      labelSelectors: [sel('web', 'app=web')],
      deviceGroups: [],
      maxTagsPerIp: 2,
      labelTags: { exclude: ['a'] },
      namespaceTags: true,
    };
    expect(tagOptionsOf(cluster)).toEqual({
      cluster: C,
      selectors: cluster.labelSelectors,
      maxTagsPerIp: 2,
      labelTags: { exclude: ['a'] },
      namespaceTags: true,
    });
    const { json } = run([lb('web', 'shop', { a: '1', app: 'web' })], tagOptionsOf(cluster));
    expect(json['10.0.0.1']).toEqual(['aks.aks-prod-1.ns.shop', 'aks.aks-prod-1.web']);
  });
});
