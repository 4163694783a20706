import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as HostModule from '../../../host/startLocalHost.js';
import type * as ConfigModule from '../../../shared/config/loadConfig.js';
import type * as LoggerModule from '../../../shared/logger.js';
import type { StatusReport } from '../../../shared/pipeline/collectStatus.js';
import { DELTA_QUEUE, poisonQueueName } from '../../../shared/queues/queueNames.js';
import type * as RuntimeModule from '../../../shared/runtime/createRuntime.js';
import {
  expectNoSecrets,
  pollUntil,
  ROOT,
  requireBuild,
  worldSecrets,
  worldSettings,
} from '../../helpers/cliKit.js';
import {
  internalService,
  nodeResourceGroup,
  type PipelineWorld,
  registeredObject,
  SUBSCRIPTION,
  startPipelineWorld,
  type WorldCluster,
} from '../../helpers/pipelineWorld.js';

/**
 * The local Functions host running the REAL compiled functions of `dist/functions`, wired as
 * `aks-panorama-sync dev` wires them, against Azurite and the Panorama + Kubernetes simulators.
 *
 * Host, runtime and logger are imported from `dist/` too: the functions use the process-wide
 * runtime of `dist/shared/runtime/createRuntime.js`, and only that module instance can be reset or
 * given the host's `nudge`, as cli/devCommand.ts does.
 */

const CLUSTER = 'aks-e2e';
const FW1 = '007051000000101';
const FW2 = '007051000000102';
const CLUSTERS: WorldCluster[] = [
  {
    name: CLUSTER,
    deviceGroups: ['dg-e2e'],
    labelSelectors: [{ name: 'web', selector: 'app=web,tier in (front)' }],
    services: [internalService('shop', 'checkout', ['10.3.0.4'], { app: 'web', tier: 'front' })],
  },
];
const CHECKOUT = [
  'aks.aks-e2e.checkout',
  'aks.aks-e2e.svc.app.web',
  'aks.aks-e2e.svc.tier.front',
  'aks_web.aks-e2e.checkout',
];

const dist = async <T>(path: string): Promise<T> =>
  (await import(pathToFileURL(join(ROOT, 'dist', path)).href)) as T;

function lbEvent(type: 'Write' | 'Delete' = 'Write') {
  const id = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${nodeResourceGroup(CLUSTER)}/providers/Microsoft.Network/loadBalancers/kubernetes-internal`;
  return {
    id: `evt-${Math.random().toString(36).slice(2)}`,
    topic: `/subscriptions/${SUBSCRIPTION}`,
    subject: id,
    eventType: `Microsoft.Resources.Resource${type}Success`,
    eventTime: new Date().toISOString(),
    dataVersion: '2',
    metadataVersion: '1',
    data: {
      resourceUri: id,
      operationName: `Microsoft.Network/loadBalancers/${type.toLowerCase()}`,
      status: 'Succeeded',
      subscriptionId: SUBSCRIPTION,
    },
  };
}

describe('local host with the real functions (dist/functions) on Azurite and the simulators', {
  timeout: 180_000,
}, () => {
  let world: PipelineWorld;
  let host: HostModule.LocalHost;
  let runtime: typeof RuntimeModule;
  let log: ReturnType<typeof LoggerModule.memoryLogger>;
  let secrets: string[];
  const envBefore = { ...process.env };

  const kube = () => {
    const sim = world.kube.get(CLUSTER);
    if (!sim) throw new Error('no simulator');
    return sim;
  };
  const postEvents = (events: unknown, headers: Record<string, string> = {}) =>
    fetch(`${host.url}/runtime/webhooks/eventgrid?functionName=onResourceEvent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification', ...headers },
      body: JSON.stringify(events),
    });
  const onBothFirewalls = (ip: string, tags: string[] | undefined) => () =>
    [FW1, FW2].every(
      (fw) => JSON.stringify(registeredObject(world.panorama, fw)[ip]) === JSON.stringify(tags),
    );
  const getStatus = async (): Promise<StatusReport> => {
    const res = await fetch(`${host.url}/api/status`, { headers: { 'x-functions-key': host.functionKey } });
    expect(res.status).toBe(200);
    return (await res.json()) as StatusReport;
  };

  beforeAll(async () => {
    requireBuild();
    world = await startPipelineWorld({
      clusters: CLUSTERS,
      deviceGroups: { 'dg-e2e': [{ serial: FW1 }, { serial: FW2 }] },
    });
    secrets = worldSecrets(world);
    const { startLocalHost } = await dist<typeof HostModule>('host/startLocalHost.js');
    const logger = await dist<typeof LoggerModule>('shared/logger.js');
    runtime = await dist<typeof RuntimeModule>('shared/runtime/createRuntime.js');
    const config = await dist<typeof ConfigModule>('shared/config/loadConfig.js');
    runtime.setRuntime(undefined);
    log = logger.memoryLogger('debug');
    host = await startLocalHost({
      functionsDir: join(ROOT, 'dist', 'functions'),
      hostJsonPath: join(ROOT, 'host.json'),
      settings: {
        ...worldSettings(world, CLUSTERS),
        // The timer is driven by the test (runTimer); its schedule must only be valid.
        RECONCILE_SCHEDULE: '0 0 0 1 1 *',
      },
      port: 0,
      logger: log,
      exportSettingsToEnv: true,
      // A failed push becomes visible again at once, so "retried then poisoned" takes seconds.
      hostSettings: { queues: { visibilityTimeoutMs: 0, maxDequeueCount: 3 } },
      // The functions' runtime as `npm start` wires it: sends wake the listeners.
      beforeStart: ({ settings, nudge }) =>
        runtime.setRuntime(runtime.createRuntime(config.loadConfig(settings), {}, { onEnqueue: nudge })),
    });
  });

  afterAll(async () => {
    await host?.stop();
    runtime?.setRuntime(undefined);
    await world?.stop();
    for (const k of Object.keys(process.env)) if (!(k in envBefore)) delete process.env[k];
    Object.assign(process.env, envBefore);
  });

  it('the timer brings the existing Services to every firewall of the device group', async () => {
    await host.runTimer('reconcileTimer');
    await pollUntil('checkout tags on both firewalls', onBothFirewalls('10.3.0.4', CHECKOUT));
  });

  it('a load balancer write event for a new internal Service brings its tags to the firewalls', async () => {
    world.panorama.seedTags([{ ip: '10.3.0.5', tags: ['owner.netsec-team'] }], FW1);
    kube().addService(internalService('shop', 'cart', ['10.3.0.5'], { app: 'web', tier: 'back' }));
    const res = await postEvents([lbEvent('Write')]);
    expect(res.status).toBeLessThan(300);
    await pollUntil(
      'cart tags on FW2',
      () =>
        JSON.stringify(registeredObject(world.panorama, FW2)['10.3.0.5']) ===
        JSON.stringify(['aks.aks-e2e.cart', 'aks.aks-e2e.svc.app.web', 'aks.aks-e2e.svc.tier.back']),
    );
    await pollUntil(
      'cart tags on FW1 beside the foreign tag',
      () =>
        JSON.stringify(registeredObject(world.panorama, FW1)['10.3.0.5']) ===
        JSON.stringify([
          'aks.aks-e2e.cart',
          'aks.aks-e2e.svc.app.web',
          'aks.aks-e2e.svc.tier.back',
          'owner.netsec-team',
        ]),
    );
  });

  it('a Service deletion and its event remove exactly its tags (foreign tags and other Services stay)', async () => {
    kube().deleteService('shop', 'cart');
    const res = await postEvents([lbEvent('Write')]);
    expect(res.status).toBeLessThan(300);
    await pollUntil('cart tags gone from FW2', () => !world.panorama.registered(FW2).has('10.3.0.5'));
    await pollUntil(
      'only the foreign tag left on FW1',
      () =>
        JSON.stringify(registeredObject(world.panorama, FW1)['10.3.0.5']) ===
        JSON.stringify(['owner.netsec-team']),
    );
    expect(onBothFirewalls('10.3.0.4', CHECKOUT)()).toBe(true);
  });

  it('a label change (no Azure event) is picked up by the timer', async () => {
    kube().setLabels('shop', 'checkout', { app: 'web', tier: 'edge' });
    await host.runTimer('reconcileTimer');
    await pollUntil(
      'relabelled checkout on both firewalls',
      onBothFirewalls('10.3.0.4', [
        'aks.aks-e2e.checkout',
        'aks.aks-e2e.svc.app.web',
        'aks.aks-e2e.svc.tier.edge',
      ]),
    );
  });

  it('a malformed event is refused with 400 and the host keeps working', async () => {
    const res = await postEvents([{ id: 'x', data: 'nope' }]);
    expect(res.status).toBe(400);
    const ok = await fetch(`${host.url}/api/status?code=${encodeURIComponent(host.functionKey)}`);
    expect(ok.status).toBe(200);
  });

  it('GET /api/status needs the function key (401 without) and reports clusters, targets and queues', async () => {
    const anonymous = await fetch(`${host.url}/api/status`);
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(`${host.url}/api/status`, { headers: { 'x-functions-key': 'not-the-key' } });
    expect(wrong.status).toBe(401);

    const viaQuery = await fetch(`${host.url}/api/status?code=${encodeURIComponent(host.functionKey)}`);
    expect(viaQuery.status).toBe(200);
    const body = await viaQuery.text();
    expectNoSecrets({ 'GET /api/status': body }, secrets);
    const report = JSON.parse(body) as StatusReport;
    const c = report.clusters.find((x) => x.cluster === CLUSTER);
    expect(c).toMatchObject({ monitored: true, recomputing: false, ipCount: 1 });
    expect(c?.lastRecomputeAt).toBeTruthy();
    expect(c?.targets.map((t) => t.target)).toEqual([FW1, FW2]);
    for (const t of c?.targets ?? []) expect(t.lastPushAt).toBeTruthy();
    expect(report.queues.map((q) => q.name).sort()).toEqual(
      ['cluster-recompute', 'cluster-recompute-poison', 'tag-deltas', 'tag-deltas-poison'].sort(),
    );
  });

  it('POST /api/replay-poison (function key) moves poisoned deltas back, and they converge', async () => {
    world.panorama.failNext('http-503', { type: 'user-id', count: 100_000 });
    kube().addService(internalService('shop', 'search', ['10.3.0.9']));
    expect((await postEvents([lbEvent('Write')])).status).toBeLessThan(300);
    await pollUntil(
      'both deltas poisoned',
      async () => (await world.deps.queues.depth(poisonQueueName(DELTA_QUEUE))) === 2,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(world.panorama.registered(FW1).has('10.3.0.9')).toBe(false);
    const st = await getStatus();
    expect(st.clusters.find((c) => c.cluster === CLUSTER)?.targets.map((t) => t.poisoned)).toEqual([1, 1]);

    expect((await fetch(`${host.url}/api/replay-poison`, { method: 'POST' })).status).toBe(401);
    const dry = await fetch(`${host.url}/api/replay-poison?dryRun=true`, {
      method: 'POST',
      headers: { 'x-functions-key': host.functionKey },
    });
    expect(dry.status).toBe(200);
    expect(await dry.json()).toMatchObject({
      dryRun: true,
      results: expect.arrayContaining([
        expect.objectContaining({ poisonQueue: 'tag-deltas-poison', found: 2, moved: 0 }),
      ]),
    });
    expect(await world.deps.queues.depth(poisonQueueName(DELTA_QUEUE))).toBe(2);

    world.panorama.clearFaults();
    const replay = await fetch(`${host.url}/api/replay-poison`, {
      method: 'POST',
      headers: { 'x-functions-key': host.functionKey },
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({
      dryRun: false,
      results: expect.arrayContaining([
        expect.objectContaining({ poisonQueue: 'tag-deltas-poison', moved: 2 }),
      ]),
    });
    await pollUntil(
      'replayed deltas on both firewalls',
      onBothFirewalls('10.3.0.9', ['aks.aks-e2e.search']),
      {
        timeoutMs: 30_000,
      },
    );
    expect(await world.deps.queues.depth(poisonQueueName(DELTA_QUEUE))).toBe(0);
  });

  it('never logs a secret', () => {
    const text = log.lines.map((l) => `${l.message} ${JSON.stringify(l.fields ?? {})}`).join('\n');
    expect(log.lines.length).toBeGreaterThan(10);
    expectNoSecrets({ 'host log': text }, secrets);
  });
});
