import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CliIo } from '../../../cli/CliIo.js';
import { runCli } from '../../../cli/runCli.js';
import { InputError } from '../../../shared/errors.js';
import type { KubeService } from '../../../shared/kubernetes/KubeService.js';

const live = vi.hoisted(() => ({
  calls: [] as string[],
  services: [] as unknown[],
  error: undefined as Error | undefined,
}));

vi.mock('../../../cli/liveServices.js', () => ({
  loadLiveServices: async (clusterName: string): Promise<KubeService[]> => {
    live.calls.push(clusterName);
    if (live.error) throw live.error;
    return live.services as KubeService[];
  },
}));

const CLUSTERS = JSON.stringify([
  {
    name: 'aks-prod-1',
    server: 'https://aks-prod-1.example',
    auth: { type: 'token', token: 'not-a-real-token' },
    labelSelectors: [{ name: 'cfg', selector: 'app=web' }],
  },
]);

function io(env: Record<string, string> = {}): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdin: Readable.from([]),
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env,
    cwd: '/nonexistent-dir-for-tags-tests',
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

beforeEach(() => {
  live.calls = [];
  live.error = undefined;
  live.services = [
    {
      metadata: {
        name: 'web',
        namespace: 'shop',
        labels: { app: 'web' },
        annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' },
      },
      spec: { type: 'LoadBalancer' },
      status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } },
    },
  ];
});

describe('tags --live', () => {
  it('lists the cluster’s Services and applies its configured selectors', async () => {
    const t = io({ CLUSTERS });
    expect(await runCli(['tags', '--cluster', 'aks-prod-1', '--live'], t)).toBe(0);
    expect(live.calls).toEqual(['aks-prod-1']);
    expect(JSON.parse(t.out())).toEqual({
      '10.0.0.1': ['aks.aks-prod-1.svc.app.web', 'aks.aks-prod-1.web', 'aks_cfg.aks-prod-1.web'],
    });
  });

  it('uses the --selector flags instead of the configured selectors when given', async () => {
    const t = io({ CLUSTERS });
    expect(await runCli(['tags', '--cluster', 'aks-prod-1', '--live', '--selector', 'mine=app'], t)).toBe(0);
    expect(JSON.parse(t.out())).toEqual({
      '10.0.0.1': ['aks.aks-prod-1.svc.app.web', 'aks.aks-prod-1.web', 'aks_mine.aks-prod-1.web'],
    });
  });

  it('uses no selectors for a cluster that is not configured', async () => {
    const t = io({});
    expect(await runCli(['tags', '--cluster', 'other', '--live'], t)).toBe(0);
    expect(JSON.parse(t.out())).toEqual({ '10.0.0.1': ['aks.other.svc.app.web', 'aks.other.web'] });
  });

  it('exits 2 with one line when listing refuses the input', async () => {
    live.error = new InputError('cluster "x" is not configured');
    const t = io({});
    expect(await runCli(['tags', '--cluster', 'x', '--live'], t)).toBe(2);
    expect(t.err()).toMatch(/^aks-panorama-sync tags: cluster "x" is not configured/);
    expect(t.err().split('\n')).toHaveLength(2);
  });
});

describe('tags --live: the configured tag settings', () => {
  const labelled = () => {
    live.services = [
      {
        metadata: {
          name: 'web',
          namespace: 'shop',
          labels: { app: 'web', 'helm.sh/chart': 'web-1', tier: 'front' },
          annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' },
        },
        spec: { type: 'LoadBalancer' },
        status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } },
      },
    ];
  };
  const configured = (extra: Record<string, unknown>) =>
    JSON.stringify([
      {
        name: 'aks-prod-1',
        server: 'https://aks-prod-1.example',
        auth: { type: 'token', token: 'not-a-real-token' },
        ...extra,
      },
    ]);
  async function liveTags(env: Record<string, string>, ...args: string[]) {
    labelled();
    const t = io(env);
    expect(await runCli(['tags', '--cluster', 'aks-prod-1', '--live', ...args], t)).toBe(0);
    return { tags: (JSON.parse(t.out()) as Record<string, string[]>)['10.0.0.1'], err: t.err() };
  }

  it('applies the cluster’s labelTags, namespaceTags and maxTagsPerIp', async () => {
    const env = {
      CLUSTERS: configured({ labelTags: { exclude: ['helm.sh/*'] }, namespaceTags: true, maxTagsPerIp: 3 }),
    };
    const { tags, err } = await liveTags(env);
    expect(tags).toEqual(['aks.aks-prod-1.ns.shop', 'aks.aks-prod-1.svc.app.web', 'aks.aks-prod-1.web']);
    expect(err).toMatch(
      /^warning: IP 10\.0\.0\.1 .* budget of 3; not registered: "aks\.aks-prod-1\.svc\.tier\.front"/,
    );
  });

  it('lets --include-label/--exclude-label and --max-tags-per-ip replace the configured ones', async () => {
    const env = { CLUSTERS: configured({ labelTags: { include: ['app'] }, maxTagsPerIp: 2 }) };
    const { tags } = await liveTags(env, '--exclude-label', 'app', '--max-tags-per-ip', '32');
    expect(tags).toEqual([
      'aks.aks-prod-1.svc.helm.sh/chart.web-1',
      'aks.aks-prod-1.svc.tier.front',
      'aks.aks-prod-1.web',
    ]);
  });

  it('uses MAX_TAGS_PER_IP for a configured cluster without maxTagsPerIp and for one not configured', async () => {
    const fromSetting = await liveTags({ CLUSTERS: configured({}), MAX_TAGS_PER_IP: '2' });
    expect(fromSetting.tags).toEqual(['aks.aks-prod-1.svc.app.web', 'aks.aks-prod-1.web']);
    labelled();
    const t = io({ MAX_TAGS_PER_IP: '1' });
    expect(await runCli(['tags', '--cluster', 'other', '--live'], t)).toBe(0);
    expect(JSON.parse(t.out())).toEqual({ '10.0.0.1': ['aks.other.web'] });
  });
});
