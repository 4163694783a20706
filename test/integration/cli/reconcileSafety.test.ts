import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../../shared/pipeline/collectStatus.js';
import {
  baseEnv,
  type CliResult,
  describeRun,
  requireBuild,
  runCli,
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
 * What `reconcile` says when the guard holds, the device refuses or the dry run finds drift: the
 * compiled bin in a child process against Azurite and the simulators. The tests build on each
 * other's state (one world), in order.
 */

const FW = '007051000000031';
const DG = 'dg-safety';
/** How summaries name the firewall: hostname, serial, device group. */
const NAMED = `fw-${FW} (${FW}), device group ${DG}`;
const CLUSTER: WorldCluster = {
  name: 'aks-s',
  deviceGroups: [DG],
  services: Array.from({ length: 24 }, (_, i) => internalService('shop', `svc-${i}`, [`10.31.0.${i + 1}`])),
};

describe('reconcile: dry run, removal guard and rejected entries through the command line', {
  timeout: 180_000,
}, () => {
  let world: PipelineWorld;
  let env: Record<string, string>;
  let secrets: string[];
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, { env, secrets, timeoutMs: 150_000 });
  const kube = () => {
    const sim = world.kube.get(CLUSTER.name);
    if (!sim) throw new Error('no simulator');
    return sim;
  };
  const userIdCalls = () => world.panorama.calls.filter((c) => c.type === 'user-id');

  beforeAll(async () => {
    requireBuild();
    world = await startPipelineWorld({ clusters: [CLUSTER], deviceGroups: { [DG]: [{ serial: FW }] } });
    env = baseEnv(worldSettings(world, [CLUSTER]));
    secrets = worldSecrets(world);
    const first = await cli('reconcile');
    expect(first.code, describeRun(first)).toBe(0);
  });
  afterAll(async () => world?.stop());

  it('--dry-run after a firewall reboot shows what the audit would repair, and repairs nothing', async () => {
    // prepare
    world.panorama.reboot(FW);
    world.panorama.resetCalls();

    // act
    const r = await cli('reconcile', '--dry-run');

    // assess
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain('cluster aks-s: 0 IPs change (+0 / -0 tags)');
    expect(r.stdout).toContain(`audit ${NAMED}: dry run, 0 IPs on device, would repair +24/-0`);
    expect(userIdCalls()).toEqual([]);
    expect(world.panorama.registered(FW).size).toBe(0);

    // act: the real run repairs exactly that
    const real = await cli('reconcile');

    // assess
    expect(real.code, describeRun(real)).toBe(0);
    expect(real.stdout).toContain(`audit ${NAMED}: audited, 0 IPs on device, repaired +24/-0`);
    expect(world.panorama.registered(FW).size).toBe(24);
  });

  it('--dry-run rejects an unknown device group as the real run does (exit 1, naming it)', async () => {
    // prepare
    const typo = baseEnv(worldSettings(world, [{ ...CLUSTER, deviceGroups: ['dg-saftey'] }]));

    // act
    const r = await runCli(['reconcile', '--dry-run', '--no-audit'], {
      env: typo,
      secrets,
      timeoutMs: 60_000,
    });

    // assess
    expect(r.code, describeRun(r)).toBe(1);
    expect(r.stdout).toMatch(/cluster aks-s: failed: .*dg-saftey/);
  });

  it('a mass removal is held: exit 1, HELD in the summary and in status; --allow-removals applies it once', async () => {
    // prepare: the cluster's Services disappear but one
    for (let i = 1; i < 24; i++) kube().deleteService('shop', `svc-${i}`);

    // act
    const dry = await cli('reconcile', '--dry-run', '--no-audit');
    const held = await cli('reconcile');
    const status = await cli('status', '--json');

    // assess
    expect(dry.code, describeRun(dry)).toBe(0);
    expect(dry.stdout).toMatch(/would be HELD: removal guard: 23 of 24/);
    expect(held.code, describeRun(held)).toBe(1);
    expect(held.stdout).toMatch(
      /cluster aks-s: held .*\n {2}HELD: removal guard: 23 of 24 .*reconcile --cluster aks-s --allow-removals/,
    );
    expect(world.panorama.registered(FW).size).toBe(24);
    const report = JSON.parse(status.stdout) as StatusReport;
    expect(report.clusters[0]).toMatchObject({ lastRecomputeResult: 'held', heldRemovals: 23 });
    const check = await cli('status', '--check');
    expect(check.code, describeRun(check)).toBe(1);
    expect(check.stderr).toContain(
      'needs attention: cluster aks-s: 23 tag removals held by the removal guard',
    );

    // act: approval needs the cluster named
    const unnamed = await cli('reconcile', '--allow-removals');
    const approved = await cli('reconcile', '--cluster', 'aks-s', '--allow-removals');

    // assess
    expect(unnamed.code, describeRun(unnamed)).toBe(2);
    expect(unnamed.stderr).toMatch(/--allow-removals .*--cluster NAME/);
    expect(approved.code, describeRun(approved)).toBe(0);
    expect(approved.stdout).toMatch(/cluster aks-s: changed .*-23 tags/);
    expect(world.panorama.registered(FW).size).toBe(1);
    expect((await cli('reconcile')).code).toBe(0);
    const clear = await cli('status', '--check');
    expect(clear.code, describeRun(clear)).toBe(0);
    expect(clear.stderr).not.toContain('needs attention');
  });

  it('an entry the device refuses is never counted as done: exit 1 until it is accepted', async () => {
    // prepare: after a reboot, someone else's 32 tags fill the IP; ours would be the 33rd
    world.panorama.reboot(FW);
    world.panorama.seedTags(
      new Map([['10.31.0.1', Array.from({ length: 32 }, (_, i) => `owner.tag-${i}`)]]),
      FW,
    );

    // act
    const r = await cli('reconcile');

    // assess
    expect(r.code, describeRun(r)).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `audit fw-${FW} \\(${FW}\\), device group ${DG}: audited, 0 IPs on device, repaired \\+0/-0`,
      ),
    );
    expect(r.stdout).toMatch(/1 entries REJECTED by the device: 10\.31\.0\.1 \[.*\]: .*32 tags/);
    const report = JSON.parse((await cli('status', '--json')).stdout) as StatusReport;
    expect(report.audits.find((a) => a.target === FW)?.lastError).toMatch(/1 entries rejected: 10\.31\.0\.1/);
    expect((await cli('reconcile')).code).toBe(1);
    expect((await cli('status', '--check')).code).toBe(1);
    const holds = await cli('status', '--target', FW);
    expect(holds.code, describeRun(holds)).toBe(0);
    expect(holds.stdout).toMatch(/^target fw-\d+ \(\d+\): 1 registered IPs, 0 owned tags, 32 foreign tags$/m);
    expect(holds.stdout).toMatch(/^ {2}10\.31\.0\.1 {2}owned: - {2}foreign: owner\.tag-0 /m);
    expect((await cli('status', '--target', 'fw-east')).code).toBe(2);

    // act: the other tags go; the next pass is accepted
    world.panorama.reboot(FW);
    const accepted = await cli('reconcile');

    // assess
    expect(accepted.code, describeRun(accepted)).toBe(0);
    expect(accepted.stdout).toContain(`audit ${NAMED}: audited, 0 IPs on device, repaired +1/-0`);
    expect(world.panorama.registered(FW).get('10.31.0.1')).toEqual(['aks.aks-s.svc-0']);
  });
});
