import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DagReport } from '../../../shared/pipeline/evaluateDag.js';
import type { IpExplanation } from '../../../shared/pipeline/explainIp.js';
import {
  baseEnv,
  type CliResult,
  describeRun,
  requireBuild,
  runCli,
  STACK_LINE,
  worldSecrets,
  worldSettings,
} from '../../helpers/cliKit.js';
import {
  internalService,
  type PipelineWorld,
  startPipelineWorld,
  type WorldCluster,
} from '../../helpers/pipelineWorld.js';

/**
 * `dag` and `explain` run as a user runs them (the compiled bin in a child process) against
 * Azurite and the simulators, after a `reconcile` has committed state and pushed it.
 */

const FW1 = '007051000000001';
const FW2 = '007051000000002';
const CLUSTERS: WorldCluster[] = [
  {
    name: 'aks-a',
    deviceGroups: ['dg-spoke'],
    labelSelectors: [
      { name: 'web', selector: 'app=web' },
      { name: 'db', selector: 'app=db' },
    ],
    services: [
      internalService('shop', 'checkout', ['10.1.0.4'], { app: 'web' }),
      internalService('shop', 'search', ['10.1.0.9'], { app: 'web' }),
    ],
  },
  { name: 'aks-b', services: [internalService('ops', 'grafana', ['10.2.0.4'], { team: 'ops' })] },
];
const A_CHECKOUT = ['aks.aks-a.checkout', 'aks.aks-a.svc.app.web', 'aks_web.aks-a.checkout'];

describe('dag and explain through the compiled command line', { timeout: 180_000 }, () => {
  let world: PipelineWorld;
  let env: Record<string, string>;
  let secrets: string[];
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, { env, secrets, timeoutMs: 150_000 });

  beforeAll(async () => {
    requireBuild();
    world = await startPipelineWorld({
      clusters: CLUSTERS,
      deviceGroups: { 'dg-spoke': [{ serial: FW1 }, { serial: FW2 }] },
    });
    env = baseEnv(worldSettings(world, CLUSTERS));
    secrets = worldSecrets(world);
    const r = await cli('reconcile');
    expect(r.code, describeRun(r)).toBe(0);
  });
  afterAll(async () => world?.stop());

  it('dag lists the IPs and Services a match selects in the last-known state', async () => {
    const r = await cli('dag', "'aks.aks-a.svc.app.web' and 'aks_web.aks-a.checkout'");
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toBe(
      "1 IP matches 'aks.aks-a.svc.app.web' and 'aks_web.aks-a.checkout' in the last-known state of aks-a, aks-b:\n  10.1.0.4  aks-a/checkout\n",
    );
    expect(r.stderr).toBe('');

    const json = await cli('dag', "'aks.aks-a.svc.app.web' OR 'aks.aks-b.grafana'", '--json');
    expect(json.code, describeRun(json)).toBe(0);
    const report = JSON.parse(json.stdout) as DagReport;
    expect(report.expression).toBe("'aks.aks-a.svc.app.web' or 'aks.aks-b.grafana'");
    expect(report.members.map((m) => [m.ip, m.services])).toEqual([
      ['10.1.0.4', ['aks-a/checkout']],
      ['10.1.0.9', ['aks-a/search']],
      ['10.2.0.4', ['aks-b/grafana']],
    ]);
  });

  it('dag with no match exits 0 and warns about a tag no IP carries', async () => {
    const r = await cli('dag', "'aks.aks-a.chekout'");
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toBe("0 IPs match 'aks.aks-a.chekout' in the last-known state of aks-a, aks-b\n");
    expect(r.stderr).toBe('warning: tag "aks.aks-a.chekout" is on no IP of the last-known state (a typo?)\n');
  });

  it("dag --target evaluates a firewall's read-back, tags of people included", async () => {
    world.panorama.seedTags([{ ip: '10.1.0.4', tags: ['people.pci'] }], FW1);
    const r = await cli(
      'dag',
      "'people.pci' and ('aks.aks-a.checkout' or 'aks.aks-a.search')",
      '--target',
      FW1,
    );
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain(
      `1 IP matches 'people.pci' and ('aks.aks-a.checkout' or 'aks.aks-a.search') in the read-back of target ${FW1}:`,
    );
    expect(r.stdout).toContain('  10.1.0.4  aks-a/checkout');
    const other = await cli('dag', "'people.pci'", `--target=${FW2}`);
    expect(other.code, describeRun(other)).toBe(0);
    expect(other.stdout).toMatch(/^0 IPs match 'people.pci' in the read-back of target/);
    const byName = await cli('dag', "'people.pci'", '--target', `FW-${FW1}`);
    expect(byName.code, describeRun(byName)).toBe(0);
    expect(byName.stdout).toContain(`1 IP matches 'people.pci' in the read-back of target ${FW1}:`);
    const unknown = await cli('dag', "'people.pci'", '--target', 'fw-nowhere');
    expect(unknown.code, describeRun(unknown)).toBe(2);
    expect(unknown.stderr).toContain('is neither a target id');
    expect(unknown.stderr).toContain(`${FW1} (fw-${FW1})`);
  });

  it('a bad expression exits 2 with one line that names the position, reading nothing', async () => {
    for (const [expression, position] of [
      ["'a' and 'b' or 'c'", 13],
      ["'a' and b", 9],
      ["('a'", 5],
    ] as const) {
      const r = await cli('dag', expression);
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(`^aks-panorama-sync dag: invalid DAG match at position ${position}: [^\\n]*\\n$`),
      );
      expect(r.stdout).toBe('');
    }
    const missing = await cli('dag');
    expect(missing.code, describeRun(missing)).toBe(2);
    expect(missing.stderr).toContain('missing EXPRESSION');
  });

  it('explain says which Service, labels and selectors give each tag and what each firewall holds', async () => {
    world.panorama.seedTags([{ ip: '10.1.0.4', tags: ['aks.aks-a.gone'] }], FW2);
    const r = await cli('explain', '10.1.0.4');
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^IP 10\.1\.0\.4 in cluster aks-a \(generation 1\)$/m);
    expect(r.stdout).toContain(`  committed tags (3): ${A_CHECKOUT.join(', ')}`);
    expect(r.stdout).toContain('  Service shop/checkout');
    expect(r.stdout).toContain('      app=web → aks.aks-a.svc.app.web');
    expect(r.stdout).toContain('      web (app=web): matched → aks_web.aks-a.checkout');
    expect(r.stdout).toContain('      db (app=db): not matched: app=db does not hold');
    expect(r.stdout).toContain(`  tags wanted now (3, budget 32): ${A_CHECKOUT.join(', ')}`);
    expect(r.stdout).toContain(`  target ${FW1}: holds all 3 committed tags`);
    expect(r.stdout).toContain(`  target ${FW2}: stale aks.aks-a.gone`);

    const json = await cli('explain', '10.1.0.4', '--json');
    const e = JSON.parse(json.stdout) as IpExplanation;
    expect(e.clusters[0]?.targets.map((t) => [t.target, t.missing, t.stale])).toEqual([
      [FW1, [], []],
      [FW2, [], ['aks.aks-a.gone']],
    ]);
  });

  it('explain of an unknown IP exits 1 with one line; of a non-IP exits 2', async () => {
    const r = await cli('explain', '10.9.9.9');
    expect(r.code, describeRun(r)).toBe(1);
    expect(r.stderr).toBe(
      'aks-panorama-sync explain: IP 10.9.9.9 is in the last-known state of no configured cluster (aks-a, aks-b)\n',
    );
    expect(r.stdout).toBe('');
    const bad = await cli('explain', 'not-an-ip');
    expect(bad.code, describeRun(bad)).toBe(2);
    expect(bad.stderr).not.toMatch(STACK_LINE);
  });

  it('dag --help and explain --help exit 0', async () => {
    for (const name of ['dag', 'explain']) {
      const r = await cli(name, '--help');
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: aks-panorama-sync ${name} `));
    }
  });
});
