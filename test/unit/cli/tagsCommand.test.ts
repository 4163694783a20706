import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../../cli/CliIo.js';
import { runCli } from '../../../cli/runCli.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/services/', import.meta.url));
const INTERNAL = 'service.beta.kubernetes.io/azure-load-balancer-internal';

/** `err()` is stderr without the "note: skipped …" lines, which `skips()` returns (see skippedServices.test.ts). */
function io(stdin = ''): CliIo & { out: () => string; err: () => string; skips: () => string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdin: Readable.from([Buffer.from(stdin)]),
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: {},
    cwd: FIXTURES,
    out: () => out.join(''),
    err: () =>
      err
        .join('')
        .split(/(?<=\n)/)
        .filter((l) => !l.startsWith('note: skipped '))
        .join(''),
    skips: () => err.filter((l) => l.startsWith('note: skipped ')),
  };
}

function svc(
  name: string,
  ip: string,
  labels: Record<string, string> = {},
  kind: string | undefined = 'Service',
) {
  return {
    ...(kind ? { kind } : {}),
    metadata: { name, namespace: 'shop', labels, annotations: { [INTERNAL]: 'true' } },
    spec: { type: 'LoadBalancer' },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}

const EXPECTED_FIXTURE_OUTPUT = `{
  "10.240.0.10": [
    "aks.aks-prod-1.checkout",
    "aks.aks-prod-1.svc.app.checkout",
    "aks.aks-prod-1.svc.tier.front"
  ],
  "10.240.0.11": [
    "aks.aks-prod-1.ledger",
    "aks.aks-prod-1.svc.app.ledger",
    "aks.aks-prod-1.svc.team.payments",
    "aks.aks-prod-1.svc.tier.back"
  ],
  "10.240.0.12": [
    "aks.aks-prod-1.svc.app.kubernetes.io/name.web",
    "aks.aks-prod-1.svc.app.web",
    "aks.aks-prod-1.svc.tier.front",
    "aks.aks-prod-1.web-dual",
    "aks_web.aks-prod-1.web-dual"
  ],
  "10.240.0.20": [
    "aks.aks-prod-1.api-http",
    "aks.aks-prod-1.api-https",
    "aks.aks-prod-1.svc.app.api",
    "aks.aks-prod-1.svc.port.http",
    "aks.aks-prod-1.svc.port.https"
  ],
  "fd00:10:240::c": [
    "aks.aks-prod-1.svc.app.kubernetes.io/name.web",
    "aks.aks-prod-1.svc.app.web",
    "aks.aks-prod-1.svc.tier.front",
    "aks.aks-prod-1.web-dual",
    "aks_web.aks-prod-1.web-dual"
  ]
}
`;

async function fixtureText(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(`${FIXTURES}mixed-servicelist.json`, 'utf8');
}

describe('tags command', () => {
  it('prints the tags of a kubectl List read from FILE', async () => {
    const t = io();
    const code = await runCli(
      ['tags', '--cluster', 'aks-prod-1', '--selector', 'web=app=web', 'mixed-servicelist.json'],
      t,
    );
    expect(t.err()).toBe('');
    expect(t.skips()).toEqual([
      'note: skipped 6 of 11 Services: not a LoadBalancer: 3, public load balancer: 2, no IP yet: 1 (--verbose names them)\n',
    ]);
    expect(t.out()).toBe(EXPECTED_FIXTURE_OUTPUT);
    expect(code).toBe(0);
  });

  it.each([[[]], [['-']]])('prints the same tags for the List read from stdin (args %j)', async (extra) => {
    const t = io(await fixtureText());
    const code = await runCli(['tags', '--cluster=aks-prod-1', '--selector=web=app=web', ...extra], t);
    expect(t.err()).toBe('');
    expect(t.out()).toBe(EXPECTED_FIXTURE_OUTPUT);
    expect(code).toBe(0);
  });

  it('applies several selectors, set-based ones included', async () => {
    const t = io(
      JSON.stringify([
        svc('a', '10.0.0.1', { app: 'web', tier: 'front' }),
        svc('b', '10.0.0.2', { app: 'db' }),
      ]),
    );
    const code = await runCli(
      [
        'tags',
        '--cluster',
        'c1',
        '--selector',
        'front=tier in (front, edge)',
        '--selector',
        'nodb=app notin (db)',
      ],
      t,
    );
    expect(code).toBe(0);
    expect(JSON.parse(t.out())).toEqual({
      '10.0.0.1': [
        'aks.c1.a',
        'aks.c1.svc.app.web',
        'aks.c1.svc.tier.front',
        'aks_front.c1.a',
        'aks_nodb.c1.a',
      ],
      '10.0.0.2': ['aks.c1.b', 'aks.c1.svc.app.db'],
    });
  });

  it.each([
    ['a bare array of Services', [svc('a', '10.0.0.1')]],
    [
      'a ServiceList as the API returns it (items without kind)',
      { kind: 'ServiceList', apiVersion: 'v1', items: [svc('a', '10.0.0.1', {}, undefined)] },
    ],
    ['a single Service', svc('a', '10.0.0.1')],
  ])('accepts %s', async (_name, input) => {
    const t = io(JSON.stringify(input));
    expect(await runCli(['tags', '--cluster', 'c1'], t)).toBe(0);
    expect(t.out()).toBe('{\n  "10.0.0.1": [\n    "aks.c1.a"\n  ]\n}\n');
  });

  it('prints {} for a list without internal load balancers', async () => {
    const t = io('{"kind":"List","items":[]}');
    expect(await runCli(['tags', '--cluster', 'c1'], t)).toBe(0);
    expect(t.out()).toBe('{}\n');
  });

  it('skips items of other kinds in a List with one warning line', async () => {
    const t = io(
      JSON.stringify({
        kind: 'List',
        items: [{ kind: 'Pod', metadata: { name: 'p' } }, svc('a', '10.0.0.1')],
      }),
    );
    expect(await runCli(['tags', '--cluster', 'c1'], t)).toBe(0);
    expect(t.err()).toBe('warning: skipped 1 item that is not a Service\n');
    expect(JSON.parse(t.out())).toEqual({ '10.0.0.1': ['aks.c1.a'] });
  });

  it('prints issues on stderr, one line each, and still prints the other tags', async () => {
    const long = 'x'.repeat(63);
    const t = io(
      JSON.stringify([
        svc('a', '10.0.0.1', { note: "it's\nnot ok", app: 'web' }),
        svc('b', 'fe80::1%eth0'),
        svc('c', '10.0.0.3', { [`example.com/${long}`]: long }),
      ]),
    );
    expect(await runCli(['tags', '--cluster', 'c1'], t)).toBe(0);
    const lines = t.err().split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^error: Service "shop\/a" in cluster c1: label "note" gives tag .* contains a single quote/,
    );
    expect(lines[1]).toMatch(
      /^error: Service "shop\/b" in cluster c1: ingress IP "fe80::1%eth0" is not usable \(zone IDs/,
    );
    expect(lines[2]).toMatch(
      /^warning: tag "aks\.c1\.svc\.example\.com\/x+\.x+" of Service "shop\/c" .* registered as "aks\.c1\.svc\.example\.com\/x+\.x+-[0-9a-f]{8}"$/,
    );
    expect(Object.keys(JSON.parse(t.out()))).toEqual(['10.0.0.1', '10.0.0.3']);
  });

  it.each<[string, string[], string, RegExp]>([
    [
      'bad JSON',
      ['--cluster', 'c1'],
      '{"kind": "List", "items": [',
      /^aks-panorama-sync tags: stdin is not valid JSON: /,
    ],
    ['bad JSON with newlines in it', ['--cluster', 'c1'], '{\n\n"a":\n}\n', /not valid JSON: /],
    [
      'YAML (kubectl without -o json)',
      ['--cluster', 'c1'],
      'apiVersion: v1\nitems:\n- kind: Service\n',
      /stdin is not valid JSON \(it looks like YAML: run kubectl with "-o json", e.g\. kubectl get svc -A -o json\): /,
    ],
    ['empty input', ['--cluster', 'c1'], '  \n', /stdin is empty; expected a ServiceList JSON/],
    [
      'a bad selector',
      ['--cluster', 'c1', '--selector', 'web=app in ('],
      '[]',
      /invalid --selector web="app in \(": expected "," or "\)"/,
    ],
    [
      'a bad selector value',
      ['--cluster', 'c1', '--selector', 'web=app=-x'],
      '[]',
      /invalid label value "-x"/,
    ],
    [
      'a selector without a name',
      ['--cluster', 'c1', '--selector', '=app=web'],
      '[]',
      /--selector expects NAME=SELECTOR/,
    ],
    [
      'a selector without "="',
      ['--cluster', 'c1', '--selector', 'web'],
      '[]',
      /--selector expects NAME=SELECTOR, got "web"/,
    ],
    [
      'a bad selector name',
      ['--cluster', 'c1', '--selector', 'we.b=app'],
      '[]',
      /invalid --selector name "we\.b"/,
    ],
    [
      'a selector name given twice',
      ['--cluster', 'c1', '--selector', 'w=a', '--selector', 'w=b'],
      '[]',
      /"w" is given twice/,
    ],
    ['missing --cluster', [], '[]', /missing --cluster NAME/],
    ['--cluster without a value', ['--cluster'], '[]', /--cluster needs a value/],
    ['an invalid cluster name', ['--cluster', 'aks prod'], '[]', /invalid cluster name "aks prod"/],
    ['an unknown option', ['--cluster', 'c1', '--verbosity'], '[]', /unknown option "--verbosity"/],
    ['two files', ['--cluster', 'c1', 'a.json', 'b.json'], '[]', /only one FILE/],
    ['a missing file', ['--cluster', 'c1', 'nope.json'], '', /cannot read nope\.json: ENOENT/],
    [
      '--live with a FILE',
      ['--cluster', 'c1', '--live', 'mixed-servicelist.json'],
      '',
      /either --live or FILE/,
    ],
    ['a list of another kind', ['--cluster', 'c1'], '{"kind":"PodList","items":[]}', /got kind "PodList"/],
    ['a ServiceList without items', ['--cluster', 'c1'], '{"kind":"ServiceList"}', /has no "items" array/],
    ['a JSON string', ['--cluster', 'c1'], '"svc"', /got "svc"/],
  ])('exits 2 with one line on stderr for %s', async (_name, args, stdin, message) => {
    const t = io(stdin);
    expect(await runCli(['tags', ...args], t)).toBe(2);
    expect(t.out()).toBe('');
    expect(t.err()).toMatch(message);
    expect(t.err().endsWith('\n')).toBe(true);
    expect(t.err().split('\n')).toHaveLength(2);
  });

  it('prints its usage for --help', async () => {
    const t = io();
    expect(await runCli(['tags', '--help'], t)).toBe(0);
    expect(t.out()).toMatch(/^Usage: aks-panorama-sync tags --cluster NAME/);
  });
});

describe('tags command: label filters, namespace tags, budget', () => {
  const labels = {
    app: 'web',
    tier: 'front',
    'helm.sh/chart': 'web-1.2.3',
    'app.kubernetes.io/version': '1.2.3',
  };
  const input = () => JSON.stringify([svc('web', '10.0.0.1', labels)]);
  async function tagsOf(...args: string[]) {
    const t = io(input());
    const code = await runCli(['tags', '--cluster', 'c1', ...args], t);
    return { code, json: JSON.parse(t.out() || '{}') as Record<string, string[]>, err: t.err() };
  }

  it('tags every label when no filter is given', async () => {
    const { json } = await tagsOf();
    expect(json['10.0.0.1']).toEqual([
      'aks.c1.svc.app.kubernetes.io/version.1.2.3',
      'aks.c1.svc.app.web',
      'aks.c1.svc.helm.sh/chart.web-1.2.3',
      'aks.c1.svc.tier.front',
      'aks.c1.web',
    ]);
  });

  it.each<[string[], string[]]>([
    [
      ['--include-label', 'app', '--include-label', 'tier'],
      ['aks.c1.svc.app.web', 'aks.c1.svc.tier.front', 'aks.c1.web'],
    ],
    [
      ['--exclude-label', 'helm.sh/chart', '--exclude-label=app.kubernetes.io/version'],
      ['aks.c1.svc.app.web', 'aks.c1.svc.tier.front', 'aks.c1.web'],
    ],
    [
      ['--include-label', 'app*', '--exclude-label', '*/version'],
      ['aks.c1.svc.app.web', 'aks.c1.web'],
    ],
  ])('filters label keys with %j', async (args, expected) => {
    const { code, json, err } = await tagsOf(...args);
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(json['10.0.0.1']).toEqual(expected);
  });

  it('matches selectors on labels the filter leaves out', async () => {
    const { json } = await tagsOf('--include-label', 'app', '--selector', 'charted=helm.sh/chart');
    expect(json['10.0.0.1']).toEqual(['aks.c1.svc.app.web', 'aks.c1.web', 'aks_charted.c1.web']);
  });

  it('adds the namespace tag with --namespace-tags', async () => {
    const { json } = await tagsOf('--namespace-tags', '--include-label', 'app');
    expect(json['10.0.0.1']).toEqual(['aks.c1.ns.shop', 'aks.c1.svc.app.web', 'aks.c1.web']);
  });

  it.each(['--max-tags', '--max-tags-per-ip'])(
    'cuts an IP to %s with one warning line and exit code 0',
    async (flag) => {
      const { code, json, err } = await tagsOf(flag, '2', '--selector', 'web=app=web');
      expect(code).toBe(0);
      expect(json['10.0.0.1']).toEqual(['aks.c1.web', 'aks_web.c1.web']);
      expect(err).toMatch(
        /^warning: IP 10\.0\.0\.1 of Service "shop\/web" in cluster c1 has 6 tags, more than its budget of 2; not registered: "aks\.c1\.svc\.app\.kubernetes\.io\/version\.1\.2\.3", /,
      );
      expect(err.split('\n')).toHaveLength(2);
    },
  );

  it('keeps 32 tags per IP by default', async () => {
    const many = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v']),
    );
    const t = io(JSON.stringify([svc('big', '10.0.0.1', many)]));
    expect(await runCli(['tags', '--cluster', 'c1'], t)).toBe(0);
    expect(JSON.parse(t.out())['10.0.0.1']).toHaveLength(32);
    expect(t.err()).toMatch(/^warning: IP 10\.0\.0\.1 .* has 41 tags, more than its budget of 32;/);
  });

  it('tags with > and < selectors and warns about a selector that matches nothing', async () => {
    const t = io(
      JSON.stringify([svc('a', '10.0.0.1', { replicas: '3' }), svc('b', '10.0.0.2', { replicas: '12' })]),
    );
    const code = await runCli(
      ['tags', '--cluster', 'c1', '--selector', 'big=replicas>10', '--selector', 'huge=replicas>100'],
      t,
    );
    expect(code).toBe(0);
    expect(JSON.parse(t.out())['10.0.0.2']).toContain('aks_big.c1.b');
    expect(t.err()).toBe(
      `warning: selector "huge" ("replicas>100") in cluster c1 matches none of the 2 Services it was checked against, so no aks_huge.c1.* tag is produced; check its keys and values against the Services' labels\n`,
    );
  });

  it('warns when one Service tag stands for Services of several namespaces', async () => {
    const a = svc('web', '10.0.0.1');
    const b = {
      ...svc('web', '10.0.0.2'),
      metadata: { ...svc('web', '10.0.0.2').metadata, namespace: 'ops' },
    };
    const t = io(JSON.stringify([a, b]));
    expect(await runCli(['tags', '--cluster', 'c1'], t)).toBe(0);
    expect(t.err()).toMatch(
      /^warning: tag "aks\.c1\.web" in cluster c1 stands for the Services "web" of 2 namespaces \("ops", "shop"\).*enable namespaceTags/,
    );
  });

  it.each<[string, string[], RegExp]>([
    [
      'an empty --include-label',
      ['--include-label', ''],
      /invalid --include-label "": it is empty; expected a glob/,
    ],
    [
      'a --exclude-label with a space',
      ['--exclude-label', 'a b'],
      /invalid --exclude-label "a b": it contains " ", which no label key holds/,
    ],
    ['--include-label without a value', ['--include-label'], /--include-label needs a value/],
    ['a budget of 0', ['--max-tags-per-ip', '0'], /--max-tags expects an integer from 1 to 32, got "0"/],
    ['a budget of 33', ['--max-tags=33'], /--max-tags expects an integer from 1 to 32, got "33"/],
    ['a budget that is not a number', ['--max-tags-per-ip', '8x'], /got "8x"/],
    [
      'a budget given twice',
      ['--max-tags-per-ip', '8', '--max-tags-per-ip', '9'],
      /--max-tags-per-ip is given twice/,
    ],
    ['--namespace-tags with a value', ['--namespace-tags=yes'], /unknown option "--namespace-tags=yes"/],
    [
      'an empty selector',
      ['--selector', 'all='],
      /invalid --selector all: the selector "" is empty and would match every Service/,
    ],
    ['a blank selector', ['--selector', 'all= '], /the selector " " is empty/],
    [
      'a > selector without an integer',
      ['--selector', 'big=replicas>many'],
      /must be a 64-bit decimal integer, found "many"/,
    ],
  ])('exits 2 with one line for %s', async (_name, args, message) => {
    const t = io('[]');
    expect(await runCli(['tags', '--cluster', 'c1', ...args], t)).toBe(2);
    expect(t.out()).toBe('');
    expect(t.err()).toMatch(message);
    expect(t.err().split('\n')).toHaveLength(2);
  });

  it('says what each tag option does in --help', async () => {
    const t = io();
    expect(await runCli(['tags', '--help'], t)).toBe(0);
    const help = t.out();
    for (const option of ['--include-label GLOB', '--exclude-label GLOB', '--namespace-tags', '--max-tags N'])
      expect(help).toContain(option);
    expect(help).toContain('"*" matches any run of characters, "/" included');
    expect(help).toContain('Selectors match on every label, whether it is tagged or not.');
    expect(help).toContain('aks.<cluster>.ns.<namespace>');
    expect(help).toMatch(
      /keeps its Service tags, then namespace tags, then selector\s+tags, then label tags by key and value/,
    );
    expect(help).toContain('leave the exit code at 0');
  });
});
