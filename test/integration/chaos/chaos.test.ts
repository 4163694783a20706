import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../../shared/config/loadConfig.js';
import { auditTargets } from '../../../shared/pipeline/auditTargets.js';
import { drainDeltaQueue } from '../../../shared/pipeline/drainDeltaQueue.js';
import { enqueueRecompute } from '../../../shared/pipeline/enqueueRecompute.js';
import { handleReconcileTimer } from '../../../shared/pipeline/handleReconcileTimer.js';
import { handleResourceEvent } from '../../../shared/pipeline/handleResourceEvent.js';
import type { PipelineDeps } from '../../../shared/pipeline/PipelineDeps.js';
import { type RecomputeOutcome, recomputeCluster } from '../../../shared/pipeline/recomputeCluster.js';
import { replayPoison } from '../../../shared/pipeline/replayPoison.js';
import { DELTA_QUEUE, poisonQueueName, RECOMPUTE_QUEUE } from '../../../shared/queues/queueNames.js';
import { computeIpTags } from '../../../shared/tags/computeIpTags.js';
import type { IpTagMap } from '../../../shared/tags/IpTagMap.js';
import { armResourceEvent } from '../../../sim/eventGrid/armResourceEvent.js';
import { seededRandom } from '../../../sim/panorama/seededRandom.js';
import type { SimCall, SimFault, SimFaultSettings } from '../../../sim/panorama/startPanoramaSimulator.js';
import {
  armAddCluster,
  armResourceIdOf,
  CHAOS_DEVICE_GROUP,
  CHAOS_SUBSCRIPTION,
  type ChaosClusterSpec,
  type ChaosWorld,
  type CrashPoint,
  type DeliveryOptions,
  type DeliveryStats,
  deliverDeltas,
  deliverRecomputes,
  FIREWALL_TARGETS,
  FIREWALLS,
  groupTargets,
  HOST_QUEUES,
  hostDeliverDeltas,
  hostDeliverRecomputes,
  KUBE_MAX_ATTEMPTS,
  nodeResourceGroupOf,
  type OutagePlan,
  type OutagePoint,
  PANORAMA,
  ProcessDeath,
  queueDepths,
  registeredOnTarget,
  SERIALS,
  type SeedWorld,
  type ServiceShape,
  ServicesGate,
  SPARE_DEVICE_GROUP,
  seedTagsOnTarget,
  serviceOf,
  settleQueues,
  sleep,
  startChaosWorld,
  targetParts,
} from '../../helpers/chaosWorld.js';

/*
 * Seeded chaos test of the invariants in docs/architecture.md: per seed, a random bounded sequence of cluster changes,
 * recomputes and queue deliveries under injected faults over two clusters — `aks-p<seed>` registering
 * on Panorama itself, `aks-d<seed>` on the firewalls of a device group (one of them multi-vsys: the
 * group holds its vsys2, another group its vsys1, so the tags must reach vsys2 and never vsys1; see
 * docs/targets.md) — then faults off, poison
 * replayed, a final recompute + drain, a forced audit + drain, and the check: on EVERY target the
 * owned tags equal exactly what `computeIpTags` makes of the simulators' current Services, and the
 * foreign tags seeded at the start are still there.
 *
 * Scenario steps build one hostile situation each, with Panorama's random faults paused, and check
 * their own invariant exactly on the spot (a violation fails the seed at the end, listed with its
 * step; the summary names the seeds per scenario):
 *   migration           `aks-d` takes over tags the Panorama plugin registered (also of Services that
 *                       no longer exist); its first recompute fails (Kubernetes 403) while an audit
 *                       runs: the plugin's tags stay exactly as they were until its first commit;
 *   delete-while-busy   a delete request delivered while another instance's recompute holds the
 *                       lease, which then fails: the delete is carried out (tombstone, tags gone);
 *   whole-call-failure  user-id calls answered HTTP 404 or HTTP 200 with an HTML maintenance page:
 *                       the delta reaches every target (retried, or poisoned and replayed);
 *   storage-outage      Azurite unreachable for 1.5–2.2 s during a recompute: the cluster recomputes
 *                       and commits within seconds of storage coming back, not after the lease;
 *   stale-delete        a delete event hours old after a newer write of a cluster ARM still has: no
 *                       desired tag is unregistered, no tombstone;
 *   firewall-leave      a firewall leaves the notify device group: after the next recompute and
 *                       audit it holds none of the cluster's tags.
 * The `two-hosts` step runs two hosts on the one storage account with host.json's batching; the
 * summary reports the most Panorama calls in flight at once per target over the run (measured, not
 * bounded: more than PAN-OS's advised 5 per device is a known open limit).
 * Panorama is an HA pair (`PANORAMA_URL` names both peers). On about 40% of the seeds the active peer
 * fails over at one step — it turns passive or goes down (every call dropped) — and the seed goes on
 * and ends on the other peer. Every instance's calls hold a permit of one shared call limit
 * (`SharedCallLimit` over an in-memory permit table), and `shared-permits` checks after every step
 * that no more calls held a permit at once, over all instances, than `PANORAMA_CONCURRENCY`.
 *
 *   CHAOS_SEEDS=<n>       number of seeds (default 50), seeds 1..n
 *   CHAOS_SEED=<n>        run only this seed (replay a failure)
 *   CHAOS_STEPS=<a>-<b>   steps per sequence (default 15-25)
 *   CHAOS_FAULT_RATE=<r>  mean Panorama fault rate per call while the sequence runs (default 0.15)
 *   CHAOS_VERBOSE=1       print every seed's step log, not only failing ones
 *
 * A replay repeats the seed's step kinds and choices (each step has its own PRNG stream); outcomes
 * that depend on timing (which messages are visible, which call a rate fault hits) may differ.
 * About 40% of the seeds are audit-free: no fault only the audit repairs, so the delta path alone
 * must converge before the final audit. See also leaseWithinInstance.test.ts (a bug this test found).
 */

const envInt = (name: string, fallback: number) => {
  const v = process.env[name];
  const n = v === undefined || v === '' ? Number.NaN : Number(v);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
};
const SEEDS: number[] = process.env.CHAOS_SEED
  ? [envInt('CHAOS_SEED', 1)]
  : Array.from({ length: Math.max(1, envInt('CHAOS_SEEDS', 50)) }, (_, i) => i + 1);
const [MIN_STEPS, MAX_STEPS] = (() => {
  const m = /^(\d+)-(\d+)$/.exec(process.env.CHAOS_STEPS ?? '');
  return m ? [Number(m[1]), Number(m[2])] : [15, 25];
})();
const FAULT_RATE = (() => {
  const r = Number(process.env.CHAOS_FAULT_RATE ?? '0.15');
  return Number.isFinite(r) && r >= 0 && r <= 1 ? r : 0.15;
})();
/** Short Panorama client timeout while faults are on (so `hang` costs little). */
const CHAOS_TIMEOUT_MS = 400;
/**
 * Answer time of every Panorama call during a `two-hosts` step: calls to a real device take tens to
 * hundreds of milliseconds, so concurrent invocations overlap there as they would in production
 * (loopback answers in ~1 ms would hide the concurrency the in-flight peak is meant to measure).
 */
const DEVICE_LATENCY_MS = 25;

const SELECTORS = {
  p: [
    { name: 'web', selector: 'app=web' },
    { name: 'front', selector: 'tier in (front),app!=db' },
  ],
  d: [
    { name: 'api', selector: 'app in (api,web)' },
    { name: 'prod', selector: 'env=prod' },
  ],
};
const IP_POOL = [
  '10.20.0.1',
  '10.20.0.2',
  '10.20.0.3',
  '10.20.0.4',
  '10.20.0.5',
  '10.20.0.6',
  '10.20.0.7',
  'fd00::20:8',
];
const NAMESPACES = ['shop', 'ops'];
const NAMES = ['web', 'api', 'db', 'cache', 'auth', 'pay'];
const LABEL_VALUES: Record<string, string[]> = {
  app: ['web', 'api', 'db'],
  tier: ['front', 'back'],
  env: ['prod', 'dev'],
};
const FAULT_KINDS: SimFault[] = [
  'http-500',
  'http-502',
  'http-503',
  'drop',
  'drop-after-apply',
  'hang',
  'session-timeout',
];

/** Tags written by people or other plugins, seeded on every target; they must survive. */
const FOREIGN = [
  { ip: '10.20.0.1', tags: ['owner.netsec'] },
  { ip: '10.20.0.2', tags: ['azure.vm-name.x'] },
  { ip: '10.20.0.3', tags: ['aks.other-cluster.web', 'owner.netsec'] },
  { ip: '10.99.0.1', tags: ['owner.netsec', 'azure.vm-name.jump'] },
];

// ---------------------------------------------------------------------------------------------

type Rng = () => number;
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
const chance = (rng: Rng, p: number) => rng() < p;
function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

/** Faults and events exercised, over all seeds. */
const totals = new Map<string, number>();
const bump = (counts: Map<string, number>, key: string, n = 1) => {
  if (n > 0) counts.set(key, (counts.get(key) ?? 0) + n);
};
const runSummary = {
  seeds: 0,
  passed: 0,
  steps: 0,
  ms: 0,
  preAuditDivergent: 0,
  strictSeeds: 0,
  unexplainedPreAudit: [] as number[],
  /** Most Panorama calls in flight at once per target over the run, and where (seed, step). */
  maxInFlight: new Map<string, { n: number; where: string }>(),
  /** Scenario → seeds in which its invariant did not hold. */
  violations: new Map<string, number[]>(),
  /** Seeds whose active Panorama peer failed over mid-run, by how. */
  haFailovers: { passive: 0, down: 0 },
  /** Most Panorama calls holding a permit of the shared limit at once, over all seeds. */
  permitPeak: 0,
};

/** Folds the simulator's in-flight peaks since the last fold into the seed's and the run's, then restarts them. */
function foldInFlight(world: ChaosWorld, st: SeedState, where: string): void {
  for (const peer of [world.haPair.primary, world.haPair.secondary]) {
    for (const [lane, n] of Object.entries(peer.stats.maxInFlight)) {
      const target = lane === '' ? PANORAMA : lane;
      st.maxInFlight.set(target, Math.max(st.maxInFlight.get(target) ?? 0, n));
      const best = runSummary.maxInFlight.get(target);
      if (!best || n > best.n)
        runSummary.maxInFlight.set(target, { n, where: `seed ${st.seedWorld.seed} ${where}` });
    }
    peer.resetMaxInFlight();
  }
  checkPermits(st, where);
}

/**
 * Invariant of the shared call limit: over every instance of the seed, never more Panorama calls
 * run holding a permit than there are permits (`PANORAMA_CONCURRENCY`).
 */
function checkPermits(st: SeedState, where: string): void {
  const { permits } = st.seedWorld;
  runSummary.permitPeak = Math.max(runSummary.permitPeak, permits.peak);
  if (permits.peak > permits.limit)
    violate(
      st,
      'shared-permits',
      `${permits.peak} calls held a permit at once (${where}); limit ${permits.limit}`,
    );
}

/**
 * HA seeds (about 40%, from their own PRNG stream so the steps of every seed stay as they were): at
 * one step the active Panorama peer fails over to the other — it turns passive, or goes down (every
 * call to it dropped) — and the seed goes on, and ends, on the other peer.
 */
function planHaFailover(seed: number, steps: number): { at: number; how: 'passive' | 'down' } | undefined {
  const rng = seededRandom(seed * 131 + 17);
  if (!chance(rng, 0.4)) return undefined;
  return { at: int(rng, 1, steps), how: chance(rng, 0.5) ? 'passive' : 'down' };
}

const formatPeaks = (peaks: Iterable<[string, number]>) =>
  [...peaks]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([t, n]) => `${t}=${n}`)
    .join(' ') || 'none';

function lbEvent(cluster: string) {
  const id = `/subscriptions/${CHAOS_SUBSCRIPTION}/resourceGroups/${nodeResourceGroupOf(cluster)}/providers/Microsoft.Network/loadBalancers/kubernetes-internal`;
  return {
    id: `evt-${cluster}-${Math.random()}`,
    topic: `/subscriptions/${CHAOS_SUBSCRIPTION}`,
    subject: id,
    eventType: 'Microsoft.Resources.ResourceWriteSuccess',
    eventTime: new Date().toISOString(),
    dataVersion: '2',
    metadataVersion: '1',
    data: { resourceUri: id, operationName: 'Microsoft.Network/loadBalancers/write', status: 'Succeeded' },
  };
}

function clusterEvent(cluster: string, type: 'Write' | 'Delete', eventTime?: Date) {
  const event = armResourceEvent(armResourceIdOf(cluster), type === 'Write' ? 'write' : 'delete', {
    id: `evt-${cluster}-${type}-${Math.random()}`,
  });
  return eventTime ? { ...event, eventTime: eventTime.toISOString() } : event;
}

/** Owned = `aks.<cluster>.` or `aks_<selector>.<cluster>.` of one of this seed's clusters. */
function ownedBy(tag: string, clusters: readonly ChaosClusterSpec[]): boolean {
  return clusters.some(
    (c) =>
      tag.startsWith(`aks.${c.name}.`) ||
      c.labelSelectors.some((s) => tag.startsWith(`aks_${s.name}.${c.name}.`)),
  );
}

/** The spec: desired owned tags per target, computed from the simulators' current Services. */
function desiredByTarget(world: ChaosWorld, seedWorld: SeedWorld): Map<string, Map<string, string[]>> {
  // (firewall, vsys) targets: vsys2 of the multi-vsys firewall is in the group, its vsys1 is not.
  const groupFirewalls = groupTargets(world.panorama, CHAOS_DEVICE_GROUP);
  const out = new Map<string, Map<string, string[]>>(
    [PANORAMA, ...FIREWALL_TARGETS].map((t) => [t, new Map<string, string[]>()]),
  );
  for (const c of seedWorld.clusters) {
    const config = seedWorld.configured.find((x) => x.name === c.name) as ClusterConfig;
    const { tags } = computeIpTags(c.kube.services(), { cluster: c.name, selectors: config.labelSelectors });
    const targets = c.deviceGroups.length ? groupFirewalls : [PANORAMA];
    for (const target of targets) {
      const m = out.get(target) as Map<string, string[]>;
      for (const [ip, t] of tags) m.set(ip, [...new Set([...(m.get(ip) ?? []), ...t])].sort());
    }
  }
  return out;
}

function ownedOnDevice(world: ChaosWorld, target: string, clusters: readonly ChaosClusterSpec[]) {
  const reg = registeredOnTarget(world.panorama, target);
  const out = new Map<string, string[]>();
  for (const [ip, tags] of reg) {
    const owned = tags.filter((t) => ownedBy(t, clusters)).sort();
    if (owned.length) out.set(ip, owned);
  }
  return out;
}

const asObject = (m: Map<string, string[]>) =>
  Object.fromEntries([...m.keys()].sort().map((ip) => [ip, m.get(ip) ?? []]));

/** Differences between two IP → tags maps of one target, one line per IP. */
function tagMapDiff(target: string, want: ReadonlyMap<string, readonly string[]>, have: IpTagMap): string[] {
  const lines: string[] = [];
  for (const ip of [...new Set([...want.keys(), ...have.keys()])].sort()) {
    const w = want.get(ip) ?? [];
    const h = have.get(ip) ?? [];
    const missing = w.filter((t) => !h.includes(t));
    const extra = h.filter((t) => !w.includes(t));
    if (missing.length || extra.length) {
      lines.push(`${target} ${ip}: missing [${missing.join(', ')}] extra [${extra.join(', ')}]`);
    }
  }
  return lines;
}

/** Differences between the spec and the devices, one line per (target, ip). */
function divergence(world: ChaosWorld, seedWorld: SeedWorld): string[] {
  return [...desiredByTarget(world, seedWorld)].flatMap(([target, want]) =>
    tagMapDiff(target, want, ownedOnDevice(world, target, seedWorld.clusters)),
  );
}

function seedForeign(world: ChaosWorld, target: string) {
  seedTagsOnTarget(world.panorama, FOREIGN, target);
}

// ---------------------------------------------------------------------------------------------

interface SeedState {
  /** Randomness of the current step (its own stream, so a replay keeps the step sequence). */
  rng: Rng;
  /** Chooses each step's kind and cluster (a fixed two draws per step). */
  kindRng: Rng;
  seedWorld: SeedWorld;
  main: PipelineDeps;
  other: PipelineDeps;
  shapes: Map<string, Map<string, ServiceShape>>;
  live: Map<string, boolean>;
  maxDequeueCount: number;
  counts: Map<string, number>;
  log: string[];
  /** Faults that only the audit can repair (a missed (ip, tag) is expected before the audit). */
  /** Per target (`*` = any target): faults that only the audit repairs. */
  auditOnly: Map<string, Set<string>>;
  crashed: Set<string>;
  /**
   * Audit-free seed: no fault that only the audit can repair (reboots, firewall (dis)connections and
   * joins, concurrent push consumers) and no audit before the final one, so the delta path alone must
   * converge (invariants 1–3) — checked before the final audit.
   */
  strict: boolean;
  /** The seed's standing Panorama faults (restored after a poison step). */
  faults: SimFaultSettings;
  /** Kind of the step running now. */
  stepKind: string;
  /** Index of the step running now (0 during setup, -1 in the final phase). */
  stepIndex: number;
  /**
   * Migration seeds: the cluster that takes over tags the Panorama plugin registered; its
   * Kubernetes API answers 403 until the `migration` step (or the final phase) lifts it.
   */
  migrating?: ChaosClusterSpec;
  /** Per firewall: the migrating cluster's tags seeded before its first commit (gone after a reboot). */
  preseeded: Map<string, Map<string, string[]>>;
  /** Scenario invariants that did not hold (the seed fails with all of them at the end). */
  violations: string[];
  /** Most Panorama calls in flight at once per target in this seed. */
  maxInFlight: Map<string, number>;
}

const keyOf = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;

function noteAuditOnly(st: SeedState, target: string, reason: string) {
  const set = st.auditOnly.get(target) ?? new Set<string>();
  set.add(reason);
  st.auditOnly.set(target, set);
}

function randomLabels(rng: Rng): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, values] of Object.entries(LABEL_VALUES))
    if (chance(rng, 0.55)) labels[k] = pick(rng, values);
  return labels;
}

function randomShape(rng: Rng, existing: Map<string, ServiceShape>): ServiceShape | undefined {
  const free = NAMESPACES.flatMap((ns) => NAMES.map((name) => ({ namespace: ns, name }))).filter(
    (s) => !existing.has(keyOf(s)),
  );
  if (free.length === 0) return undefined;
  const { namespace, name } = pick(rng, free);
  const roll = rng();
  const kind: ServiceShape['kind'] = roll < 0.85 ? 'internal' : roll < 0.93 ? 'clusterip' : 'public';
  const ips = chance(rng, 0.1) ? [] : shuffled(rng, IP_POOL).slice(0, chance(rng, 0.2) ? 2 : 1);
  return { namespace, name, ips, labels: randomLabels(rng), kind };
}

function put(c: ChaosClusterSpec, st: SeedState, shape: ServiceShape) {
  st.shapes.get(c.name)?.set(keyOf(shape), shape);
  c.kube.addService(serviceOf(shape));
}

function request(cluster: string, now: Date, deleted = false) {
  return {
    v: 1 as const,
    cluster,
    reason: 'chaos',
    requestedAt: now.toISOString(),
    ...(deleted ? { deleted: true } : {}),
  };
}

async function tryRecompute(st: SeedState, cluster: string, deps: PipelineDeps): Promise<string> {
  try {
    const o = await recomputeCluster(request(cluster, st.seedWorld.now()), deps);
    bump(st.counts, `recompute:${o.status}`);
    return `${o.status}${o.generation === undefined ? '' : `@${o.generation}`}${o.error ? ` (${o.error.slice(0, 80)})` : ''}`;
  } catch (err) {
    bump(st.counts, 'recompute:threw');
    return `threw ${(err as Error).message.slice(0, 100)}`;
  }
}

function countDelivery(st: SeedState, what: string, s: DeliveryStats) {
  bump(st.counts, `${what}:delivered`, s.received);
  bump(st.counts, 'duplicate-delivery', s.duplicates + s.resent);
  bump(st.counts, 'poisoned', s.poisoned);
  bump(st.counts, `${what}:failed-attempt`, s.failed);
  for (const o of s.outcomes) {
    const status = o.startsWith('error') ? 'error' : (o.split(':').pop()?.split('@')[0] ?? '?');
    bump(st.counts, `${what}:${status}`);
  }
}

/** Mutates one live cluster's Services (add / relabel / delete / move an IP / make pending). */
function mutate(st: SeedState, c: ChaosClusterSpec, kind?: string): string {
  const { rng } = st;
  const shapes = st.shapes.get(c.name) as Map<string, ServiceShape>;
  const list = [...shapes.values()];
  const k = kind ?? pick(rng, ['add', 'add', 'relabel', 'relabel', 'delete', 'move', 'pending']);
  if (k === 'add' || list.length === 0) {
    const shape = randomShape(rng, shapes);
    if (!shape) return 'add: no free name';
    put(c, st, shape);
    bump(st.counts, 'svc-add');
    return `add ${keyOf(shape)} ${shape.kind} [${shape.ips.join(',')}] ${JSON.stringify(shape.labels)}`;
  }
  const s = pick(rng, list);
  if (k === 'relabel') {
    const labels = randomLabels(rng);
    put(c, st, { ...s, labels });
    bump(st.counts, 'svc-relabel');
    return `relabel ${keyOf(s)} ${JSON.stringify(labels)}`;
  }
  if (k === 'delete') {
    shapes.delete(keyOf(s));
    c.kube.deleteService(s.namespace, s.name);
    bump(st.counts, 'svc-delete');
    return `delete ${keyOf(s)}`;
  }
  if (k === 'pending') {
    put(c, st, { ...s, ips: [] });
    bump(st.counts, 'svc-pending');
    return `pending ${keyOf(s)}`;
  }
  // move: an IP of one Service goes to another (or, without one, to a fresh IP of the pool)
  const donors = list.filter((x) => x.ips.length > 0);
  const from = donors.length ? pick(rng, donors) : undefined;
  const to = pick(rng, list.filter((x) => x !== from).length ? list.filter((x) => x !== from) : list);
  const ip = from ? pick(rng, from.ips) : pick(rng, IP_POOL);
  if (from) put(c, st, { ...from, ips: from.ips.filter((x) => x !== ip) });
  const target = shapes.get(keyOf(to)) as ServiceShape;
  put(c, st, { ...target, ips: [...new Set([...target.ips, ip])] });
  bump(st.counts, 'ip-move');
  return `move ${ip} ${from ? keyOf(from) : '(pool)'} -> ${keyOf(to)}`;
}

async function step(world: ChaosWorld, st: SeedState, index: number): Promise<string> {
  const { seedWorld } = st;
  const clusters = seedWorld.clusters;
  const liveClusters = clusters.filter((c) => st.live.get(c.name));
  const deadClusters = clusters.filter((c) => !st.live.get(c.name));
  const c = pick(st.kindRng, clusters);
  const loose = st.strict ? 0 : 1;
  const weighted: [string, number][] = [
    ['mutate', 22],
    ['cluster-delete', deletable(st).length ? 2 : 0],
    ['cluster-recreate', deadClusters.length ? 5 : 0],
    ['event', 9],
    ['recompute', 7],
    ['concurrent-recompute', 4],
    ['crash', 3],
    ['time-passes', st.crashed.size ? 4 : 1],
    ['deliver-recomputes', 9],
    ['deliver-deltas', 16],
    ['drain', 3],
    ['reboot', 2 * loose],
    ['firewall-connection', 2 * loose],
    ['firewall-join', 1 * loose],
    ['poison', 3],
    ['replay-poison', 3],
    ['timer', 2],
    ['audit', 2 * loose],
    ['kube-fault', 2],
    ['fault-burst', 4],
    ['two-hosts', 3 * loose],
    ['migration', st.migrating ? 6 : 0],
    ['delete-while-busy', deletable(st).length ? 1 : 0],
    ['whole-call-failure', deletable(st).length ? 3 : 0],
    ['storage-outage', 0.8],
    ['stale-delete', deletable(st).length ? 2 : 0],
    ['firewall-leave', st.migrating ? 0 : 2 * loose],
  ];
  let roll = st.kindRng() * weighted.reduce((n, [, w]) => n + w, 0);
  let kind = 'mutate';
  for (const [k, w] of weighted) {
    roll -= w;
    if (roll < 0) {
      kind = k;
      break;
    }
  }
  bump(st.counts, `step:${kind}`);
  st.stepKind = kind;
  st.stepIndex = index;
  const rng = seededRandom((seedWorld.seed * 1_000_003 + index * 7_919) >>> 0);
  st.rng = rng;

  switch (kind) {
    case 'mutate': {
      const target = liveClusters.length ? pick(rng, liveClusters) : undefined;
      if (!target) return 'mutate: no live cluster';
      return `mutate ${target.name}: ${mutate(st, target)}`;
    }
    case 'cluster-delete': {
      const target = pick(rng, deletable(st));
      removeCluster(world, st, target);
      const times = chance(rng, 0.3) ? 2 : 1;
      for (let i = 0; i < times; i++) await handleResourceEvent(clusterEvent(target.name, 'Delete'), st.main);
      bump(st.counts, 'cluster-delete');
      bump(st.counts, 'event-redelivered', times - 1);
      return `cluster-delete ${target.name} (delete event x${times})`;
    }
    case 'cluster-recreate': {
      const target = pick(rng, deadClusters);
      st.live.set(target.name, true);
      armAddCluster(world.arm, target.name);
      const added = [];
      for (let i = int(rng, 1, 3); i > 0; i--) added.push(mutate(st, target, 'add'));
      await handleResourceEvent(clusterEvent(target.name, 'Write'), st.main);
      bump(st.counts, 'cluster-recreate');
      return `cluster-recreate ${target.name}: ${added.join('; ')}`;
    }
    case 'event': {
      const times = chance(rng, 0.2) ? 2 : 1;
      for (let i = 0; i < times; i++) await handleResourceEvent(lbEvent(c.name), st.main);
      bump(st.counts, 'event');
      bump(st.counts, 'event-redelivered', times - 1);
      return `event lb-write ${c.name} x${times}`;
    }
    case 'recompute':
      return `recompute ${c.name}: ${await tryRecompute(st, c.name, chance(rng, 0.5) ? st.main : st.other)}`;
    case 'concurrent-recompute': {
      // Two instances, or two invocations of one instance (the host runs queue messages concurrently).
      const same = chance(rng, 0.4);
      const [a, b] = await Promise.all([
        tryRecompute(st, c.name, st.main),
        tryRecompute(st, c.name, same ? st.main : st.other),
      ]);
      bump(st.counts, same ? 'concurrent-recompute:same-instance' : 'concurrent-recompute:two-instances');
      return `concurrent-recompute ${same ? 'same instance' : 'two instances'} ${c.name}: ${a} | ${b}`;
    }
    case 'crash': {
      if (st.crashed.has(c.name)) return `crash ${c.name}: skipped (lease of a dead instance still held)`;
      const change = st.live.get(c.name) ? mutate(st, c) : 'no change (deleted cluster)';
      const at = pick(rng, [
        'pending',
        'mid-enqueue',
        'rows',
        'commit',
      ] as const satisfies readonly CrashPoint[]);
      const death = new ProcessDeath();
      const dying = seedWorld.instance({
        name: 'dying',
        timeoutMs: CHAOS_TIMEOUT_MS,
        crash: { at, death, sendsBeforeDeath: c.deviceGroups.length ? int(rng, 0, 1) : 0 },
      });
      const outcome = await tryRecompute(st, c.name, dying);
      let line = `crash ${c.name} at ${at} after [${change}]: ${death.dead ? 'died' : 'survived'} (${outcome})`;
      if (death.dead) {
        st.crashed.add(c.name);
        bump(st.counts, `crash:${at}`);
        if (chance(rng, 0.5)) {
          seedWorld.clockOffsetMs += (st.main.leaseSeconds + 1) * 1000;
          st.crashed.clear();
          const takeover = seedWorld.instance({ name: 'takeover', timeoutMs: CHAOS_TIMEOUT_MS });
          line += `; lease expired, takeover: ${await tryRecompute(st, c.name, takeover)}`;
          bump(st.counts, 'lease-takeover');
        }
      }
      return line;
    }
    case 'time-passes': {
      seedWorld.clockOffsetMs += (st.main.leaseSeconds + 1) * 1000;
      const released = [...st.crashed];
      st.crashed.clear();
      bump(st.counts, 'time-passes');
      return `time passes ${st.main.leaseSeconds + 1}s (dead leases expire: ${released.join(',') || 'none'})`;
    }
    case 'deliver-recomputes': {
      const shuffle = chance(rng, 0.5);
      const s = await deliverRecomputes(st.main, {
        maxDequeueCount: st.maxDequeueCount,
        ...(shuffle ? { order: (b) => shuffled(rng, b) } : {}),
        duplicate: () => chance(rng, 0.15),
        ...(chance(rng, 0.3) ? { consumers: [st.main, chance(rng, 0.5) ? st.main : st.other] } : {}),
      });
      if (shuffle && s.received > 1) bump(st.counts, 'reordered-batch');
      countDelivery(st, 'recompute-msg', s);
      return `deliver-recomputes ${shuffle ? 'shuffled ' : ''}${s.received}: ${s.outcomes.join(', ')}`;
    }
    case 'deliver-deltas': {
      const order = pick(rng, ['fifo', 'shuffle', 'shuffle', 'reverse'] as const);
      const concurrent = !st.strict && chance(rng, 0.25);
      const s = await deliverDeltas(st.main, {
        maxDequeueCount: st.maxDequeueCount,
        // Duplicate delivery through the queue: a copy delivered later, possibly after newer generations.
        resend: () => chance(rng, 0.15),
        order: (batch) =>
          order === 'fifo' ? batch : order === 'reverse' ? [...batch].reverse() : shuffled(rng, batch),
        duplicate: () => chance(rng, 0.15),
        ...(concurrent ? { consumers: [st.main, st.other] } : {}),
      });
      if (order !== 'fifo' && s.received > 1) bump(st.counts, 'reordered-batch');
      if (concurrent && s.received > 1) {
        bump(st.counts, 'concurrent-push');
        noteAuditOnly(st, '*', 'concurrent-push');
      }
      countDelivery(st, 'delta-msg', s);
      return `deliver-deltas ${order}${concurrent ? ' 2 consumers' : ''} ${s.received} (+${s.resent} re-sent): ${s.outcomes.join(', ')}`;
    }
    case 'drain': {
      const r = await drainDeltaQueue(st.main, {
        maxDequeueCount: st.maxDequeueCount,
        retryDelaySeconds: 0,
        budgetMs: 300,
      });
      bump(st.counts, 'poisoned', r.poisoned);
      bump(st.counts, 'delta-msg:delivered', r.pushed.length + r.retried + r.poisoned);
      for (const p of r.pushed) bump(st.counts, `delta-msg:${p.status}`);
      return `drainDeltaQueue: pushed ${r.pushed.map((p) => `${p.cluster}/${p.target}@${p.generation}:${p.status}`).join(', ')} retried ${r.retried} poisoned ${r.poisoned}`;
    }
    case 'reboot': {
      const targets = [PANORAMA, ...groupTargets(world.panorama, CHAOS_DEVICE_GROUP)];
      const target = pick(rng, targets);
      // A firewall loses the registered IPs of every vsys, also of those outside the group.
      const { serial } = targetParts(target);
      world.panorama.reboot(serial);
      for (const lost of serial ? targetsOfSerial(serial) : [PANORAMA]) {
        st.preseeded.delete(lost);
        // The other owners of the foreign tags register them again.
        seedForeign(world, lost);
        noteAuditOnly(st, lost, 'reboot');
      }
      bump(st.counts, 'reboot');
      return `reboot ${target} (registered IPs lost)`;
    }
    case 'firewall-connection': {
      const fw = pick(
        rng,
        world.panorama.firewalls().filter((f) => f.deviceGroup === CHAOS_DEVICE_GROUP),
      );
      world.panorama.setConnected(fw.serial, !fw.connected);
      bump(st.counts, fw.connected ? 'firewall-disconnect' : 'firewall-reconnect');
      if (fw.connected)
        for (const t of targetsOfSerial(fw.serial)) noteAuditOnly(st, t, 'firewall-disconnect');
      return `firewall ${fw.serial} ${fw.connected ? 'disconnected' : 'reconnected'}`;
    }
    case 'firewall-join': {
      const spare = world.panorama.firewalls().filter((f) => f.deviceGroup === SPARE_DEVICE_GROUP);
      if (spare.length === 0) return 'firewall-join: every firewall is in the group already';
      const fw = pick(rng, spare);
      world.panorama.moveFirewall(fw.serial, CHAOS_DEVICE_GROUP);
      bump(st.counts, 'firewall-join');
      noteAuditOnly(st, fw.serial, 'firewall-join');
      return `firewall ${fw.serial} joins ${CHAOS_DEVICE_GROUP}`;
    }
    case 'poison': {
      // Panorama refuses every uid call and `show devicegroups`, and the cluster API fails, until the
      // visible messages have used up their attempts and moved to the poison queues.
      world.panorama.failNext('http-503', { count: 10_000, type: 'user-id' });
      world.panorama.failNext('http-503', { count: 10_000, type: 'op' });
      for (const x of clusters) x.kube.injectFault({ type: 'status', code: 503 }, { times: 10_000 });
      let poisoned = 0;
      let attempts = 0;
      for (let k = 0; k <= st.maxDequeueCount; k++) {
        const r = await deliverRecomputes(st.main, { maxDequeueCount: st.maxDequeueCount });
        const d = await deliverDeltas(st.main, { maxDequeueCount: st.maxDequeueCount });
        countDelivery(st, 'recompute-msg', r);
        countDelivery(st, 'delta-msg', d);
        poisoned += r.poisoned + d.poisoned;
        attempts += r.received + d.received;
        if (r.received + d.received === 0) break;
      }
      world.panorama.clearFaults();
      world.panorama.setFaults({ ...st.faults, seed: seedWorld.seed * 100 + index });
      for (const x of clusters) x.kube.clearFaults();
      return `poison: ${attempts} failed deliveries, ${poisoned} messages poisoned`;
    }
    case 'replay-poison': {
      const r = await replayPoison(st.main.queues, { logger: seedWorld.logs });
      const moved = r.reduce((n, x) => n + x.moved, 0);
      bump(st.counts, 'poison-replayed', moved);
      return `replay-poison: ${r.map((x) => `${x.queue} ${x.moved}`).join(', ')}`;
    }
    case 'timer': {
      if (st.strict) {
        // The timer's recomputes without its audit.
        for (const x of clusters)
          await enqueueRecompute(st.main.queues, { cluster: x.name, reason: 'timer' }, seedWorld.now());
        bump(st.counts, 'timer');
        return 'timer (recomputes only)';
      }
      const r = await handleReconcileTimer(st.main);
      bump(st.counts, 'timer');
      return `timer: enqueued ${r.enqueued.join(',')}; audits ${r.audits.map((a) => `${a.target}:${a.status}`).join(',')}`;
    }
    case 'audit': {
      // auditTargets resolves every cluster's targets before its per-target try/catch, so a failed
      // `show devicegroups` aborts the whole audit (the timer catches and logs it); count it.
      const r = await auditTargets(st.main, { force: true }).catch((err: Error) => err);
      bump(st.counts, 'audit');
      if (r instanceof Error) {
        bump(st.counts, 'audit:threw');
        return `audit threw: ${r.message.slice(0, 120)}`;
      }
      return `audit: ${r.map((a) => `${a.target}:${a.status}+${a.registered}-${a.unregistered}`).join(', ')}`;
    }
    case 'kube-fault': {
      const times = int(rng, 1, 3);
      const fault = chance(rng, 0.5)
        ? ({ type: 'status', code: pick(rng, [500, 503, 429] as const) } as const)
        : ({ type: 'reset' } as const);
      c.kube.injectFault(fault, { times });
      bump(st.counts, `kube-fault:${fault.type === 'status' ? fault.code : 'reset'}`, times);
      return `kube-fault ${c.name}: ${JSON.stringify(fault)} x${times}`;
    }
    case 'migration':
      return migrationStep(world, st);
    case 'delete-while-busy':
      return deleteWhileBusyStep(world, st, pick(rng, deletable(st)));
    case 'whole-call-failure':
      return wholeCallFailureStep(world, st, pick(rng, deletable(st)));
    case 'storage-outage':
      return storageOutageStep(
        world,
        st,
        pick(
          rng,
          clusters.filter((x) => x !== st.migrating),
        ),
      );
    case 'stale-delete':
      return staleDeleteStep(world, st, pick(rng, deletable(st)));
    case 'firewall-leave':
      return firewallLeaveStep(world, st);
    case 'two-hosts':
      return twoHostsStep(world, st, index);
    case 'fault-burst': {
      const fault = pick(rng, [...FAULT_KINDS, 'key-refused'] as const);
      const count = int(rng, 1, 3);
      world.panorama.failNext(fault, { count, type: 'user-id' });
      return `fault-burst: next ${count} user-id call(s) get ${fault}`;
    }
  }
  return kind;
}

/**
 * Two Functions hosts on one storage account, each running both queues as its listeners do
 * (host.json batches), sometimes with the timer's audit on one of them meanwhile, often after a
 * backlog of generations, against a Panorama that answers as slowly as a device: where the
 * per-target in-flight peak is measured.
 */
async function twoHostsStep(world: ChaosWorld, st: SeedState, index: number): Promise<string> {
  const { seed } = st.seedWorld;
  const backlog = chance(st.rng, 0.6) ? await buildBacklog(st, int(st.rng, 2, 6)) : '';
  world.panorama.setFaults({
    ...st.faults,
    latencyMs: Math.max(st.faults.latencyMs ?? 0, DEVICE_LATENCY_MS),
    seed: seed * 100 + index,
  });
  const options = { maxDequeueCount: st.maxDequeueCount };
  const audit = chance(st.rng, 0.4)
    ? auditTargets(st.other, { force: true }).catch((err: Error) => err)
    : undefined;
  let recomputes = 0;
  let deltas = 0;
  for (let round = 0; round < 3; round++) {
    const runs = await Promise.all(
      [st.main, st.other].flatMap((host) => [
        hostDeliverRecomputes(host, options),
        hostDeliverDeltas(host, options),
      ]),
    );
    runs.forEach((r, i) => {
      countDelivery(st, i % 2 === 0 ? 'recompute-msg' : 'delta-msg', r);
      if (i % 2 === 0) recomputes += r.received;
      else deltas += r.received;
    });
    if (runs.every((r) => r.received === 0)) break;
  }
  const audited = audit ? `; audit meanwhile: ${describeAudit(await audit)}` : '';
  world.panorama.setFaults({ ...st.faults, seed: seed * 100 + index + 50 });
  if (deltas > 1 || audit) noteAuditOnly(st, '*', 'concurrent-push');
  bump(st.counts, 'two-hosts');
  const peaks = Object.entries(world.panorama.stats.maxInFlight).map(
    ([t, n]) => [t || PANORAMA, n] as [string, number],
  );
  const batches = `${HOST_QUEUES.batchSize}+${HOST_QUEUES.newBatchThreshold}`;
  return `two-hosts (batches ${batches})${backlog}: ${recomputes} recomputes, ${deltas} deltas${audited}; calls in flight at most ${formatPeaks(peaks)}`;
}

/**
 * A backlog of generations, as after a spell without deliveries: every live cluster changed and
 * recomputed `rounds` times, each generation's deltas queued for every target.
 */
async function buildBacklog(st: SeedState, rounds: number): Promise<string> {
  const outcomes: string[] = [];
  for (let k = 0; k < rounds; k++) {
    for (const c of deletable(st)) {
      mutate(st, c);
      outcomes.push(await tryRecompute(st, c.name, st.main));
    }
  }
  bump(st.counts, 'two-hosts:backlog');
  return ` after a backlog of ${rounds} rounds (${outcomes.join(', ')})`;
}

// ---------------------------------------------------------------------------------------------
// Scenario steps: each builds one hostile situation with Panorama's random faults paused and
// checks its own invariant exactly (exact tag sets, head fields). A violation is recorded and the
// seed goes on; the seed fails at the end naming every violation (`violation:<scenario>` counts).
// ---------------------------------------------------------------------------------------------

/** How long a scenario waits for the pipeline to converge once its fault is gone. */
const SCENARIO_BOUND_MS = 5000;
/** The bound on a cluster's convergence after storage is back (the lease lasts 11 minutes). */
const OUTAGE_BOUND_MS = 6000;

/** Live clusters a scenario may delete or disturb (not the migrating one). */
function deletable(st: SeedState): ChaosClusterSpec[] {
  return st.seedWorld.clusters.filter((c) => st.live.get(c.name) && c !== st.migrating);
}

function violate(st: SeedState, scenario: string, detail: string): void {
  const where = st.stepIndex < 0 ? 'final' : `#${st.stepIndex}`;
  st.violations.push(`${where} ${scenario}: ${detail}`);
  bump(st.counts, `violation:${scenario}`);
  const seeds = runSummary.violations.get(scenario) ?? [];
  if (!seeds.includes(st.seedWorld.seed)) seeds.push(st.seedWorld.seed);
  runSummary.violations.set(scenario, seeds);
}

/** The cluster is deleted: its Services are gone and ARM answers 404 for it. */
function removeCluster(world: ChaosWorld, st: SeedState, target: ChaosClusterSpec): void {
  for (const s of target.kube.services())
    target.kube.deleteService(s.metadata?.namespace ?? '', s.metadata?.name ?? '');
  st.shapes.get(target.name)?.clear();
  st.live.set(target.name, false);
  world.arm.removeCluster(armResourceIdOf(target.name));
}

/** Runs `fn` with Panorama's standing and queued faults off, then restores the standing ones. */
async function calmPanorama<T>(world: ChaosWorld, st: SeedState, fn: () => Promise<T>): Promise<T> {
  world.panorama.clearFaults();
  try {
    return await fn();
  } finally {
    world.panorama.setFaults({ ...st.faults, seed: st.seedWorld.seed * 100 + st.stepIndex });
  }
}

/** Lets the leases of crashed instances expire first (as `time-passes`): a scenario needs the lease. */
function expireDeadLeases(st: SeedState): string {
  if (st.crashed.size === 0) return '';
  st.seedWorld.clockOffsetMs += (st.main.leaseSeconds + 1) * 1000;
  const released = [...st.crashed].join(',');
  st.crashed.clear();
  return ` (dead leases of ${released} expired first)`;
}

/** Delivers the visible messages of both queues until `done()` holds or `boundMs` passed. */
async function deliverUntil(
  st: SeedState,
  boundMs: number,
  done: () => Promise<boolean> | boolean,
): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  const options: DeliveryOptions = { maxDequeueCount: st.maxDequeueCount };
  for (;;) {
    const r = await deliverRecomputes(st.main, options);
    const d = await deliverDeltas(st.main, options);
    countDelivery(st, 'recompute-msg', r);
    countDelivery(st, 'delta-msg', d);
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    if (r.received + d.received === 0) await sleep(200);
  }
}

const recomputeQueueEmpty = async (st: SeedState) => (await st.main.queues.depth(RECOMPUTE_QUEUE)) === 0;

const registeredOn = (world: ChaosWorld, target: string) => registeredOnTarget(world.panorama, target);

/** The target ids of one firewall that the checks read (every vsys of a multi-vsys one). */
const targetsOfSerial = (serial: string) => FIREWALL_TARGETS.filter((t) => targetParts(t).serial === serial);

/** Where a cluster's tags go now (connected firewalls of its device groups, or Panorama). */
function connectedTargets(world: ChaosWorld, c: ChaosClusterSpec): string[] {
  if (c.deviceGroups.length === 0) return [PANORAMA];
  return c.deviceGroups.flatMap((g) => groupTargets(world.panorama, g, true));
}

/** What the cluster's tags are by the simulator's current Services. */
function desiredOf(st: SeedState, c: ChaosClusterSpec): IpTagMap {
  const config = st.seedWorld.configured.find((x) => x.name === c.name) as ClusterConfig;
  return computeIpTags(c.kube.services(), { cluster: c.name, selectors: config.labelSelectors }).tags;
}

function describeHead(head: Awaited<ReturnType<PipelineDeps['clusterState']['getHead']>>): string {
  if (!head) return 'absent';
  const lease = head.leaseOwner ? `held by ${head.leaseOwner} until ${head.leaseUntil}` : 'free';
  return `generation ${head.generation}/pending ${head.pendingGeneration}, lease ${lease}, last result ${head.lastRecomputeResult || '-'}, deletedAt ${head.deletedAt || '-'}`;
}

function describeAudit(r: Awaited<ReturnType<typeof auditTargets>> | Error): string {
  if (r instanceof Error) return `threw ${r.message.slice(0, 100)}`;
  return r.map((a) => `${a.target}:${a.status}+${a.registered}-${a.unregistered}`).join(', ') || 'nothing';
}

const describeTags = (m: IpTagMap) => [...m].map(([ip, tags]) => `${ip} [${tags.join(', ')}]`).join('; ');

// ---- 1. migration from the Panorama plugin -----------------------------------------------------

/** What the Panorama plugin registered for a cluster: its Services' tags and those of Services since deleted. */
function pluginTags(st: SeedState, c: ChaosClusterSpec): IpTagMap {
  const config = st.seedWorld.configured.find((x) => x.name === c.name) as ClusterConfig;
  const gone: ServiceShape[] = [
    {
      namespace: 'legacy',
      name: 'gone',
      ips: ['10.20.0.8'],
      labels: { app: 'api', env: 'prod' },
      kind: 'internal',
    },
    { namespace: 'legacy', name: 'old', ips: ['10.20.0.2'], labels: { app: 'web' }, kind: 'internal' },
  ];
  const services = [...c.kube.services(), ...gone.map(serviceOf)];
  return computeIpTags(services, { cluster: c.name, selectors: config.labelSelectors }).tags;
}

/** Seeds the plugin's tags on the cluster's firewalls and makes its Kubernetes API answer 403. */
function startMigration(world: ChaosWorld, st: SeedState, c: ChaosClusterSpec): string {
  const tags = pluginTags(st, c);
  const members = connectedTargets(world, c);
  for (const fw of members) {
    seedTagsOnTarget(world.panorama, tags, fw);
    st.preseeded.set(fw, new Map([...tags].map(([ip, t]) => [ip, [...t].sort()])));
    noteAuditOnly(st, fw, 'migration: plugin tags of Services that no longer exist');
  }
  c.kube.setForbidden(true);
  st.migrating = c;
  bump(st.counts, 'migration-seed');
  return `  migration: ${c.name} takes over ${tags.size} IPs of plugin tags on ${members.join(',')}; its Kubernetes API answers 403 until the migration step`;
}

/** While the cluster has never committed, every firewall holds exactly the plugin's tags of it. */
function checkPluginTags(world: ChaosWorld, st: SeedState, where: string): void {
  const c = st.migrating;
  if (!c) return;
  const diff = FIREWALL_TARGETS.flatMap((fw) =>
    tagMapDiff(fw, st.preseeded.get(fw) ?? new Map(), ownedOnDevice(world, fw, [c])),
  );
  if (diff.length) {
    violate(
      st,
      'migration',
      `${where}: plugin tags of never-committed ${c.name} changed: ${diff.join('; ')}`,
    );
  }
}

/** Scenario 1: the first recompute fails (403) while an audit runs; then the 403 is lifted. */
async function migrationStep(world: ChaosWorld, st: SeedState): Promise<string> {
  const c = st.migrating as ChaosClusterSpec;
  return calmPanorama(world, st, async () => {
    const first = await tryRecompute(st, c.name, st.main);
    const [audit, retry] = await Promise.all([
      auditTargets(st.other, { force: true }).catch((err: Error) => err),
      tryRecompute(st, c.name, st.main),
    ]);
    checkPluginTags(world, st, 'after an audit during the failing first recompute');
    c.kube.setForbidden(false);
    st.migrating = undefined;
    const lifted = await tryRecompute(st, c.name, st.main);
    bump(st.counts, 'migration');
    return `migration ${c.name}: first recompute ${first}; audit ${describeAudit(audit)} while ${retry}; 403 lifted: ${lifted}`;
  });
}

// ---- 2. a delete while another recompute holds the lease, which then fails ---------------------

/** The committed (ip, tag) pairs of `before` that are still registered on the cluster's targets. */
function stillRegistered(world: ChaosWorld, c: ChaosClusterSpec, before: IpTagMap): string[] {
  return connectedTargets(world, c).flatMap((t) => {
    const reg = registeredOn(world, t);
    return [...before].flatMap(([ip, tags]) => {
      const still = tags.filter((x) => reg.get(ip)?.includes(x));
      return still.length ? [`${t} ${ip} [${still.join(', ')}]`] : [];
    });
  });
}

/**
 * Scenario 2: a recompute of another instance holds the lease (inside its Service listing) when
 * the delete request is delivered — `recompute-first`: the delete was requested after it started
 * (busy); `event-first`: the delete waited in the queue and the recompute started later. Then the
 * holding recompute fails. The delete must still be carried out: a tombstone, and every committed
 * tag unregistered from the cluster's targets.
 */
async function deleteWhileBusyStep(world: ChaosWorld, st: SeedState, target: ChaosClusterSpec) {
  const note = expireDeadLeases(st);
  const order = pick(st.rng, ['recompute-first', 'event-first'] as const);
  bump(st.counts, `delete-while-busy:${order}`);
  return calmPanorama(world, st, async () => {
    const before = await st.main.clusterState.readIpTags(target.name);
    const gate = new ServicesGate();
    const holder = st.seedWorld.instance({ name: 'holder', timeoutMs: CHAOS_TIMEOUT_MS, gate });
    const deleteEvent = async () => {
      removeCluster(world, st, target);
      await handleResourceEvent(clusterEvent(target.name, 'Delete'), st.main);
    };
    if (order === 'event-first') {
      await deleteEvent();
      st.seedWorld.clockOffsetMs += 5000;
    }
    const held = tryRecompute(st, target.name, holder);
    const holding = await Promise.race([gate.entered.then(() => true), held.then(() => false)]);
    if (order === 'recompute-first') await deleteEvent();
    const during = await deliverRecomputes(st.main, { maxDequeueCount: st.maxDequeueCount });
    countDelivery(st, 'recompute-msg', during);
    target.kube.injectFault({ type: 'status', code: 503 }, { times: KUBE_MAX_ATTEMPTS });
    gate.open();
    const failed = await held;
    target.kube.clearFaults();
    const tombstoned = async () => {
      const h = await st.main.clusterState.getHead(target.name);
      return !!h?.deletedAt && !h.leaseOwner;
    };
    const deleted = await deliverUntil(st, SCENARIO_BOUND_MS, tombstoned);
    const summary = `delete-while-busy ${order} ${target.name}${note}: holder ${holding ? 'held the lease' : 'did NOT hold the lease'}; delivered meanwhile: ${during.outcomes.join(', ') || 'nothing'}; holder ${failed}`;
    if (!deleted) {
      const head = await st.main.clusterState.getHead(target.name);
      violate(
        st,
        'delete-while-busy',
        `${order}: the delete of ${target.name} was lost — ${SCENARIO_BOUND_MS} ms after the holding recompute failed, head ${describeHead(head)} (delivered while held: ${during.outcomes.join(', ') || 'nothing'})`,
      );
      return `${summary}; DELETE LOST`;
    }
    const gone = await deliverUntil(
      st,
      SCENARIO_BOUND_MS,
      () => stillRegistered(world, target, before).length === 0,
    );
    if (!gone) {
      violate(
        st,
        'delete-while-busy',
        `${order}: tags of deleted ${target.name} still registered: ${stillRegistered(world, target, before).join('; ')}`,
      );
    }
    return `${summary}; deleted${gone ? ', tags gone' : ', TAGS LEFT'}`;
  });
}

// ---- 3. whole-call failures of type=user-id ------------------------------------------------------

/** The parts of a recompute's deltas that are not on its (connected) targets. */
function unappliedDeltas(world: ChaosWorld, o: RecomputeOutcome): string[] {
  const connected = (t: string) =>
    t === PANORAMA || !!world.panorama.firewalls().find((f) => f.serial === targetParts(t).serial)?.connected;
  return o.targets.filter(connected).flatMap((t) => {
    const reg = registeredOn(world, t);
    return o.deltas.flatMap((d) => {
      const have = reg.get(d.ip) ?? [];
      const missing = d.register.filter((x) => !have.includes(x));
      const stale = d.unregister.filter((x) => have.includes(x));
      return missing.length || stale.length
        ? [`${t} ${d.ip}: not registered [${missing.join(', ')}], not unregistered [${stale.join(', ')}]`]
        : [];
    });
  });
}

/** Delivers the delta queue under a fault: once (`retried`), or until the messages are used up (`poisoned`). */
async function deliverUnderFault(st: SeedState, mode: 'retried' | 'poisoned'): Promise<string> {
  const outcomes: string[] = [];
  for (let k = 0; k <= st.maxDequeueCount; k++) {
    const d = await deliverDeltas(st.main, { maxDequeueCount: st.maxDequeueCount });
    countDelivery(st, 'delta-msg', d);
    outcomes.push(...d.outcomes);
    if (d.received === 0 || mode === 'retried') break;
  }
  return outcomes.join(', ') || 'nothing delivered';
}

/**
 * Scenario 3: Panorama answers `type=user-id` calls with HTTP 404, or HTTP 200 and an HTML
 * maintenance page, once or twice (`retried`) or until the messages are poisoned (`poisoned`, then
 * replayed). The recompute's delta must end up on every connected target.
 */
async function wholeCallFailureStep(world: ChaosWorld, st: SeedState, target: ChaosClusterSpec) {
  const note = expireDeadLeases(st);
  const fault = pick(st.rng, ['http-404', 'maintenance-page'] as const);
  const mode = pick(st.rng, ['retried', 'poisoned'] as const);
  target.kube.clearFaults();
  const change = mutate(st, target, 'add');
  return calmPanorama(world, st, async () => {
    const o = await recomputeCluster(request(target.name, st.seedWorld.now()), st.main).catch(
      (e: Error) => e,
    );
    if (o instanceof Error || o.status !== 'changed') {
      return `whole-call-failure ${target.name}: no delta to lose (${o instanceof Error ? `threw ${o.message.slice(0, 80)}` : o.status}) after [${change}]`;
    }
    bump(st.counts, `whole-call-failure:${fault}:${mode}`);
    world.panorama.failNext(fault, {
      type: 'user-id',
      count: mode === 'retried' ? int(st.rng, 1, 2) : 10_000,
    });
    const under = await deliverUnderFault(st, mode);
    world.panorama.clearFaults();
    const replayed = (await replayPoison(st.main.queues, { logger: st.seedWorld.logs })).reduce(
      (n, r) => n + r.moved,
      0,
    );
    bump(st.counts, 'poison-replayed', replayed);
    const applied = await deliverUntil(st, SCENARIO_BOUND_MS, () => unappliedDeltas(world, o).length === 0);
    if (!applied) {
      violate(
        st,
        'whole-call-failure',
        `${fault} (${mode}) lost generation ${o.generation} of ${target.name}: ${SCENARIO_BOUND_MS} ms after Panorama recovered (${replayed} replayed) ${unappliedDeltas(world, o).join('; ')}; deliveries under the fault: ${under}`,
      );
    }
    return `whole-call-failure ${fault} ${mode} ${target.name}@${o.generation}${note} after [${change}]: under the fault ${under}; ${replayed} replayed; ${applied ? 'delta applied' : 'DELTA LOST'}`;
  });
}

// ---- 4. storage outages during recomputes --------------------------------------------------------

/** Recomputes until one runs (not busy, no error) or `boundMs` passed. */
async function recomputeUntilRun(st: SeedState, cluster: string, deps: PipelineDeps, boundMs: number) {
  const started = Date.now();
  for (;;) {
    const o = await recomputeCluster(request(cluster, st.seedWorld.now()), deps).catch((e: Error) => e);
    const status =
      o instanceof Error ? `threw ${o.message.slice(0, 100)}` : `${o.status}@${o.generation ?? '-'}`;
    const ran = !(o instanceof Error) && ['changed', 'unchanged', 'deleted'].includes(o.status);
    if (ran || Date.now() - started > boundMs) return { ran, status, waitedMs: Date.now() - started };
    await sleep(500);
  }
}

/**
 * Scenario 4: storage becomes unreachable for 1.5–2.2 s at a point of a recompute (the recompute
 * fails, and so does everything else on the account meanwhile). Once storage is back, a recompute
 * by the same instance or another one must run within OUTAGE_BOUND_MS — not after the lease's
 * 11 minutes — and leave the state committed and equal to the cluster's Services.
 */
async function storageOutageStep(world: ChaosWorld, st: SeedState, target: ChaosClusterSpec) {
  const note = expireDeadLeases(st);
  target.kube.clearFaults();
  const change = st.live.get(target.name) ? mutate(st, target) : 'no change (deleted cluster)';
  const desired = desiredOf(st, target);
  const changed = tagMapDiff('', desired, await st.main.clusterState.readIpTags(target.name)).length > 0;
  // Every point in turn over the seeds and steps (a recompute without changes only reads).
  const points = ['read', 'pending', 'rows', 'commit'] as const;
  const at: OutagePoint = changed
    ? (points[(st.seedWorld.seed + st.stepIndex) % points.length] ?? 'read')
    : 'read';
  const plan: OutagePlan = { at, ms: int(st.rng, 1500, 2200) };
  const cut = st.seedWorld.instance({ name: 'outage', timeoutMs: CHAOS_TIMEOUT_MS, outage: plan });
  const same = chance(st.rng, 0.5);
  return calmPanorama(world, st, async () => {
    const during = await tryRecompute(st, target.name, cut);
    if (plan.started === undefined) {
      bump(st.counts, 'storage-outage:not-reached');
      return `storage-outage ${target.name} at ${at}: not reached (${during})`;
    }
    bump(st.counts, `storage-outage:at-${at}`);
    await plan.ended;
    const after = await recomputeUntilRun(st, target.name, same ? cut : st.main, OUTAGE_BOUND_MS);
    const head = await st.main.clusterState.getHead(target.name);
    const who = same ? 'the same instance' : 'another instance';
    const line = `storage-outage ${target.name}${note} after [${change}]: ${plan.ms} ms at ${at}, during: ${during}; then ${who}: ${after.status} after ${after.waitedMs} ms`;
    if (!after.ran) {
      violate(
        st,
        'storage-outage',
        `${target.name}: ${after.waitedMs} ms after a ${plan.ms} ms outage at ${at} ended, a recompute by ${who} still gets ${after.status}; head ${describeHead(head)}`,
      );
      st.seedWorld.clockOffsetMs += (st.main.leaseSeconds + 1) * 1000;
      return `${line}; STUCK (lease expired by the clock to go on)`;
    }
    const rows = await st.main.clusterState.readIpTags(target.name);
    const diff = tagMapDiff('state', desired, rows);
    if (head?.leaseOwner || head?.generation !== head?.pendingGeneration || diff.length) {
      violate(
        st,
        'storage-outage',
        `${target.name} after the outage at ${at}: head ${describeHead(head)}; ${diff.join('; ') || 'state = Services'}`,
      );
    }
    return `${line}; converged`;
  });
}

// ---- 5. stale and reordered Event Grid events ----------------------------------------------------

/** Unregisters of `desired` (ip, tag) pairs among `calls`. */
function wipedPairs(calls: readonly SimCall[], desired: IpTagMap): string[] {
  return calls.flatMap((call) =>
    (call.unregister ?? []).flatMap((e) => {
      const wiped = e.tags.filter((t) => desired.get(e.ip)?.includes(t));
      return wiped.length ? [`${call.target ?? PANORAMA} ${e.ip} [${wiped.join(', ')}]`] : [];
    }),
  );
}

/**
 * Scenario 5: a `managedClusters` write event, then a delete event of the same (still existing)
 * cluster with an `eventTime` hours old — after the write was acted on, or queued with it. No
 * desired tag may be unregistered anywhere, no tombstone written, and the state must equal the
 * cluster's Services.
 */
async function staleDeleteStep(world: ChaosWorld, st: SeedState, target: ChaosClusterSpec) {
  const note = expireDeadLeases(st);
  const variant = pick(st.rng, ['write-acted-on-first', 'both-queued'] as const);
  const hours = int(st.rng, 2, 20);
  target.kube.clearFaults();
  bump(st.counts, `stale-delete:${variant}`);
  return calmPanorama(world, st, async () => {
    const from = world.panorama.calls.length;
    const now = st.seedWorld.now();
    await handleResourceEvent(clusterEvent(target.name, 'Write', now), st.main);
    if (variant === 'write-acted-on-first')
      await deliverUntil(st, SCENARIO_BOUND_MS, () => recomputeQueueEmpty(st));
    const old = new Date(now.getTime() - hours * 3_600_000);
    const mapped = await handleResourceEvent(clusterEvent(target.name, 'Delete', old), st.main);
    await deliverUntil(st, SCENARIO_BOUND_MS, () => recomputeQueueEmpty(st));
    const desired = desiredOf(st, target);
    const head = await st.main.clusterState.getHead(target.name);
    const rows = await st.main.clusterState.readIpTags(target.name);
    const problems = [
      ...(head?.deletedAt ? [`tombstone written (head ${describeHead(head)})`] : []),
      ...wipedPairs(world.panorama.calls.slice(from), desired).map((w) => `unregistered ${w}`),
      ...tagMapDiff('state', desired, rows),
    ];
    if (problems.length) {
      violate(
        st,
        'stale-delete',
        `${variant}, delete event ${hours} h old after a write of existing ${target.name}: ${problems.join('; ')}`,
      );
    }
    return `stale-delete ${variant} ${target.name}${note}: delete event ${hours} h old mapped to ${mapped.kind === 'recompute' ? `deleted=${mapped.deleted}` : mapped.kind}; ${problems.length ? 'TAGS WIPED' : 'tags kept'}`;
  });
}

// ---- 6. a firewall leaves the cluster's device group ---------------------------------------------

/**
 * Scenario 6: a connected firewall moves from the cluster's notify device group to another one
 * (never the last member: a group resolving to no firewall holds removals). After the next
 * recompute (its deltas pushed) and an audit, the firewall holds none of the cluster's tags.
 */
async function firewallLeaveStep(world: ChaosWorld, st: SeedState): Promise<string> {
  const d = st.seedWorld.clusters.find((c) => c.deviceGroups.includes(CHAOS_DEVICE_GROUP));
  const members = world.panorama.firewalls().filter((f) => f.deviceGroup === CHAOS_DEVICE_GROUP);
  // The multi-vsys firewall stays (moving it would move all its vsys, also those of other groups).
  const candidates = members.filter((f) => f.connected && !f.vsysGroups);
  if (!d || !st.live.get(d.name) || members.length < 2 || candidates.length === 0) {
    return `firewall-leave: skipped (${members.length} members, ${candidates.length} connected)`;
  }
  const fw = pick(st.rng, candidates);
  const note = expireDeadLeases(st);
  const held = ownedOnDevice(world, fw.serial, [d]);
  world.panorama.moveFirewall(fw.serial, SPARE_DEVICE_GROUP);
  bump(st.counts, 'firewall-leave');
  return calmPanorama(world, st, async () => {
    d.kube.clearFaults();
    const recompute = await tryRecompute(st, d.name, st.main);
    await deliverUntil(st, 3000, async () => (await st.main.queues.depth(DELTA_QUEUE)) === 0);
    const audit = await auditTargets(st.main, { force: true, clusters: [d.name] }).catch((e: Error) => e);
    const left = ownedOnDevice(world, fw.serial, [d]);
    if (left.size) {
      violate(
        st,
        'firewall-leave',
        `${fw.serial} left ${CHAOS_DEVICE_GROUP} but still holds tags of ${d.name} after the next recompute (${recompute}) and audit (${describeAudit(audit)}): ${describeTags(left)}`,
      );
    }
    return `firewall-leave ${fw.serial} -> ${SPARE_DEVICE_GROUP}${note}: it held ${held.size} IPs of ${d.name}; recompute ${recompute}; audit ${describeAudit(audit)}; ${left.size ? 'TAGS LEFT' : 'tags removed'}`;
  });
}

async function runSeed(world: ChaosWorld, seed: number): Promise<void> {
  const started = Date.now();
  const rng = seededRandom(seed * 7919 + 104_729);
  const seedWorld = await world.startSeed(seed, [
    { role: 'p', labelSelectors: SELECTORS.p },
    { role: 'd', labelSelectors: SELECTORS.d },
  ]);
  const st: SeedState = {
    rng,
    kindRng: seededRandom(seed * 31 + 7),
    seedWorld,
    main: seedWorld.instance({ name: 'main', timeoutMs: CHAOS_TIMEOUT_MS }),
    other: seedWorld.instance({ name: 'other', timeoutMs: CHAOS_TIMEOUT_MS }),
    shapes: new Map(seedWorld.clusters.map((c) => [c.name, new Map()])),
    live: new Map(seedWorld.clusters.map((c) => [c.name, true])),
    maxDequeueCount: int(rng, 2, 4),
    counts: new Map(),
    log: [],
    auditOnly: new Map(),
    crashed: new Set(),
    strict: chance(rng, 0.4),
    faults: {},
    stepKind: 'setup',
    stepIndex: 0,
    preseeded: new Map(),
    violations: [],
    maxInFlight: new Map(),
  };
  const { log } = st;
  const [p, d] = seedWorld.clusters;
  // Migration seeds (half of the seeds with audits): `d` takes over tags the Panorama plugin registered.
  const migration = !st.strict && chance(rng, 0.5);

  // Foreign tags on every target, and a stale owned tag (a manual change) that the audit must remove.
  for (const target of [PANORAMA, ...FIREWALL_TARGETS]) seedForeign(world, target);
  world.panorama.seedTags([{ ip: '10.20.0.9', tags: [`aks.${p?.name}.ghost`] }]);
  for (const c of seedWorld.clusters) {
    for (let i = int(rng, 2, 4); i > 0; i--) mutate(st, c, 'add');
  }
  if (migration && d) log.push(startMigration(world, st, d));
  // A running system: the clusters recomputed once (their deltas still queued) before the chaos starts.
  for (const c of seedWorld.clusters.filter((x) => x !== st.migrating))
    log.push(`  initial recompute ${c.name}: ${await tryRecompute(st, c.name, st.main)}`);
  const rate = FAULT_RATE * (0.5 + rng());
  const latencyMs = chance(rng, 0.3) ? int(rng, 1, 15) : 0;
  st.faults = { errorRate: rate, errorFaults: FAULT_KINDS, seed, latencyMs };
  world.panorama.setFaults(st.faults);
  const steps = int(rng, MIN_STEPS, MAX_STEPS);
  const setupDone = Date.now();
  log.push(
    `seed ${seed}${st.strict ? ' (audit-free)' : ''}: ${steps} steps, Panorama fault rate ${rate.toFixed(3)}, latency ${latencyMs} ms, maxDequeueCount ${st.maxDequeueCount}`,
  );
  for (const c of seedWorld.clusters) {
    log.push(`  ${c.name} starts with ${c.kube.services().length} Services`);
  }

  const ha = planHaFailover(seed, steps);
  let failure: unknown;
  try {
    foldInFlight(world, st, 'setup');
    for (let i = 1; i <= steps; i++) {
      if (ha?.at === i) {
        const now = world.failover(ha.how);
        world.panorama.setFaults({ ...st.faults, seed: seed * 100 + i });
        runSummary.haFailovers[ha.how]++;
        bump(st.counts, `ha-failover:${ha.how}`);
        log.push(
          `-- before #${i}: ha-failover: the active Panorama ${ha.how === 'down' ? 'goes down' : 'turns passive'}; ${now} is active`,
        );
      }
      const t0 = Date.now();
      const line = await step(world, st, i);
      foldInFlight(world, st, `#${i} ${st.stepKind}`);
      log.push(`#${i} ${line} [${Date.now() - t0} ms]`);
    }

    // ---- the end: faults off, poison replayed, final recompute + drain, audit + drain ----
    const stepsDone = Date.now();
    st.stepIndex = -1;
    st.stepKind = 'final';
    if (st.migrating) {
      checkPluginTags(world, st, 'at the end of the steps');
      log.push(`-- final: the 403 of migrating ${st.migrating.name} lifted`);
      st.migrating.kube.setForbidden(false);
      st.migrating = undefined;
    }
    log.push(
      `-- final: faults off, firewalls reconnected, dead leases expired (setup ${setupDone - started} ms, steps ${stepsDone - setupDone} ms)`,
    );
    for (const serial of SERIALS) world.panorama.setConnected(serial, true);
    for (const peer of [world.haPair.primary, world.haPair.secondary])
      for (const call of peer.calls) if (call.fault) bump(st.counts, `panorama:${call.fault}`);
    world.panorama.clearFaults();
    for (const c of seedWorld.clusters) c.kube.clearFaults();
    seedWorld.clockOffsetMs += (st.main.leaseSeconds + 1) * 1000;
    const final = seedWorld.instance({ name: 'final' });
    // Reconcile to a fixpoint: replay poison; the timer's recompute of every configured cluster
    // (deleted ones included: CLUSTERS still lists them); a direct recompute of every live cluster;
    // drain everything (deferred and busy messages come back later). Stop when a round changes nothing.
    for (let round = 1; ; round++) {
      const replayed = await replayPoison(final.queues, { logger: seedWorld.logs });
      const moved = replayed.reduce((n, r) => n + r.moved, 0);
      bump(st.counts, 'poison-replayed', moved);
      for (const c of seedWorld.clusters) {
        await enqueueRecompute(final.queues, { cluster: c.name, reason: 'timer' }, seedWorld.now());
      }
      const first = await settleQueues(final, { maxDequeueCount: 10, boundMs: 60_000 });
      const statuses: string[] = [];
      for (const c of seedWorld.clusters.filter((x) => st.live.get(x.name))) {
        const o = await recomputeCluster(request(c.name, seedWorld.now()), final);
        statuses.push(`${c.name}:${o.status}@${o.generation ?? '-'}`);
      }
      const second = await settleQueues(final, { maxDequeueCount: 10, boundMs: 60_000 });
      const depths = await queueDepths(final);
      const poison =
        (depths[poisonQueueName(DELTA_QUEUE)] ?? 0) + (depths[poisonQueueName(RECOMPUTE_QUEUE)] ?? 0);
      log.push(
        `   reconcile round ${round}: ${moved} replayed; settled ${first.delivered}+${second.delivered} messages (waited ${first.waitedMs + second.waitedMs} ms); final recomputes ${statuses.join(', ')}; poison ${poison}`,
      );
      if (poison === 0 && statuses.every((x) => x.includes(':unchanged@'))) break;
      if (round >= 4) throw new Error(`no fixpoint after ${round} reconcile rounds`);
    }

    // The seeded stale `ghost` tag is a manual change only the audit repairs; leave it out here.
    const before = divergence(world, seedWorld).filter(
      (l) => !/^panorama 10\.20\.0\.9: missing \[\] extra \[aks\.[^\]]*\.ghost\]$/.test(l),
    );
    if (before.length) {
      runSummary.preAuditDivergent++;
      const reasonsFor = (line: string) => {
        const target = line.split(' ')[0] ?? '';
        return [...(st.auditOnly.get(target) ?? []), ...(st.auditOnly.get('*') ?? [])];
      };
      log.push(
        `   before the audit: ${before.map((l) => `${l} (${reasonsFor(l).join(', ') || 'NO audit-only fault on this target'})`).join('; ')}`,
      );
      if (before.some((l) => reasonsFor(l).length === 0)) runSummary.unexplainedPreAudit.push(seed);
    }
    if (st.strict) {
      runSummary.strictSeeds++;
      expect(before, 'audit-free seed: the delta path alone converges before the audit').toEqual([]);
    }
    const audits = await auditTargets(final, { force: true });
    log.push(
      `   audit: ${audits.map((a) => `${a.target}:${a.status}+${a.registered}-${a.unregistered}`).join(', ')}`,
    );
    bump(
      st.counts,
      'audit-repaired-tags',
      audits.reduce((n, a) => n + a.registered + a.unregistered, 0),
    );
    expect(
      audits.filter((a) => a.status !== 'audited'),
      'every target audited',
    ).toEqual([]);
    await settleQueues(final, { maxDequeueCount: 10 });

    // ---- the check ----
    expect(await queueDepths(final), 'every queue empty').toEqual({
      [RECOMPUTE_QUEUE]: 0,
      [DELTA_QUEUE]: 0,
      [poisonQueueName(RECOMPUTE_QUEUE)]: 0,
      [poisonQueueName(DELTA_QUEUE)]: 0,
    });
    const want = desiredByTarget(world, seedWorld);
    for (const target of [PANORAMA, ...FIREWALL_TARGETS]) {
      const have = ownedOnDevice(world, target, seedWorld.clusters);
      expect(asObject(have), `owned tags on ${target}`).toEqual(asObject(want.get(target) ?? new Map()));
      const registered = registeredOn(world, target);
      for (const f of FOREIGN) {
        expect(registered.get(f.ip), `foreign tags of ${f.ip} on ${target}`).toEqual(
          expect.arrayContaining(f.tags),
        );
      }
    }
    for (const c of seedWorld.clusters.filter((x) => !st.live.get(x.name))) {
      for (const target of [PANORAMA, ...FIREWALL_TARGETS]) {
        expect(ownedOnDevice(world, target, [c]).size, `tags of deleted ${c.name} on ${target}`).toBe(0);
      }
    }
    for (const c of seedWorld.clusters) {
      const head = await final.clusterState.getHead(c.name);
      expect(head?.generation, `${c.name} generation committed`).toBe(head?.pendingGeneration);
      expect(head?.leaseOwner, `${c.name} lease released`).toBeUndefined();
    }
    foldInFlight(world, st, 'final');
    log.push(`-- checked (final phase ${Date.now() - stepsDone} ms)`);
    log.push(`   Panorama calls in flight at most: ${formatPeaks(st.maxInFlight)}`);
  } catch (err) {
    failure = err;
  } finally {
    runSummary.seeds++;
    runSummary.steps += log.filter((l) => l.startsWith('#')).length;
    runSummary.ms += Date.now() - started;
    for (const [k, v] of st.counts) bump(totals, k, v);
  }
  if (st.violations.length) {
    const then = failure ? `; then: ${failure instanceof Error ? failure.message : String(failure)}` : '';
    failure = new Error(`scenario invariants violated: ${st.violations.join(' | ')}${then}`, {
      cause: failure,
    });
  }
  if (!failure) runSummary.passed++;
  if (failure) {
    const errors = seedWorld.logs.lines
      .filter((l) => l.level === 'error')
      .slice(-15)
      .map((l) => `   ${l.message} ${JSON.stringify(l.fields ?? {}).slice(0, 300)}`);
    const divergent = divergence(world, seedWorld);
    console.error(
      [
        `CHAOS seed ${seed} FAILED — replay with: CHAOS_SEED=${seed} npx vitest run test/integration/chaos`,
        ...log,
        `divergence now: ${divergent.join('; ') || 'none'}`,
        'last pipeline errors:',
        ...errors,
      ].join('\n'),
    );
    const message = failure instanceof Error ? failure.message : String(failure);
    throw new Error(`chaos seed ${seed} failed (CHAOS_SEED=${seed} to replay): ${message}`, {
      cause: failure,
    });
  }
  if (process.env.CHAOS_VERBOSE) console.log(log.join('\n'));
}

describe('seeded chaos: random cluster changes under faults converge to the desired tags on every target', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await startChaosWorld();
  });
  afterAll(async () => {
    const kinds = [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
    console.log(
      `chaos summary: ${runSummary.passed}/${runSummary.seeds} seeds passed, ${runSummary.steps} steps, ${(runSummary.ms / 1000).toFixed(1)} s; ` +
        `${runSummary.strictSeeds} audit-free seeds converged before the audit; HA failovers mid-run: ${runSummary.haFailovers.passive} to passive, ${runSummary.haFailovers.down} down; most calls holding a shared permit at once: ${runSummary.permitPeak}; pre-audit divergence in ${runSummary.preAuditDivergent} seeds (unexplained: ${runSummary.unexplainedPreAudit.join(',') || 'none'}); ` +
        `exercised: ${kinds.join(' ')}; ` +
        `scenario violations: ${
          [...runSummary.violations]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, seeds]) => `${k} in seeds ${seeds.join(',')}`)
            .join('; ') || 'none'
        }; ` +
        `most Panorama calls in flight at once per target (PAN-OS advises at most 5 per device): ${
          [...runSummary.maxInFlight]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([t, p]) => `${t}=${p.n} (${p.where})`)
            .join(', ') || 'none measured'
        }`,
    );
    await world?.stop();
  });

  for (const seed of SEEDS) {
    it(`seed ${seed}`, { timeout: 180_000 }, async () => {
      await runSeed(world, seed);
    });
  }

  // Measured, not bounded: more than 5 calls per device at once is a known open limit (handled elsewhere).
  it('measured the concurrent Panorama calls per firewall', () => {
    const peaks = FIREWALLS.map((f) => runSummary.maxInFlight.get(f)?.n ?? 0);
    expect(Math.max(...peaks), 'most calls in flight on one firewall').toBeGreaterThan(0);
  });

  it('failed the Panorama HA pair over mid-run on some seeds, and every call held a shared permit', () => {
    if (SEEDS.length >= 10) {
      expect(runSummary.haFailovers.passive, 'seeds whose active peer turned passive').toBeGreaterThan(0);
      expect(runSummary.haFailovers.down, 'seeds whose active peer went down').toBeGreaterThan(0);
    }
    expect(runSummary.permitPeak, 'calls holding a permit at once').toBeGreaterThan(1);
    expect(runSummary.permitPeak).toBeLessThanOrEqual(4);
  });
});
