import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LocalHost, startLocalHost } from '../host/startLocalHost.js';
import { loadConfig } from '../shared/config/loadConfig.js';
import { silentLogger } from '../shared/logger.js';
import { PanoramaClient } from '../shared/panorama/PanoramaClient.js';
import { createRuntime, setRuntime } from '../shared/runtime/createRuntime.js';
import {
  type ArmResourceEvent,
  armResourceEvent,
  loadBalancerResourceId,
  postEventGridEvents,
} from '../sim/eventGrid/armResourceEvent.js';
import type { KubernetesSimulator } from '../sim/kubernetes/startKubernetesSimulator.js';
import type { PanoramaSimulator } from '../sim/panorama/startPanoramaSimulator.js';
import type { BenchSection } from './BenchSection.js';
import { type BenchWorld, startBenchWorld } from './benchRuntime.js';
import { percentile, ratio } from './workload.js';

const FUNCTIONS_DIR = fileURLToPath(new URL('../functions', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLUSTER = 'aks-bench-latency';
const SUBSCRIPTION = '33333333-3333-3333-3333-333333333333';
const NODE_RG = `MC_rg-${CLUSTER}_${CLUSTER}_westeurope`;
const DEVICE_GROUP = 'dg-latency';
const FIREWALLS = ['007951000000011', '007951000000012'];
const BASELINE_SERVICES = 200;
const EVENTS_NUDGED = 20;
const EVENTS_POLLING = 8;
const WAIT_LIMIT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function loadBalancerEvent(n: number): ArmResourceEvent {
  return armResourceEvent(loadBalancerResourceId(SUBSCRIPTION, NODE_RG), 'write', {
    id: `bench-${n}-${Date.now()}`,
  });
}

/** Posts one event to the local host's Event Grid webhook. */
function postEvent(host: LocalHost, event: ArmResourceEvent): Promise<void> {
  return postEventGridEvents(host.url, 'onResourceEvent', [event]);
}

/** Polls the simulator (every 5 ms) until every firewall holds `ip`; resolves with the time waited. */
async function waitForIp(panorama: PanoramaSimulator, ip: string, since: number): Promise<number> {
  const deadline = since + WAIT_LIMIT_MS;
  while (Date.now() < deadline) {
    if (FIREWALLS.every((fw) => panorama.registered(fw).has(ip))) return performance.now();
    await sleep(5);
  }
  throw new Error(`latency: ${ip} did not reach the firewalls within ${WAIT_LIMIT_MS} ms`);
}

/** Adds `count` new internal Services one by one, each followed by a load balancer write event. */
async function measure(
  host: LocalHost,
  kube: KubernetesSimulator,
  panorama: PanoramaSimulator,
  first: number,
  count: number,
  gapMs: number,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let n = first; n < first + count; n++) {
    const ip = `10.200.${n >> 8}.${n & 255}`;
    kube.addService({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: `new-${n}`,
        namespace: 'latency',
        labels: { app: 'app-1', tier: 'front', team: 'latency', version: 'v1', release: `r${n}` },
        annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' },
      },
      spec: { type: 'LoadBalancer' },
      status: { loadBalancer: { ingress: [{ ip }] } },
    });
    const started = performance.now();
    await postEvent(host, loadBalancerEvent(n));
    const done = await waitForIp(panorama, ip, Date.now());
    latencies.push(Math.round(done - started));
    // Let the host finish the invocations of this event (second target, status writes) and idle.
    await sleep(gapMs);
  }
  return latencies;
}

/**
 * Target of docs/benchmarks.md, event → tags through the local host: the real functions from `dist/functions` run by
 * `startLocalHost` (queue semantics of `host.json`, Event Grid webhook) on Azurite, a Kubernetes
 * simulator with 200 internal Services and a Panorama simulator with a device group of two
 * firewalls. Each round adds a Service, posts a `loadBalancers/write` event to the webhook and polls
 * the simulator until both firewalls hold the new IP. Measured twice: with the queue clients wired
 * to wake the host's listeners (`onEnqueue = host.nudge`, as `npm start` does), and without, where
 * each queue hop waits for the listener's idle polling (backoff up to `maxPollingInterval`, 2 s;
 * these events are spaced so that each one meets an idle host).
 */
export default async function latencyBench(): Promise<BenchSection> {
  let world: BenchWorld | undefined;
  let host: LocalHost | undefined;
  try {
    world = await startBenchWorld({
      cluster: CLUSTER,
      services: BASELINE_SERVICES,
      deviceGroup: DEVICE_GROUP,
      firewalls: FIREWALLS,
      recordCalls: false,
      subscriptionId: SUBSCRIPTION,
      nodeResourceGroup: NODE_RG,
      // Once a day at 03:00: the timer stays out of the measurement (it is run once by hand below).
      extraSettings: { RECONCILE_SCHEDULE: '0 0 3 * * *' },
    });
    const { panorama, kube, settings } = world;
    // The functions' runtime: the production wiring with a silent logger; its sends wake the host's
    // listeners only while `nudging` (the measurement without it is of the polling host).
    let nudging = false;
    host = await startLocalHost({
      functionsDir: FUNCTIONS_DIR,
      settings,
      port: 0,
      logger: silentLogger,
      hostJsonPath: join(REPO_ROOT, 'host.json'),
      exportSettingsToEnv: true,
      beforeStart: ({ settings: effective, nudge }) => {
        const config = loadConfig(effective);
        const overrides = {
          logger: silentLogger,
          panorama: new PanoramaClient(config.panorama, { logger: silentLogger }),
        };
        setRuntime(createRuntime(config, overrides, { onEnqueue: (queue) => nudging && nudge(queue) }));
      },
    });
    const h = host;
    const maxPollingMs = h.hostSettings.queues.maxPollingIntervalMs;

    // Initial sync of the 200 Services (timer run by hand), then wait until it reached the firewalls.
    await h.runTimer('reconcileTimer');
    await waitForIp(panorama, '10.0.0.1', Date.now());

    nudging = true;
    const nudged = await measure(h, kube, panorama, 1, EVENTS_NUDGED, 300);
    // Without the wiring, events arriving at an idle host (listeners backed off to maxPollingInterval).
    nudging = false;
    await sleep(maxPollingMs + 500);
    const polled = await measure(h, kube, panorama, 1 + EVENTS_NUDGED, EVENTS_POLLING, maxPollingMs + 500);

    const p50 = percentile(nudged, 50);
    const pollP50 = percentile(polled, 50);
    return {
      name: 'latency: event → tags on the Panorama simulator through the local host',
      figures: {
        events: nudged.length,
        baselineServices: BASELINE_SERVICES,
        targets: FIREWALLS.length,
        hostMaxPollingIntervalMs: maxPollingMs,
        hostBatchSize: h.hostSettings.queues.batchSize,
        p50Ms: p50,
        p95Ms: percentile(nudged, 95),
        maxMs: Math.max(...nudged),
        minMs: Math.min(...nudged),
        targetP50Ms: 300,
        p50ToTargetRatio: ratio(p50, 300),
        withoutNudgeEvents: polled.length,
        withoutNudgeP50Ms: pollP50,
        withoutNudgeP95Ms: percentile(polled, 95),
        withoutNudgeMaxMs: Math.max(...polled),
        withoutNudgeToNudgedP50Ratio: ratio(pollP50, p50, 1),
        latenciesMs: nudged.join(' '),
      },
    };
  } finally {
    await host?.stop();
    setRuntime(undefined);
    await world?.stop();
  }
}
