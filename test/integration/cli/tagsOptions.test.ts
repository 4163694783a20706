import { beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, describeRun, requireBuild, runCli, STACK_LINE } from '../../helpers/cliKit.js';

/** The `tags` options of the README's command-line section, run as the compiled bin. */

const INTERNAL = 'service.beta.kubernetes.io/azure-load-balancer-internal';

function service(name: string, namespace: string, ip: string, labels: Record<string, string>) {
  return {
    kind: 'Service',
    metadata: { name, namespace, labels, annotations: { [INTERNAL]: 'true' } },
    spec: { type: 'LoadBalancer' },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}

const LIST = JSON.stringify({
  kind: 'List',
  items: [
    service('web', 'shop', '10.0.0.1', {
      app: 'web',
      replicas: '3',
      'helm.sh/chart': 'web-1.2.3',
      'app.kubernetes.io/version': '1.2.3',
    }),
    service('web', 'ops', '10.0.0.2', { app: 'web', replicas: '12' }),
  ],
});

describe('tags options', { timeout: 180_000 }, () => {
  beforeAll(() => requireBuild());

  it('filters labels, adds namespace tags, cuts to the budget and warns on stderr with exit 0', async () => {
    const r = await runCli(
      [
        'tags',
        '--cluster',
        'aks-prod-1',
        '--exclude-label',
        'helm.sh/chart',
        '--exclude-label',
        'app.kubernetes.io/version',
        '--namespace-tags',
        '--max-tags',
        '4',
        '--selector',
        'big=replicas>10',
      ],
      { env: baseEnv(), stdin: LIST },
    );
    expect(r.code, describeRun(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      '10.0.0.1': [
        'aks.aks-prod-1.ns.shop',
        'aks.aks-prod-1.svc.app.web',
        'aks.aks-prod-1.svc.replicas.3',
        'aks.aks-prod-1.web',
      ],
      '10.0.0.2': [
        'aks.aks-prod-1.ns.ops',
        'aks.aks-prod-1.svc.app.web',
        'aks.aks-prod-1.web',
        'aks_big.aks-prod-1.web',
      ],
    });
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('note: skipped 0 of 2 Services');
    expect(lines[0]).toMatch(
      /^warning: IP 10\.0\.0\.2 of Service "ops\/web" in cluster aks-prod-1 has 5 tags, more than its budget of 4; not registered: "aks\.aks-prod-1\.svc\.replicas\.12"/,
    );
    expect(lines[1]).toMatch(
      /^warning: tag "aks\.aks-prod-1\.web" in cluster aks-prod-1 stands for the Services "web" of 2 namespaces \("ops", "shop"\)/,
    );
  });

  it.each([
    [['--include-label', '']],
    [['--max-tags-per-ip', '40']],
    [['--selector', 'all=']],
    [['--selector', 'n=replicas<x']],
  ])('exits 2 with one line for %j', async (args) => {
    const r = await runCli(['tags', '--cluster', 'aks-prod-1', ...args], { env: baseEnv(), stdin: LIST });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^aks-panorama-sync tags: .*\(usage: tags --cluster NAME/);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('lists every tags option in the top-level usage and in tags --help', async () => {
    const top = await runCli(['--help'], { env: baseEnv() });
    const help = await runCli(['tags', '--help'], { env: baseEnv() });
    for (const option of [
      '--include-label GLOB',
      '--exclude-label GLOB',
      '--namespace-tags',
      '--max-tags N',
    ]) {
      expect(top.stdout).toContain(option);
      expect(help.stdout).toContain(option);
    }
  });
});
