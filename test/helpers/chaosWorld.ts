import { TableClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import { type AzuriteServer, startAzurite } from '../../host/azurite.js';
import { createAksAdapters } from '../../shared/aks/createAksAdapters.js';
import { type AppConfig, type ClusterConfig, loadConfig } from '../../shared/config/loadConfig.js';
import { classify, FailureKind } from '../../shared/errors.js';
import type { KubeService } from '../../shared/kubernetes/KubeService.js';
import { type LogLevel, memoryLogger } from '../../shared/logger.js';
import { PanoramaClient } from '../../shared/panorama/PanoramaClient.js';
import { parseDeltaMessage, parseRecomputeMessage } from '../../shared/pipeline/messages.js';
import type { PipelineDeps } from '../../shared/pipeline/PipelineDeps.js';
import { type PushOutcome, pushTagDeltas } from '../../shared/pipeline/pushTagDeltas.js';
import { type RecomputeOutcome, recomputeCluster } from '../../shared/pipeline/recomputeCluster.js';
import {
  decodeMessage,
  MessageQueues,
  type ReceivedMessage,
  type SendOptions,
} from '../../shared/queues/MessageQueues.js';
import { DELTA_QUEUE, poisonQueueName, RECOMPUTE_QUEUE } from '../../shared/queues/queueNames.js';
import { createRuntime } from '../../shared/runtime/createRuntime.js';
import {
  CLUSTER_STATE_TABLE,
  type ClusterHead,
  ClusterStateStore,
} from '../../shared/state/ClusterStateStore.js';
import { TARGET_STATE_TABLE } from '../../shared/state/TargetStatusStore.js';
import type { IpTagMap } from '../../shared/tags/IpTagMap.js';
import {
  type KubernetesSimulator,
  startKubernetesSimulator,
} from '../../sim/kubernetes/startKubernetesSimulator.js';
import { type PanoramaSimulator, startPanoramaSimulator } from '../../sim/panorama/startPanoramaSimulator.js';

/**
 * The chaos test's world: ONE Azurite, ONE Panorama simulator and one Kubernetes simulator per
 * cluster role, reused across seeds. Each seed gets fresh cluster names, empty tables and queues,
 * empty simulators, and its own configuration (the real `loadConfig`) and pipeline instances.
 */

export const CHAOS_SUBSCRIPTION = '22222222-2222-2222-2222-222222222222';
/** The device group the firewall cluster notifies. */
export const CHAOS_DEVICE_GROUP = 'dg-chaos';
/** Where a firewall waits until it "joins" the device group. */
export const SPARE_DEVICE_GROUP = 'dg-spare';
export const FIREWALLS = ['0001', '0002', '0003'] as const;
/** The firewall that starts in the spare group and may join `dg-chaos` during a sequence. */
export const JOINING_FIREWALL = '0003';
export const PANORAMA = 'panorama';
export const QUEUES = [
  RECOMPUTE_QUEUE,
  DELTA_QUEUE,
  poisonQueueName(RECOMPUTE_QUEUE),
  poisonQueueName(DELTA_QUEUE),
] as const;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/** Where a dying recompute's process stops. */
export type CrashPoint = 'pending' | 'mid-enqueue' | 'rows' | 'commit';

/**
 * A state store whose process dies at a chosen point of a recompute (as in crashRecovery.test.ts):
 * - `pending`: at the head write that announces the pending generation (before any enqueue);
 * - `rows`: at the IP-row write (after every delta was enqueued);
 * - `commit`: at the final head commit (rows written, generation not committed).
 */
export class DyingStateStore extends ClusterStateStore {
  constructor(
    table: TableClient,
    readonly death: ProcessDeath,
    readonly at: CrashPoint,
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
  override async readIpTagsFor(cluster: string, ips: readonly string[]) {
    this.death.check();
    return super.readIpTagsFor(cluster, ips);
  }
  override async writeIpTags(
    cluster: string,
    upserts: IpTagMap,
    deletes: readonly string[],
    generation: number,
    options?: Parameters<ClusterStateStore['writeIpTags']>[4],
  ) {
    this.death.check();
    if (this.at === 'rows') this.death.die();
    return super.writeIpTags(cluster, upserts, deletes, generation, options);
  }
  override async replaceHead(head: ClusterHead) {
    this.death.check();
    if (this.at === 'pending' && head.pendingGeneration > head.generation && head.leaseOwner) {
      this.death.die();
    }
    if (
      this.at === 'commit' &&
      head.leaseOwner === '' &&
      head.generation === head.pendingGeneration &&
      head.generation > 0
    ) {
      this.death.die();
    }
    return super.replaceHead(head);
  }
}

/** Queues whose process dies after `sendsBeforeDeath` delta messages were sent (a crash mid-enqueue). */
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

export interface InstanceOptions {
  /** Lease owner id suffix (distinct instances compete for leases). */
  name?: string;
  /** Panorama client timeout (short during chaos so `hang` faults cost little). */
  timeoutMs?: number;
  /** Give the instance a process that dies at `crash` (state store and queues share it). */
  crash?: { at: CrashPoint; sendsBeforeDeath?: number; death: ProcessDeath };
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
}

export interface ChaosWorld {
  azurite: AzuriteServer;
  panorama: PanoramaSimulator;
  kube: Record<Role, KubernetesSimulator>;
  startSeed(
    seed: number,
    clusters: { role: Role; labelSelectors: { name: string; selector: string }[] }[],
  ): Promise<SeedWorld>;
  stop(): Promise<void>;
}

export async function startChaosWorld(): Promise<ChaosWorld> {
  const azurite = await startAzurite();
  const panorama = await startPanoramaSimulator({
    deviceGroups: {
      [CHAOS_DEVICE_GROUP]: [{ serial: '0001' }, { serial: '0002' }],
      [SPARE_DEVICE_GROUP]: [{ serial: JOINING_FIREWALL }],
    },
  });
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
    panorama.clearFaults();
    panorama.setDuplicateMode('error');
    panorama.addFirewall(SPARE_DEVICE_GROUP, JOINING_FIREWALL, { connected: true });
    for (const serial of FIREWALLS) {
      panorama.setConnected(serial, true);
      panorama.reboot(serial);
    }
    panorama.reboot();
    panorama.resetCalls();
    for (const k of Object.values(kube)) {
      k.clearFaults();
      for (const s of k.services())
        k.deleteService(s.metadata?.namespace ?? 'default', s.metadata?.name ?? '');
    }
  }

  return {
    azurite,
    panorama,
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
          AzureWebJobsStorage: conn,
          PANORAMA_URL: panorama.url,
          PANORAMA_API_KEY: panorama.apiKey,
          PANORAMA_TIMEOUT_MS: String(timeoutMs),
          CLUSTERS: JSON.stringify(clustersJson),
        });
      const config = configFor(5000);
      const logs = memoryLogger('warn');
      let instances = 0;
      const seedWorld: SeedWorld = {
        seed,
        clusters,
        config,
        configured: config.clusters,
        clockOffsetMs: 0,
        logs,
        now: () => new Date(Date.now() + seedWorld.clockOffsetMs),
        instance(options = {}) {
          const cfg = configFor(options.timeoutMs ?? 5000);
          const aks = createAksAdapters({
            config: cfg,
            logger: logs,
            directory: { resolveNodeResourceGroups: false },
            kubernetes: { delay: async () => {}, maxAttempts: 2 },
          });
          const deps = createRuntime(cfg, {
            logger: logs,
            panorama: new PanoramaClient(cfg.panorama, { logger: logs }),
            clusters: aks.clusters,
            services: aks.services,
            busyRetrySeconds: 1,
            instanceId: `chaos-${seed}-${options.name ?? 'i'}-${++instances}`,
            now: () => seedWorld.now(),
          }).deps;
          if (options.crash) {
            const { at, death } = options.crash;
            deps.state = new DyingStateStore(table(CLUSTER_STATE_TABLE), death, at);
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
      await panorama.stop();
      for (const k of Object.values(kube)) await k.stop();
      await azurite.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Queue processing with the Functions host's semantics (success deletes; failure releases for a
// retry; the attempt that reaches maxDequeueCount — or a permanent failure — moves the message to
// `<queue>-poison`), plus the chaos knobs: shuffled (reordered) batches, duplicate delivery and
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
      try {
        stats.outcomes.push(describe(await handle(m.messageText, consumer)));
      } catch (err) {
        error ??= err;
        stats.outcomes.push(`error: ${(err as Error)?.message ?? String(err)}`.slice(0, 160));
      }
    }
    if (error === undefined) {
      stats.succeeded++;
      await deps.queues.delete(queue, m);
      return;
    }
    stats.failed++;
    if (classify(error) === FailureKind.permanent || m.dequeueCount >= options.maxDequeueCount) {
      await deps.queues.sendText(poisonQueueName(queue), m.messageText);
      await deps.queues.delete(queue, m);
      stats.poisoned++;
    } else {
      await deps.queues.release(queue, m, options.retryDelaySeconds ?? 0);
    }
  };
  await Promise.all(
    lanes.map(async (lane, i) => {
      const consumer = consumers[i] ?? deps;
      for (const m of lane) await runOne(m, consumer);
    }),
  );
  return stats;
}

/** Delivers one batch of visible `tag-deltas` messages to `pushTagDeltas`. */
export function deliverDeltas(deps: PipelineDeps, options: DeliveryOptions): Promise<DeliveryStats> {
  return deliver(
    DELTA_QUEUE,
    deps,
    options,
    (text, consumer) => pushTagDeltas(parseDeltaMessage(decodeMessage(text)), consumer),
    (o: PushOutcome) => `${o.cluster}/${o.target}@${o.generation}:${o.status}`,
  );
}

/** Delivers one batch of visible `cluster-recompute` messages to `recomputeCluster`. */
export function deliverRecomputes(deps: PipelineDeps, options: DeliveryOptions): Promise<DeliveryStats> {
  return deliver(
    RECOMPUTE_QUEUE,
    deps,
    options,
    (text, consumer) => recomputeCluster(parseRecomputeMessage(decodeMessage(text)), consumer),
    (o: RecomputeOutcome) =>
      `${o.cluster}:${o.status}${o.generation === undefined ? '' : `@${o.generation}`}`,
  );
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
