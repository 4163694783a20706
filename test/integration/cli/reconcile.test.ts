import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../../shared/pipeline/collectStatus.js';
import { DELTA_QUEUE, poisonQueueName, RECOMPUTE_QUEUE } from '../../../shared/queues/queueNames.js';
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
  registeredObject,
  startPipelineWorld,
  type WorldCluster,
} from '../../helpers/pipelineWorld.js';

/**
 * `reconcile`, `replay-poison` and `status` run as a user runs them: the compiled bin in a child
 * process, configured by environment variables that point at Azurite and the simulators. The tests
 * of this file build on each other's state (one world), in order.
 */

const FW1 = '007051000000001';
const FW2 = '007051000000002';
/** How summaries and `status` name a firewall of `dg-spoke` (a regular expression): hostname, serial, device group. */
const named = (serial: string) => `fw-${serial} \\(${serial}\\), device group dg-spoke`;
const CLUSTERS: WorldCluster[] = [
  {
    name: 'aks-a',
    deviceGroups: ['dg-spoke'],
    labelSelectors: [{ name: 'web', selector: 'app=web' }],
    services: [internalService('shop', 'checkout', ['10.1.0.4'], { app: 'web' })],
  },
  { name: 'aks-b', services: [internalService('ops', 'grafana', ['10.2.0.4'], { team: 'ops' })] },
];

const A_CHECKOUT = ['aks.aks-a.checkout', 'aks.aks-a.svc.app.web', 'aks_web.aks-a.checkout'];
const B_GRAFANA = ['aks.aks-b.grafana', 'aks.aks-b.svc.team.ops'];

describe('reconcile / replay-poison / status through the compiled command line', { timeout: 180_000 }, () => {
  let world: PipelineWorld;
  let env: Record<string, string>;
  let secrets: string[];

  const cli = (...args: string[]): Promise<CliResult> => runCli(args, { env, secrets, timeoutMs: 150_000 });
  const userIdCalls = () => world.panorama.calls.filter((c) => c.type === 'user-id');
  const status = async (): Promise<StatusReport> => {
    const r = await cli('status', '--json');
    expect(r.code, describeRun(r)).toBe(0);
    return JSON.parse(r.stdout) as StatusReport;
  };
  const kube = (name: string) => {
    const sim = world.kube.get(name);
    if (!sim) throw new Error(`no simulator for ${name}`);
    return sim;
  };

  beforeAll(async () => {
    requireBuild();
    world = await startPipelineWorld({
      clusters: CLUSTERS,
      deviceGroups: { 'dg-spoke': [{ serial: FW1 }, { serial: FW2 }] },
    });
    env = baseEnv(worldSettings(world, CLUSTERS));
    secrets = worldSecrets(world);
  });
  afterAll(async () => world?.stop());
  beforeEach(() => {
    world.panorama.clearFaults();
    world.panorama.resetCalls();
  });

  it('--dry-run prints the diff and changes nothing (no user-id call, no state, no message)', async () => {
    const r = await cli('reconcile', '--dry-run');
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain('cluster aks-a: 1 IPs change (+3 / -0 tags)');
    for (const tag of A_CHECKOUT) expect(r.stdout).toContain(`  + 10.1.0.4 ${tag}`);
    expect(r.stdout).toContain('cluster aks-b: 1 IPs change (+2 / -0 tags)');
    for (const tag of B_GRAFANA) expect(r.stdout).toContain(`  + 10.2.0.4 ${tag}`);

    expect(userIdCalls()).toEqual([]);
    expect(world.panorama.registered(FW1).size).toBe(0);
    expect(world.panorama.registered().size).toBe(0);
    for (const c of ['aks-a', 'aks-b']) {
      expect((await world.deps.clusterState.readIpTags(c)).size).toBe(0);
      expect((await world.deps.clusterState.getHead(c))?.generation ?? 0).toBe(0);
    }
    expect(await world.deps.queues.depth(DELTA_QUEUE)).toBe(0);
    expect(await world.deps.queues.depth(RECOMPUTE_QUEUE)).toBe(0);
  });

  it('--dry-run --json gives the same diff as data', async () => {
    const r = await cli('reconcile', '--dry-run', '--json');
    expect(r.code, describeRun(r)).toBe(0);
    const diff = JSON.parse(r.stdout) as { cluster: string; deltas: { ip: string; register: string[] }[] }[];
    expect(diff.find((d) => d.cluster === 'aks-a')?.deltas).toEqual([
      { ip: '10.1.0.4', register: A_CHECKOUT, unregister: [] },
    ]);
    expect(userIdCalls()).toEqual([]);
  });

  it('--cluster with an unknown name exits 2 and lists the configured names, changing nothing', async () => {
    const r = await cli('reconcile', '--cluster', 'aks-nope');
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toContain('unknown cluster "aks-nope"');
    expect(r.stderr).toContain('aks-a, aks-b');
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout).toBe('');
    expect(userIdCalls()).toEqual([]);
    expect((await world.deps.clusterState.readIpTags('aks-a')).size).toBe(0);
  });

  it('a full pass registers every tag on every target, prints a summary and exits 0', async () => {
    const r = await cli('reconcile');
    expect(r.code, describeRun(r)).toBe(0);
    expect(registeredObject(world.panorama, FW1)).toEqual({ '10.1.0.4': A_CHECKOUT });
    expect(registeredObject(world.panorama, FW2)).toEqual({ '10.1.0.4': A_CHECKOUT });
    expect(registeredObject(world.panorama)).toEqual({ '10.2.0.4': B_GRAFANA });

    expect(r.stdout).toMatch(
      /cluster aks-a: changed \(generation 1\), 1 IPs, \+3\/-0 tags, 2 messages to 2 targets/,
    );
    expect(r.stdout).toMatch(
      /cluster aks-b: changed \(generation 1\), 1 IPs, \+2\/-0 tags, 1 messages to 1 targets/,
    );
    expect(r.stdout).toMatch(
      /pushes: 3 messages, \+8\/-0 tags in \d+ Panorama calls; 0 entries rejected, 0 retries, 0 poisoned, 0 left queued/,
    );
    expect(r.stdout).toMatch(new RegExp(`audit ${named(FW1)}: audited`));
    expect(r.stdout).toMatch(new RegExp(`^  target ${named(FW2)}$`, 'm'));
    expect(r.stdout).toMatch(/audit panorama: audited/);
    expect(await world.deps.queues.depth(DELTA_QUEUE)).toBe(0);
  });

  it('a second pass over unchanged clusters sends nothing to Panorama and exits 0', async () => {
    const r = await cli('reconcile');
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/cluster aks-a: unchanged/);
    expect(r.stdout).toMatch(/cluster aks-b: unchanged/);
    expect(r.stdout).toContain('pushes: 0 messages');
    expect(userIdCalls()).toEqual([]);
  });

  it('--cluster NAME (any case) reconciles only that cluster', async () => {
    kube('aks-a').addService(internalService('shop', 'cart', ['10.1.0.5']));
    kube('aks-b').addService(internalService('ops', 'loki', ['10.2.0.5']));
    const r = await cli('reconcile', '--cluster', 'AKS-B');
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/cluster aks-b: changed/);
    expect(r.stdout).not.toMatch(/cluster aks-a/);
    expect(registeredObject(world.panorama)['10.2.0.5']).toEqual(['aks.aks-b.loki']);
    expect(world.panorama.registered(FW1).has('10.1.0.5')).toBe(false);
    expect((await world.deps.clusterState.readIpTags('aks-a')).has('10.1.0.5')).toBe(false);

    const all = await cli('reconcile');
    expect(all.code, describeRun(all)).toBe(0);
    expect(registeredObject(world.panorama, FW1)['10.1.0.5']).toEqual(['aks.aks-a.cart']);
  });

  it('Panorama answering 503 to pushes: exit 1, deltas poisoned (not lost); replay-poison + reconcile converge', async () => {
    kube('aks-a').addService(internalService('shop', 'search', ['10.1.0.9'], { app: 'web' }));
    world.panorama.failNext('http-503', { type: 'user-id', count: 100_000 });

    const down = await cli('reconcile');
    expect(down.code, describeRun(down)).toBe(1);
    expect(down.stdout).toMatch(
      /cluster aks-a: changed \(generation \d+\), 3 IPs, \+3\/-0 tags, 2 messages to 2 targets/,
    );
    expect(down.stdout).toMatch(/2 poisoned, 0 left queued/);
    // Which targets failed, how often, and what comes next.
    for (const fw of [FW1, FW2]) {
      expect(down.stdout).toMatch(
        new RegExp(
          `^ {2}push aks-a/${fw}: \\d+ failed attempts, 1 poisoned \\(replay-poison brings them back\\): .*503`,
          'm',
        ),
      );
    }
    expect(down.stderr).not.toMatch(STACK_LINE);
    expect(world.panorama.registered(FW1).has('10.1.0.9')).toBe(false);
    expect(world.panorama.registered(FW2).has('10.1.0.9')).toBe(false);
    // The state moved on (the deltas were enqueued first), and the deltas wait in the poison queue.
    expect((await world.deps.clusterState.readIpTags('aks-a')).get('10.1.0.9')).toEqual([
      'aks.aks-a.search',
      'aks.aks-a.svc.app.web',
      'aks_web.aks-a.search',
    ]);
    expect(await world.deps.queues.depth(poisonQueueName(DELTA_QUEUE))).toBe(2);
    expect(await world.deps.queues.depth(DELTA_QUEUE)).toBe(0);

    // status says how many, for which cluster and targets, and the last error.
    const report = await status();
    const depth = Object.fromEntries(report.queues.map((q) => [q.name, q.depth]));
    expect(depth[poisonQueueName(DELTA_QUEUE)]).toBe(2);
    const a = report.clusters.find((c) => c.cluster === 'aks-a');
    expect(a?.targets.map((t) => [t.target, t.poisoned])).toEqual([
      [FW1, 1],
      [FW2, 1],
    ]);
    for (const t of a?.targets ?? []) expect(t.lastError).toMatch(/503/);
    const text = await cli('status');
    expect(text.code, describeRun(text)).toBe(0);
    expect(text.stdout).toContain(`tag-deltas-poison=2`);
    expect(text.stdout).toMatch(new RegExp(`target ${named(FW1)}: last push .*, 1 poisoned`));
    expect(text.stdout).toMatch(/last error: .*503/);
    expect(text.stdout).toContain('2 poisoned messages: run "aks-panorama-sync replay-poison"');

    // Dry run: counts, moves nothing.
    const dry = await cli('replay-poison', '--dry-run');
    expect(dry.code, describeRun(dry)).toBe(0);
    expect(dry.stdout).toContain('tag-deltas-poison: 2 messages would move back to tag-deltas');
    expect(dry.stdout).toContain('cluster-recompute-poison: 0 messages would move back to cluster-recompute');
    expect(await world.deps.queues.depth(poisonQueueName(DELTA_QUEUE))).toBe(2);
    expect(await world.deps.queues.depth(DELTA_QUEUE)).toBe(0);

    // Panorama is back: replay, then a pass without the audit (so the replayed deltas do the work).
    world.panorama.clearFaults();
    const replay = await cli('replay-poison');
    expect(replay.code, describeRun(replay)).toBe(0);
    expect(replay.stdout).toContain('tag-deltas-poison: moved 2 messages back to tag-deltas');
    expect(replay.stdout).toContain('"status" still counts them as pending until it has');
    expect(replay.stdout).toContain('"aks-panorama-sync reconcile" pushes them from here');
    expect(await world.deps.queues.depth(poisonQueueName(DELTA_QUEUE))).toBe(0);
    expect(await world.deps.queues.depth(DELTA_QUEUE)).toBe(2);

    const again = await cli('reconcile', '--no-audit');
    expect(again.code, describeRun(again)).toBe(0);
    expect(again.stdout).toMatch(/pushes: 2 messages, \+6\/-0 tags/);
    for (const fw of [FW1, FW2]) {
      expect(registeredObject(world.panorama, fw)['10.1.0.9']).toEqual([
        'aks.aks-a.search',
        'aks.aks-a.svc.app.web',
        'aks_web.aks-a.search',
      ]);
    }
    const after = await status();
    expect(after.queues.every((q) => q.depth === 0)).toBe(true);
    for (const t of after.clusters.find((c) => c.cluster === 'aks-a')?.targets ?? []) {
      expect(t.poisoned).toBe(0);
      expect(t.lastPushAt).toBeTruthy();
      expect(t.lastError ?? '').toBe('');
    }
  });

  it('Panorama entirely down (503 on every call): exit 1, one line of error, nothing committed; a later pass converges', async () => {
    kube('aks-a').addService(internalService('shop', 'orders', ['10.1.0.10']));
    const before = (await world.deps.clusterState.getHead('aks-a'))?.generation;
    world.panorama.setFaults({ errorRate: 1, errorFaults: ['http-503'] });

    const down = await cli('reconcile');
    expect(down.code, describeRun(down)).toBe(1);
    expect(down.stdout, describeRun(down)).toMatch(
      /^cluster aks-a: failed; nothing changed, the firewalls keep its last known state \(generation \d+, [1-9]\d* IPs, [1-9]\d* tags\): .*(503|unavailable)/im,
    );
    expect(down.stderr).not.toMatch(STACK_LINE);
    expect(userIdCalls().filter((c) => c.status === 200)).toEqual([]);
    const head = await world.deps.clusterState.getHead('aks-a');
    expect(head?.generation).toBe(before);
    expect(head?.leaseOwner ?? '').toBe('');

    world.panorama.clearFaults();
    const up = await cli('reconcile');
    expect(up.code, describeRun(up)).toBe(0);
    expect(registeredObject(world.panorama, FW1)['10.1.0.10']).toEqual(['aks.aks-a.orders']);
    expect(registeredObject(world.panorama, FW2)['10.1.0.10']).toEqual(['aks.aks-a.orders']);
  });

  it('one cluster failing (its API refuses the token) does not stop the pass for the others', async () => {
    kube('aks-b').addService(internalService('ops', 'tempo', ['10.2.0.6']));
    kube('aks-a').setForbidden(true);
    try {
      const dry = await cli('reconcile', '--dry-run');
      expect(dry.code, describeRun(dry)).toBe(1);
      expect(dry.stdout).toMatch(/^cluster aks-a: failed: .*403/m);
      expect(dry.stdout).toContain('  + 10.2.0.6 aks.aks-b.tempo');
      expect(world.panorama.registered().has('10.2.0.6')).toBe(false);

      const r = await cli('reconcile');
      expect(r.code, describeRun(r)).toBe(1);
      expect(r.stderr).not.toMatch(STACK_LINE);
      // aks-b is reconciled although aks-a failed, and the summary says which one failed.
      expect(registeredObject(world.panorama)['10.2.0.6']).toEqual(['aks.aks-b.tempo']);
      expect(r.stdout).toMatch(/cluster aks-a: failed/);
      expect(r.stdout).toMatch(/cluster aks-b: changed/);
    } finally {
      kube('aks-a').setForbidden(false);
    }
    const report = await status();
    expect(report.clusters.find((c) => c.cluster === 'aks-a')?.lastError).toMatch(/403|forbidden/i);

    const healed = await cli('reconcile');
    expect(healed.code, describeRun(healed)).toBe(0);
    expect((await status()).clusters.find((c) => c.cluster === 'aks-a')?.lastError ?? '').toBe('');
  });

  it('status prints per cluster and per target the last recompute and last push', async () => {
    const r = await cli('status');
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(
      /^queues: cluster-recompute=0 {2}tag-deltas=0 {2}cluster-recompute-poison=0 {2}tag-deltas-poison=0$/m,
    );
    expect(r.stdout).toMatch(/^cluster aks-a: generation \d+, 4 IPs, \d+ tags, \w+ at \d{4}-/m);
    expect(r.stdout).toMatch(/^cluster aks-b: generation \d+, 3 IPs, \d+ tags, \w+ at \d{4}-/m);
    expect(r.stdout).toMatch(
      new RegExp(`^  target ${named(FW1)}: last push \\d{4}-.* \\(generation \\d+, `, 'm'),
    );
    expect(r.stdout).toMatch(new RegExp(`^  target ${named(FW2)}: last push `, 'm'));
    expect(r.stdout).toMatch(/^ {2}target panorama: last push /m);

    const report = await status();
    expect(report.clusters.map((c) => [c.cluster, c.monitored, c.ipCount])).toEqual([
      ['aks-a', true, 4],
      ['aks-b', true, 3],
    ]);
    for (const c of report.clusters) {
      expect(c.lastRecomputeAt).toBeTruthy();
      expect(c.recomputing).toBe(false);
    }
    expect(report.clusters.find((c) => c.cluster === 'aks-b')?.targets.map((t) => t.target)).toEqual([
      'panorama',
    ]);
  });
});
