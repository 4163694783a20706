import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import { QueueServiceClient } from '@azure/storage-queue';
import { type AzuriteServer, startAzurite } from '../../host/azurite.js';
import { loadHostSettings } from '../../host/loadHostSettings.js';
import { createAksAdapters } from '../../shared/aks/createAksAdapters.js';
import { type AppConfig, type ClusterConfig, loadConfig } from '../../shared/config/loadConfig.js';
import { InputError } from '../../shared/errors.js';
import type { KubeService, ServiceSource } from '../../shared/kubernetes/KubeService.js';
import { type LogLevel, memoryLogger } from '../../shared/logger.js';
import type { CallPermits } from '../../shared/panorama/CallPermits.js';
import { PanoramaClient } from '../../shared/panorama/PanoramaClient.js';
import { SharedCallLimit } from '../../shared/panorama/SharedCallLimit.js';
import type { PipelineDeps, RecomputePhase } from '../../shared/pipeline/PipelineDeps.js';
import type { PushOutcome } from '../../shared/pipeline/pushTagDeltas.js';
import { PUSH_STEP, RECOMPUTE_STEP } from '../../shared/pipeline/queueSteps.js';
import type { RecomputeOutcome } from '../../shared/pipeline/recomputeCluster.js';
import {
  decodeMessage,
  MessageQueues,
  type ReceivedMessage,
  type SendOptions,
} from '../../shared/queues/MessageQueues.js';
import { messageDisposition } from '../../shared/queues/messageDisposition.js';
import { runQueueStep } from '../../shared/queues/QueueStep.js';
import { DELTA_QUEUE, poisonQueueName, RECOMPUTE_QUEUE } from '../../shared/queues/queueNames.js';
import { createRuntime } from '../../shared/runtime/createRuntime.js';
import {
  CLUSTER_STATE_TABLE,
  type ClusterHead,
  ClusterStateStore,
} from '../../shared/state/ClusterStateStore.js';
import { permitPartition } from '../../shared/state/PermitRepository.js';
import { TARGET_STATE_TABLE, TargetStatusStore } from '../../shared/state/TargetStatusStore.js';
import { type ArmSimulator, startArmSimulator } from '../../sim/arm/startArmSimulator.js';
import {
  type KubernetesSimulator,
  startKubernetesSimulator,
} from '../../sim/kubernetes/startKubernetesSimulator.js';
import {
  type HaPeerName,
  type PanoramaHaPair,
  startPanoramaHaPair,
} from '../../sim/panorama/startPanoramaHaPair.js';
import type { PanoramaSimulator } from '../../sim/panorama/startPanoramaSimulator.js';
import { MemoryPermits } from './memoryPermits.js';

/**
 * The chaos test's world: ONE Azurite (behind a TCP proxy that can cut it off), ONE Panorama HA
 * pair (two simulators over one model; `PANORAMA_URL` names both), ONE ARM simulator (the clusters exist there until they are deleted) and one Kubernetes
 * simulator per cluster role, reused across seeds. Each seed gets fresh cluster names, empty tables
 * and queues, empty simulators, and its own configuration (the real `loadConfig`) and pipeline
 * instances — all on the one storage account, as several Functions hosts are.
 */

export const CHAOS_SUBSCRIPTION = '22222222-2222-2222-2222-222222222222';
/** The device group the firewall cluster notifies. */
export const CHAOS_DEVICE_GROUP = 'dg-chaos';
/** Where a firewall waits until it "joins" the device group. */
export const SPARE_DEVICE_GROUP = 'dg-spare';
export const FIREWALLS = ['0001', '0002', '0003'] as const;
/** The firewall that starts in the spare group and may join `dg-chaos` during a sequence. */
export const JOINING_FIREWALL = '0003';
/**
 * A multi-vsys firewall: its vsys2 belongs to `dg-chaos`, its vsys1 to {@link TENANT_DEVICE_GROUP},
 * which no cluster notifies — the cluster's tags must land in vsys2 and never in vsys1. It stays in
 * its groups (firewall-join and firewall-leave move single-vsys firewalls only).
 */
export const MULTI_VSYS_FIREWALL = '0004';
/** The device group holding vsys1 of {@link MULTI_VSYS_FIREWALL}. */
export const TENANT_DEVICE_GROUP = 'dg-tenant';
/** Every managed firewall's serial. */
export const SERIALS = [...FIREWALLS, MULTI_VSYS_FIREWALL] as const;
/** Every firewall target id whose registered IPs the checks read (`shared/panorama/targetId.ts`). */
export const FIREWALL_TARGETS = [
  ...FIREWALLS,
  `${MULTI_VSYS_FIREWALL}:vsys2`,
  `${MULTI_VSYS_FIREWALL}:vsys1`,
];
export const PANORAMA = 'panorama';
export const QUEUES = [
  RECOMPUTE_QUEUE,
  DELTA_QUEUE,
  poisonQueueName(RECOMPUTE_QUEUE),
  poisonQueueName(DELTA_QUEUE),
] as const;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Attempts of one Service listing (the harvester's retries), in every seed instance. */
export const KUBE_MAX_ATTEMPTS = 2;

/** Role of a cluster in a sequence: `p` registers on Panorama itself, `d` on a device group's firewalls. */
export type Role = 'p' | 'd';

export interface ChaosClusterSpec {
  role: Role;
  name: string;
  kube: KubernetesSimulator;
  labelSelectors: { name: string; selector: string }[];
  deviceGroups: string[];
}

export function nodeResourceGroupOf(cluster: string): string {
  return `MC_rg-${cluster}_${cluster}_westeurope`;
}

export function resourceGroupOf(cluster: string): string {
  return `rg-${cluster}`;
}

/** A shared "process": once dead, every storage call of the stores/queues built on it fails. */
export class ProcessDeath {
  dead = false;
  check(): void {
    if (this.dead) throw new Error('process is gone');
  }
  die(): never {
    this.dead = true;
    throw new Error('process is gone');
  }
}

/**
 * Where a dying recompute's process stops, by recompute phase (see {@link CRASH_PHASES}):
 * - `pending`: as it announces the pending generation (before any enqueue);
 * - `mid-enqueue`: after `sendsBeforeDeath` delta messages (see {@link DyingQueues});
 * - `rows`: as it writes the state snapshot (after every delta was enqueued);
 * - `commit`: as it commits (rows written, generation not committed).
 */
export type CrashPoint = 'pending' | 'mid-enqueue' | 'rows' | 'commit';

/** A state store on a dying process: once the process is dead, every call fails. */
export class DyingStateStore extends ClusterStateStore {
  constructor(
    table: TableClient,
    readonly death: ProcessDeath,
  ) {
    super(table);
  }
  override async getHead(cluster: string) {
    this.death.check();
    return super.getHead(cluster);
  }
  override async createHead(head: Omit<ClusterHead, 'etag'>) {
    this.death.check();
    return super.createHead(head);
  }
  override async readIpTags(cluster: string) {
    this.death.check();
    return super.readIpTags(cluster);
  }
  override async readIpTagsFor(...args: Parameters<ClusterStateStore['readIpTagsFor']>) {
    this.death.check();
    return super.readIpTagsFor(...args);
  }
  override async writeSnapshot(...args: Parameters<ClusterStateStore['writeSnapshot']>) {
    this.death.check();
    return super.writeSnapshot(...args);
  }
  override async pruneSnapshots(...args: Parameters<ClusterStateStore['pruneSnapshots']>) {
    this.death.check();
    return super.pruneSnapshots(...args);
  }
  override async replaceHead(head: ClusterHead) {
    this.death.check();
    return super.replaceHead(head);
  }
}

/** The recompute phase at which a process dies at `at` (`mid-enqueue` dies in {@link DyingQueues}). */
export const CRASH_PHASES: Record<Exclude<CrashPoint, 'mid-enqueue'>, RecomputePhase> = {
  pending: 'announce',
  rows: 'write-snapshot',
  commit: 'commit',
};

export class DyingQueues extends MessageQueues {
  sent = 0;
  constructor(
    service: QueueServiceClient,
    readonly death: ProcessDeath,
    readonly sendsBeforeDeath: number,
  ) {
    super(service);
  }
  override async sendText(queueName: string, text: string, options?: SendOptions) {
    this.death.check();
    if (queueName === DELTA_QUEUE && this.sent >= this.sendsBeforeDeath) this.death.die();
    await super.sendText(queueName, text, options);
    if (queueName === DELTA_QUEUE) this.sent++;
  }
  override async receive(queueName: string, count: number, visibility: number) {
    this.death.check();
    return super.receive(queueName, count, visibility);
  }
}

/** Where a recompute's storage goes away (see {@link OutageStateStore}). */
export type OutagePoint = 'read' | 'pending' | 'rows' | 'commit';

/**
 * A storage outage for one instance's recompute: at `at`, Azurite becomes unreachable for `ms`
 * (every instance of the seed loses it: they share the account). `started` is set when it began,
 * `ended` resolves when storage is back.
 */
export interface OutagePlan {
  at: OutagePoint;
  ms: number;
  started?: number;
  ended?: Promise<void>;
}

/**
 * A state store that cuts storage off at a chosen point of a recompute:
 * - `read`: the read of the committed state (after the lease was taken and the Services listed);
 * - `pending`: the head write that announces the pending generation;
 * - `rows`: the snapshot write (after every delta was enqueued);
 * - `commit`: the final head commit.
 */
export class OutageStateStore extends ClusterStateStore {
  constructor(
    table: TableClient,
    readonly plan: OutagePlan,
    readonly proxy: StorageProxy,
  ) {
    super(table);
  }
  #at(point: OutagePoint): void {
    if (this.plan.at !== point || this.plan.started !== undefined) return;
    this.plan.started = Date.now();
    this.plan.ended = this.proxy.outage(this.plan.ms);
  }
  override async readIpTags(...args: Parameters<ClusterStateStore['readIpTags']>) {
    this.#at('read');
    return super.readIpTags(...args);
  }
  override async writeSnapshot(...args: Parameters<ClusterStateStore['writeSnapshot']>) {
    this.#at('rows');
    return super.writeSnapshot(...args);
  }
  override async replaceHead(head: ClusterHead) {
    if (head.pendingGeneration > head.generation && head.leaseOwner) this.#at('pending');
    if (!head.leaseOwner && head.generation === head.pendingGeneration && head.generation > 0) {
      this.#at('commit');
    }
    return super.replaceHead(head);
  }
}

/**
 * Holds a recompute inside its Service listing (lease taken) until `open()`: `entered` resolves
 * once a listing is waiting.
 */
export class ServicesGate {
  #enter!: () => void;
  #open!: () => void;
  readonly entered = new Promise<void>((r) => {
    this.#enter = r;
  });
  readonly opened = new Promise<void>((r) => {
    this.#open = r;
  });
  open(): void {
    this.#open();
  }
  wrap(inner: ServiceSource): ServiceSource {
    return {
      listServices: async (cluster) => {
        this.#enter();
        await this.opened;
        return inner.listServices(cluster);
      },
    };
  }
}

export interface InstanceOptions {
  /** Lease owner id suffix (distinct instances compete for leases). */
  name?: string;
  /** Panorama client timeout (short during chaos so `hang` faults cost little). */
  timeoutMs?: number;
  /** Give the instance a process that dies at `crash` (state store and queues share it). */
  crash?: { at: CrashPoint; sendsBeforeDeath?: number; death: ProcessDeath };
  /**
   * Cut storage off during this instance's recompute. The instance's storage clients give up after
   * one quick retry: a time-compressed outage, longer than the SDK retries as a real one would be.
   */
  outage?: OutagePlan;
  /** Hold this instance's Service listings until the gate opens. */
  gate?: ServicesGate;
  logLevel?: LogLevel;
}

/** One seed's clusters, configuration and instances over the shared world. */
export interface SeedWorld {
  seed: number;
  clusters: ChaosClusterSpec[];
  config: AppConfig;
  configured: ClusterConfig[];
  /** Virtual clock offset (ms) shared by every instance of this seed: lease expiry without waiting. */
  clockOffsetMs: number;
  logs: ReturnType<typeof memoryLogger>;
  instance(options?: InstanceOptions): PipelineDeps;
  now(): Date;
  /**
   * The Panorama call limit every instance of the seed shares (`SharedCallLimit` over one in-memory
   * permit table, as the app's instances share the `panoramapermits` table): `limit` permits; `held`
   * counts the calls running with a permit now, over every instance, and `peak` the most at once.
   */
  permits: { limit: number; held: number; peak: number };
}

export interface ChaosWorld {
  azurite: AzuriteServer;
  /** The TCP proxy every seed instance reaches Azurite through. */
  storage: StorageProxy;
  /** The Panorama peer that is active now (the primary when neither is): faults and calls go there. */
  readonly panorama: PanoramaSimulator;
  /** Both peers of the Panorama HA pair. */
  haPair: PanoramaHaPair;
  /**
   * Fails the active peer over to the other one: `passive` swaps the roles (the old peer refuses
   * `type=user-id`), `down` drops every call to it. Returns the peer that is active now.
   */
  failover(how: 'passive' | 'down'): HaPeerName;
  /** Where the seed's clusters exist (`managedClusters`); a deleted cluster is removed. */
  arm: ArmSimulator;
  kube: Record<Role, KubernetesSimulator>;
  startSeed(
    seed: number,
    clusters: { role: Role; labelSelectors: { name: string; selector: string }[] }[],
  ): Promise<SeedWorld>;
  stop(): Promise<void>;
}

/** The ARM resource ID of a chaos cluster (as the ARM simulator and the AKS resource provider spell it). */
export function armResourceIdOf(cluster: string): string {
  return `/subscriptions/${CHAOS_SUBSCRIPTION}/resourcegroups/${resourceGroupOf(cluster)}/providers/Microsoft.ContainerService/managedClusters/${cluster}`;
}

/** Makes a chaos cluster exist in ARM (again). */
export function armAddCluster(arm: ArmSimulator, cluster: string): void {
  arm.addCluster({
    subscriptionId: CHAOS_SUBSCRIPTION,
    resourceGroup: resourceGroupOf(cluster),
    name: cluster,
    nodeResourceGroup: nodeResourceGroupOf(cluster),
  });
}

/** A credential that always returns the ARM simulator's token. */
function armCredential(arm: ArmSimulator): TokenCredential {
  return { getToken: async () => ({ token: arm.token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
}

// ---------------------------------------------------------------------------------------------
// Storage outages: a TCP proxy in front of Azurite's queue and table ports.
// ---------------------------------------------------------------------------------------------

/** A TCP proxy in front of Azurite's queue and table endpoints. */
export interface StorageProxy {
  /** Azurite's connection string with the queue and table endpoints through the proxy. */
  connectionString: string;
  readonly down: boolean;
  /**
   * Starts an outage now: open connections are reset and new ones refused for `ms`. Resolves when
   * storage is reachable again (an outage already running is extended, not doubled).
   */
  outage(ms: number): Promise<void>;
  stop(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

async function startStorageProxy(azurite: AzuriteServer): Promise<StorageProxy> {
  const live = new Set<Socket>();
  let downUntil = 0;
  let ended: Promise<void> = Promise.resolve();
  const isDown = () => Date.now() < downUntil;
  const forward = (upstreamPort: number) =>
    createServer((client) => {
      if (isDown()) {
        client.resetAndDestroy();
        return;
      }
      const upstream = netConnect(upstreamPort, '127.0.0.1');
      const close = () => {
        client.destroy();
        upstream.destroy();
        live.delete(client);
        live.delete(upstream);
      };
      for (const socket of [client, upstream]) {
        live.add(socket);
        socket.on('error', close);
        socket.on('close', close);
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
  const servers = [forward(azurite.queuePort), forward(azurite.tablePort)];
  const [queuePort, tablePort] = [await listen(servers[0] as Server), await listen(servers[1] as Server)];
  const connectionString = azurite.connectionString
    .replace(`:${azurite.queuePort}/`, `:${queuePort}/`)
    .replace(`:${azurite.tablePort}/`, `:${tablePort}/`);
  return {
    connectionString,
    get down() {
      return isDown();
    },
    outage(ms) {
      downUntil = Math.max(downUntil, Date.now() + ms);
      for (const socket of live) socket.resetAndDestroy();
      live.clear();
      const wait = async (): Promise<void> => {
        while (isDown()) await sleep(Math.max(1, downUntil - Date.now()));
      };
      ended = wait();
      return ended;
    },
    async stop() {
      for (const socket of live) socket.destroy();
      await Promise.all(servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
    },
  };
}

export async function startChaosWorld(): Promise<ChaosWorld> {
  const azurite = await startAzurite();
  const storage = await startStorageProxy(azurite);
  const arm = await startArmSimulator({ subscriptions: [CHAOS_SUBSCRIPTION] });
  const pair = await startPanoramaHaPair({
    deviceGroups: {
      [TENANT_DEVICE_GROUP]: [{ serial: MULTI_VSYS_FIREWALL, vsys: ['vsys1'] }],
      [CHAOS_DEVICE_GROUP]: [
        { serial: '0001' },
        { serial: '0002' },
        { serial: MULTI_VSYS_FIREWALL, vsys: ['vsys2'] },
      ],
      [SPARE_DEVICE_GROUP]: [{ serial: JOINING_FIREWALL }],
    },
  });
  const activePeer = () => (pair.active() === 'secondary' ? pair.secondary : pair.primary);
  const panorama = pair.primary;
  const kube: Record<Role, KubernetesSimulator> = {
    p: await startKubernetesSimulator(),
    d: await startKubernetesSimulator(),
  };
  const conn = azurite.connectionString;
  const queueService = QueueServiceClient.fromConnectionString(conn);
  const table = (name: string) =>
    TableClient.fromConnectionString(conn, name, { allowInsecureConnection: true });

  async function resetStorage(): Promise<void> {
    for (const q of QUEUES) {
      const client = queueService.getQueueClient(q);
      await client.createIfNotExists();
      await client.clearMessages();
    }
    for (const name of [CLUSTER_STATE_TABLE, TARGET_STATE_TABLE]) {
      const t = table(name);
      try {
        await t.createTable();
      } catch {
        // exists
      }
      const keys: { partitionKey: string; rowKey: string }[] = [];
      for await (const e of t.listEntities<object>({
        queryOptions: { select: ['PartitionKey', 'RowKey'] },
      })) {
        keys.push({ partitionKey: e.partitionKey as string, rowKey: e.rowKey as string });
      }
      for (const k of keys) await t.deleteEntity(k.partitionKey, k.rowKey);
    }
  }

  function resetSimulators(): void {
    pair.restore();
    pair.secondary.resetCalls();
    panorama.setDuplicateMode('error');
    for (const serial of FIREWALLS) {
      const group = serial === JOINING_FIREWALL ? SPARE_DEVICE_GROUP : CHAOS_DEVICE_GROUP;
      panorama.addFirewall(group, serial, { connected: true });
    }
    panorama.addFirewall(TENANT_DEVICE_GROUP, MULTI_VSYS_FIREWALL, { vsys: ['vsys1'] });
    panorama.addFirewall(CHAOS_DEVICE_GROUP, MULTI_VSYS_FIREWALL, { vsys: ['vsys2'] });
    for (const serial of SERIALS) {
      panorama.setConnected(serial, true);
      panorama.reboot(serial);
    }
    panorama.reboot();
    panorama.resetCalls();
    for (const c of arm.clusters()) arm.removeCluster(String(c.id));
    for (const k of Object.values(kube)) {
      k.clearFaults();
      k.setForbidden(false);
      for (const s of k.services())
        k.deleteService(s.metadata?.namespace ?? 'default', s.metadata?.name ?? '');
    }
  }

  return {
    azurite,
    storage,
    get panorama() {
      return activePeer();
    },
    haPair: pair,
    failover(how) {
      const from = pair.active() ?? 'primary';
      pair[from].clearFaults();
      if (how === 'passive') pair.failover();
      else pair.goDown(from);
      return pair.active() ?? 'primary';
    },
    arm,
    kube,
    async startSeed(seed, roles) {
      resetSimulators();
      await resetStorage();
      const clusters: ChaosClusterSpec[] = roles.map((r) => ({
        role: r.role,
        name: `aks-${r.role}${seed}`,
        kube: kube[r.role],
        labelSelectors: r.labelSelectors,
        deviceGroups: r.role === 'd' ? [CHAOS_DEVICE_GROUP] : [],
      }));
      for (const c of clusters) armAddCluster(arm, c.name);
      const clustersJson = clusters.map((c) => ({
        name: c.name,
        subscriptionId: CHAOS_SUBSCRIPTION,
        resourceGroup: resourceGroupOf(c.name),
        nodeResourceGroup: nodeResourceGroupOf(c.name),
        server: c.kube.url,
        caData: c.kube.caData,
        auth: { type: 'token', token: c.kube.token },
        labelSelectors: c.labelSelectors,
        deviceGroups: c.deviceGroups,
      }));
      const configFor = (timeoutMs: number) =>
        loadConfig({
          AzureWebJobsStorage: storage.connectionString,
          ARM_ENDPOINT: arm.url,
          PANORAMA_URL: pair.url,
          PANORAMA_API_KEY: pair.apiKey,
          PANORAMA_TIMEOUT_MS: String(timeoutMs),
          CLUSTERS: JSON.stringify(clustersJson),
        });
      const config = configFor(5000);
      const logs = memoryLogger('warn');
      let instances = 0;
      const permitTable = new MemoryPermits();
      const permits = { limit: config.panorama.concurrency, held: 0, peak: 0 };
      const sharedLimit = (owner: string): CallPermits => {
        const limit = new SharedCallLimit({
          permits: permitTable,
          partition: permitPartition(config.panorama.url),
          limit: permits.limit,
          permitMs: config.panoramaPermitSeconds * 1000,
          maxWaitMs: 120_000,
          owner,
          logger: logs,
        });
        return {
          withPermit: (call) =>
            limit.withPermit(async () => {
              permits.peak = Math.max(permits.peak, ++permits.held);
              try {
                return await call();
              } finally {
                permits.held--;
              }
            }),
        };
      };
      const seedWorld: SeedWorld = {
        seed,
        clusters,
        config,
        configured: config.clusters,
        clockOffsetMs: 0,
        logs,
        permits,
        now: () => new Date(Date.now() + seedWorld.clockOffsetMs),
        instance(options = {}) {
          const cfg = configFor(options.timeoutMs ?? 5000);
          const aks = createAksAdapters({
            config: cfg,
            credential: armCredential(arm),
            logger: logs,
            arm: {
              tlsCa: arm.caPem,
              retryOptions: { maxRetries: 1, retryDelayInMs: 5, maxRetryDelayInMs: 10 },
              timeoutMs: 5000,
            },
            directory: { resolveNodeResourceGroups: false },
            kubernetes: { delay: async () => {}, maxAttempts: KUBE_MAX_ATTEMPTS },
          });
          const instanceId = `chaos-${seed}-${options.name ?? 'i'}-${++instances}`;
          const deps = createRuntime(cfg, {
            logger: logs,
            panorama: new PanoramaClient(cfg.panorama, { logger: logs, permits: sharedLimit(instanceId) }),
            clusters: aks.clusters,
            services: options.gate ? options.gate.wrap(aks.services) : aks.services,
            busyRetrySeconds: 1,
            instanceId,
            now: () => seedWorld.now(),
          }).deps;
          if (options.outage) {
            const quick = { maxRetries: 1, retryDelayInMs: 50, maxRetryDelayInMs: 100 };
            const quickTable = (name: string) =>
              TableClient.fromConnectionString(storage.connectionString, name, {
                allowInsecureConnection: true,
                retryOptions: quick,
              });
            deps.clusterState = new OutageStateStore(
              quickTable(CLUSTER_STATE_TABLE),
              options.outage,
              storage,
            );
            deps.targetStatus = new TargetStatusStore(quickTable(TARGET_STATE_TABLE));
            deps.queues = new MessageQueues(
              QueueServiceClient.fromConnectionString(storage.connectionString, {
                retryOptions: { maxTries: 2, retryDelayInMs: 50, maxRetryDelayInMs: 100 },
              }),
            );
          }
          if (options.crash) {
            const { at, death } = options.crash;
            deps.clusterState = new DyingStateStore(table(CLUSTER_STATE_TABLE), death);
            deps.onRecomputePhase = (phase) => {
              if (at !== 'mid-enqueue' && phase === CRASH_PHASES[at]) death.die();
            };
            deps.queues = new DyingQueues(
              queueService,
              death,
              at === 'mid-enqueue' ? (options.crash.sendsBeforeDeath ?? 1) : Number.POSITIVE_INFINITY,
            );
          }
          return deps;
        },
      };
      return seedWorld;
    },
    async stop() {
      await pair.stop();
      await arm.stop();
      await storage.stop();
      for (const k of Object.values(kube)) await k.stop();
      await azurite.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Queue processing with the Functions host's semantics (success deletes; failure releases for a
// retry; the attempt that reaches maxDequeueCount — or an unreadable message — moves it to
// `<queue>-poison`: `messageDisposition`), plus the chaos knobs: shuffled (reordered) batches, duplicate delivery and
// concurrent consumers.
// ---------------------------------------------------------------------------------------------

export interface DeliveryOptions {
  maxDequeueCount: number;
  /** Process the batch in this order (reordered delivery). */
  order?: (batch: ReceivedMessage[]) => ReceivedMessage[];
  /** Message indexes (in processing order) to deliver twice in a row. */
  duplicate?: (index: number) => boolean;
  /** Messages to send a copy of back into the queue before processing (a duplicate delivered later). */
  resend?: (message: ReceivedMessage) => boolean;
  /** Consumers: messages are dealt round-robin and processed concurrently (one chain per consumer). */
  consumers?: PipelineDeps[];
  /** Visibility timeout of the receive (default 30 s). */
  visibilitySeconds?: number;
  /** Retry delay after a failure (default 0 = visible again at once). */
  retryDelaySeconds?: number;
}

export interface DeliveryStats {
  received: number;
  succeeded: number;
  failed: number;
  poisoned: number;
  duplicates: number;
  resent: number;
  outcomes: string[];
}

function newStats(): DeliveryStats {
  return { received: 0, succeeded: 0, failed: 0, poisoned: 0, duplicates: 0, resent: 0, outcomes: [] };
}

async function deliver<T>(
  queue: string,
  deps: PipelineDeps,
  options: DeliveryOptions,
  handle: (text: string, consumer: PipelineDeps) => Promise<T>,
  describe: (result: T) => string,
): Promise<DeliveryStats> {
  const stats = newStats();
  const batch = await deps.queues.receive(queue, 16, options.visibilitySeconds ?? 30);
  stats.received = batch.length;
  if (batch.length === 0) return stats;
  for (const m of batch) {
    if (options.resend?.(m)) {
      await deps.queues.sendText(queue, m.messageText);
      stats.resent++;
    }
  }
  const ordered = options.order ? options.order(batch) : batch;
  const consumers = options.consumers?.length ? options.consumers : [deps];
  const lanes: ReceivedMessage[][] = consumers.map(() => []);
  for (const [i, m] of ordered.entries()) lanes[i % consumers.length]?.push(m);
  let index = 0;
  const runOne = async (m: ReceivedMessage, consumer: PipelineDeps) => {
    const times = options.duplicate?.(index++) ? 2 : 1;
    if (times === 2) stats.duplicates++;
    let error: unknown;
    for (let t = 0; t < times; t++) {
      const e = await handleOne(m, consumer, handle, describe, stats);
      error ??= e;
    }
    await complete(queue, deps, m, error, options, stats);
  };
  await Promise.all(
    lanes.map(async (lane, i) => {
      const consumer = consumers[i] ?? deps;
      for (const m of lane) await runOne(m, consumer);
    }),
  );
  return stats;
}

/** Handles one message, recording the outcome; returns the error, if any. */
async function handleOne<T>(
  m: ReceivedMessage,
  consumer: PipelineDeps,
  handle: (text: string, consumer: PipelineDeps) => Promise<T>,
  describe: (result: T) => string,
  stats: DeliveryStats,
): Promise<unknown> {
  try {
    stats.outcomes.push(describe(await handle(m.messageText, consumer)));
    return undefined;
  } catch (err) {
    stats.outcomes.push(`error: ${(err as Error)?.message ?? String(err)}`.slice(0, 160));
    return err ?? new Error('undefined thrown');
  }
}

/** Completes a handled message as the host does: delete it, release it for a retry, or poison it. */
async function complete(
  queue: string,
  deps: PipelineDeps,
  m: ReceivedMessage,
  error: unknown,
  options: DeliveryOptions,
  stats: DeliveryStats,
): Promise<void> {
  if (error === undefined) {
    stats.succeeded++;
    await deps.queues.delete(queue, m);
    return;
  }
  stats.failed++;
  const unreadable = error instanceof InputError;
  if (messageDisposition(false, m.dequeueCount, options.maxDequeueCount, { unreadable }) === 'poison') {
    await deps.queues.sendText(poisonQueueName(queue), m.messageText);
    await deps.queues.delete(queue, m);
    stats.poisoned++;
  } else {
    await deps.queues.release(queue, m, options.retryDelaySeconds ?? 0);
  }
}

/** host.json's queue settings, as the Functions host applies them to every queue trigger. */
export const HOST_QUEUES = (() => {
  const { queues } = loadHostSettings(join(process.cwd(), 'host.json'));
  return { batchSize: queues.batchSize, newBatchThreshold: queues.newBatchThreshold };
})();

/**
 * Runs a queue as one Functions host's listener does (host.json): receives `batchSize` messages,
 * fetches the next batch once no more than `newBatchThreshold` are running (at most their sum run
 * at once), until nothing is visible and nothing runs. Several of these on one storage account are
 * several hosts of one function app.
 */
async function runLikeHost<T>(
  queue: string,
  deps: PipelineDeps,
  options: DeliveryOptions,
  handle: (text: string, consumer: PipelineDeps) => Promise<T>,
  describe: (result: T) => string,
): Promise<DeliveryStats> {
  const stats = newStats();
  const running = new Set<Promise<void>>();
  for (;;) {
    if (running.size > HOST_QUEUES.newBatchThreshold) {
      await Promise.race(running);
      continue;
    }
    const batch = await deps.queues.receive(queue, HOST_QUEUES.batchSize, options.visibilitySeconds ?? 30);
    stats.received += batch.length;
    if (batch.length === 0) {
      if (running.size === 0) return stats;
      await Promise.race(running);
      continue;
    }
    for (const m of batch) {
      const run = handleOne(m, deps, handle, describe, stats)
        .then((error) => complete(queue, deps, m, error, options, stats))
        .finally(() => running.delete(run));
      running.add(run);
    }
  }
}

/** A queue's consumer: the pipeline step and how its outcome is described in the stats. */
interface QueueConsumer<T> {
  queue: string;
  handle: (text: string, consumer: PipelineDeps) => Promise<T>;
  describe: (result: T) => string;
}

const DELTA_CONSUMER: QueueConsumer<PushOutcome> = {
  queue: DELTA_QUEUE,
  handle: (text, consumer) => runQueueStep(PUSH_STEP, decodeMessage(text), consumer),
  describe: (o) => `${o.cluster}/${o.target}@${o.generation}:${o.status}`,
};

const RECOMPUTE_CONSUMER: QueueConsumer<RecomputeOutcome> = {
  queue: RECOMPUTE_QUEUE,
  handle: (text, consumer) => runQueueStep(RECOMPUTE_STEP, decodeMessage(text), consumer),
  describe: (o) => `${o.cluster}:${o.status}${o.generation === undefined ? '' : `@${o.generation}`}`,
};

/** One host's listener on `tag-deltas` (see {@link runLikeHost}). */
export function hostDeliverDeltas(deps: PipelineDeps, options: DeliveryOptions): Promise<DeliveryStats> {
  const c = DELTA_CONSUMER;
  return runLikeHost(c.queue, deps, options, c.handle, c.describe);
}

/** One host's listener on `cluster-recompute` (see {@link runLikeHost}). */
export function hostDeliverRecomputes(deps: PipelineDeps, options: DeliveryOptions): Promise<DeliveryStats> {
  const c = RECOMPUTE_CONSUMER;
  return runLikeHost(c.queue, deps, options, c.handle, c.describe);
}

/** Delivers one batch of visible `tag-deltas` messages to `pushTagDeltas`. */
export function deliverDeltas(deps: PipelineDeps, options: DeliveryOptions): Promise<DeliveryStats> {
  const c = DELTA_CONSUMER;
  return deliver(c.queue, deps, options, c.handle, c.describe);
}

/** Delivers one batch of visible `cluster-recompute` messages to `recomputeCluster`. */
export function deliverRecomputes(deps: PipelineDeps, options: DeliveryOptions): Promise<DeliveryStats> {
  const c = RECOMPUTE_CONSUMER;
  return deliver(c.queue, deps, options, c.handle, c.describe);
}

/**
 * Processes both queues until both are empty, including messages that come back later (busy
 * recomputes, deferred deltas, retries): waits for them within `boundMs`, then throws naming what
 * is left.
 */
export async function settleQueues(
  deps: PipelineDeps,
  options: { maxDequeueCount: number; boundMs?: number },
): Promise<{ delivered: number; poisoned: number; waitedMs: number }> {
  const started = Date.now();
  const deadline = started + (options.boundMs ?? 90_000);
  let delivered = 0;
  let poisoned = 0;
  let waitedMs = 0;
  while (Date.now() < deadline) {
    const r = await deliverRecomputes(deps, { maxDequeueCount: options.maxDequeueCount });
    const d = await deliverDeltas(deps, { maxDequeueCount: options.maxDequeueCount });
    delivered += r.received + d.received;
    poisoned += r.poisoned + d.poisoned;
    if (r.received + d.received > 0) continue;
    const left = (await deps.queues.depth(RECOMPUTE_QUEUE)) + (await deps.queues.depth(DELTA_QUEUE));
    if (left === 0) return { delivered, poisoned, waitedMs };
    await sleep(150);
    waitedMs += 150;
  }
  const peek = [...(await deps.queues.peek(RECOMPUTE_QUEUE)), ...(await deps.queues.peek(DELTA_QUEUE))].map(
    (m) => JSON.stringify(decodeMessage(m.messageText)),
  );
  throw new Error(
    `queues did not settle within ${options.boundMs ?? 90_000} ms; visible sample: ${peek.join(' | ') || '(none visible)'}`,
  );
}

/** Depth of every pipeline queue. */
export async function queueDepths(deps: PipelineDeps): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const q of QUEUES) out[q] = await deps.queues.depth(q);
  return out;
}

/** A Service as the chaos sequence builds it. */
export interface ServiceShape {
  namespace: string;
  name: string;
  ips: string[];
  labels: Record<string, string>;
  /** `internal` = eligible; the others never get tags. */
  kind: 'internal' | 'clusterip' | 'public';
}

export function serviceOf(shape: ServiceShape): KubeService {
  const internal = shape.kind === 'internal';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: shape.name,
      namespace: shape.namespace,
      labels: { ...shape.labels },
      ...(internal
        ? { annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' } }
        : {}),
    },
    spec: { type: shape.kind === 'clusterip' ? 'ClusterIP' : 'LoadBalancer' },
    status: { loadBalancer: shape.ips.length ? { ingress: shape.ips.map((ip) => ({ ip })) } : {} },
  } as KubeService;
}

/**
 * The target ids of a device group's firewalls (`shared/panorama/targetId.ts`): the serial of a
 * single-vsys firewall, `<serial>:<vsys>` for each vsys of a multi-vsys one the group holds.
 */
export function groupTargets(panorama: PanoramaSimulator, group: string, onlyConnected = false): string[] {
  return panorama.firewalls().flatMap((f) => {
    if (onlyConnected && !f.connected) return [];
    if (!f.vsysGroups) return f.deviceGroup === group ? [f.serial] : [];
    return Object.entries(f.vsysGroups)
      .filter(([, g]) => g === group)
      .map(([vsys]) => `${f.serial}:${vsys}`);
  });
}

/** The serial and vsys a target id names (`undefined` serial: Panorama itself). */
export function targetParts(target: string): { serial?: string; vsys?: string } {
  if (target === PANORAMA) return {};
  const [serial, vsys] = target.split(':');
  return { ...(serial ? { serial } : {}), ...(vsys ? { vsys } : {}) };
}

/** The registered IPs of a target id on the simulator. */
export function registeredOnTarget(panorama: PanoramaSimulator, target: string): Map<string, string[]> {
  const { serial, vsys } = targetParts(target);
  return panorama.registered(serial, vsys);
}

/** Seeds tags on a target id of the simulator, as a person or another plugin would. */
export function seedTagsOnTarget(
  panorama: PanoramaSimulator,
  entries: ReadonlyMap<string, readonly string[]> | Iterable<{ ip: string; tags: readonly string[] }>,
  target: string,
): void {
  const { serial, vsys } = targetParts(target);
  panorama.seedTags(entries, serial, vsys);
}
