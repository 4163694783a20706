import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  baseEnv,
  describeRun,
  exitWithin,
  isAlive,
  pollUntil,
  runCli,
  STACK_LINE,
  startDev,
  tempCwd,
} from '../../helpers/cliKit.js';

const DEMO_FILE = '.aks-panorama-sync-demo.json';

/**
 * Issue #16: the demo can be driven. While `dev` runs, the CLI in the same directory reaches it
 * through the settings file `dev` writes, and `demo add|label|delete` change the simulated cluster
 * through its Kubernetes API; the tags follow on the simulated firewalls.
 */
describe('a drivable demo: the CLI and "demo" against a running "dev"', () => {
  const cwd = tempCwd();
  const leftovers: number[] = [];
  afterAll(() => {
    for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    cwd.remove();
  });

  it('demo add → tags on a firewall by hostname, label and delete → tags go; the file is 0600 and removed on exit', async () => {
    const dev = startDev(cwd.dir, leftovers);
    const { child, output } = dev;
    const file = join(cwd.dir, DEMO_FILE);
    const env = baseEnv();
    try {
      const azurite = await pollUntil('Azurite pid', () => /Azurite started\s+pid=(\d+)/.exec(dev.stderr()), {
        timeoutMs: 60_000,
      });
      leftovers.push(Number(azurite[1]));
      await pollUntil(
        'the first tags on the firewalls',
        () => dev.stdout().includes('Tags on the firewalls now:'),
        {
          timeoutMs: 60_000,
        },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${output()}`);
      });
      // The banner says how to drive the demo and shows the demo-only credentials.
      expect(dev.stdout()).toContain(`the CLI reads ${DEMO_FILE}`);
      expect(dev.stdout()).toMatch(/aps demo add shop\/orders --ip 10\.240\.0\.30/);
      expect(dev.stdout()).toMatch(/Status page: http:\/\/127\.0\.0\.1:\d+\/api\/status\?code=/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const demo = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; Values: Record<string, string> };
      expect(demo.pid).toBe(child.pid);
      expect(Object.keys(demo.Values).sort()).toEqual([
        'AUDIT_INTERVAL_MINUTES',
        'AzureWebJobsStorage',
        'CLUSTERS',
        'PANORAMA_API_KEY',
        'PANORAMA_URL',
        'RECONCILE_SCHEDULE',
      ]);
      const token = (JSON.parse(demo.Values.CLUSTERS ?? '[]') as { auth: { token: string } }[])[0]?.auth
        .token;
      const secrets = [demo.Values.PANORAMA_API_KEY, token];
      expect(dev.stdout()).toContain(`bearer token ${token}`);
      const aps = (...args: string[]) => runCli(args, { env, cwd: cwd.dir, secrets });

      const added = await aps(
        'demo',
        'add',
        'shop/orders',
        '--ip',
        '10.240.0.30',
        '--label',
        'app=web',
        '--label',
        'tier=front',
      );
      expect(added.code, describeRun(added)).toBe(0);
      expect(added.stdout).toContain(
        'created Service shop/orders (internal load balancer, IP 10.240.0.30, labels app=web,tier=front)',
      );
      expect(added.stdout).toContain('posted a Microsoft.Network/loadBalancers/write event');

      const held = (hostname: string) => async () => {
        const r = await aps('status', '--target', hostname);
        expect(r.code, describeRun(r)).toBe(0);
        return r.stdout;
      };
      const second = await pollUntil(
        'orders on the second firewall',
        async () => {
          const text = await held('VMSERIES-321')();
          return /^ {2}10\.240\.0\.30 {2}owned: .*aks_web\.aks-demo\.orders/m.test(text) && text;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      expect(second).toMatch(/^target vmseries-321 \(007051000654321\): /);

      const tags = await aps('tags', '--cluster', 'aks-demo', '--live', '--verbose');
      expect(tags.code, describeRun(tags)).toBe(0);
      expect(JSON.parse(tags.stdout)['10.240.0.30']).toContain('aks_web.aks-demo.orders');
      expect(tags.stderr).toMatch(/^note: skipped \d+ of \d+ Services: /m);
      expect(tags.stderr).toContain(
        'note: skipped kube-system/kube-dns: not a LoadBalancer (type ClusterIP)',
      );
      expect(tags.stderr).toContain('note: skipped public/frontdoor: public load balancer');

      const relabelled = await aps('demo', 'label', 'shop/orders', 'tier=edge');
      expect(relabelled.code, describeRun(relabelled)).toBe(0);
      await pollUntil(
        'the selector tag of orders to go',
        async () => {
          const line = (await held('vmseries-456')()).split('\n').find((l) => l.includes('10.240.0.30'));
          return line?.includes('aks.aks-demo.svc.tier.edge') && !line.includes('aks_web.aks-demo.orders');
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );

      const deleted = await aps('demo', 'delete', 'shop/orders');
      expect(deleted.code, describeRun(deleted)).toBe(0);
      await pollUntil(
        '10.240.0.30 to leave the first firewall',
        async () => !(await held('vmseries-456')()).includes('10.240.0.30'),
        {
          timeoutMs: 30_000,
          intervalMs: 500,
        },
      );
      const again = await aps('demo', 'delete', 'shop/orders');
      expect(again.code, describeRun(again)).toBe(1);
      expect(again.stderr).toContain(
        'the simulated cluster refused: services "orders" not found (404 NotFound)',
      );

      child.kill('SIGINT');
      const exit = await exitWithin(child, 30_000);
      expect(exit, `did not exit within 30 s after SIGINT\n${output()}`).toEqual({ code: 0, signal: null });
      expect(existsSync(file)).toBe(false);
      expect(dev.stderr()).not.toMatch(STACK_LINE);
      const gone = await aps('demo', 'list');
      expect(gone.code, describeRun(gone)).toBe(2);
      expect(gone.stderr).toContain('no demo is running here');
      const status = await aps('status');
      expect(status.code).toBe(2);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 240_000);
});
