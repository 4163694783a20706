import { backoffDelay } from '../backoff.js';
import type { TagDelta } from '../diff/TagDelta.js';
import {
  classify,
  describeError,
  FailureKind,
  FirewallNotConnectedError,
  InputError,
  SyncError,
} from '../errors.js';
import { type Logger, withFields } from '../logger.js';
import type { EntryFailure, IpTagEntry, TargetOptions } from '../panorama/PanoramaApi.js';
import { acceptedPairs, describeRejected } from '../panorama/rejectedEntries.js';
import { parseTargetId } from '../panorama/targetId.js';
import type { StepOutcome } from '../queues/QueueStep.js';
import { type DeltaMessage, toWireDeltaMessage } from './messages.js';
import type { PipelineDeps } from './PipelineDeps.js';

/**
 * How often a message whose generation is not committed yet is put back (with a delay) before it is
 * left to the host's retries and the poison queue. A crashed recompute's generation is committed by
 * the next recompute once its lease expires, well within this budget.
 */
export const MAX_DEFERRALS = 60;

/** Delays of a deferred message: 1 s, 2 s, 4 s … up to 30 s. */
const DEFERRAL_BACKOFF = { baseMs: 1000, maxMs: 30_000 };

/** The state has not committed the message's generation yet: retry later. */
export class StateNotCommittedError extends SyncError {
  constructor(cluster: string, generation: number, committed: number) {
    super(
      `state of ${cluster} is at generation ${committed}; message generation ${generation} is not committed yet`,
      {
        kind: FailureKind.retryable,
        details: { cluster, generation, committed },
      },
    );
    this.name = 'StateNotCommittedError';
  }
}

/** What a push did (`deferred`: `requeueAfter` puts the message back with a delay). */
export interface PushOutcome extends StepOutcome {
  cluster: string;
  target: string;
  generation: number;
  status: 'pushed' | 'nothing-to-send' | 'entry-failures' | 'disconnected' | 'deferred';
  registered: number;
  unregistered: number;
  /** Pairs of the message that no longer hold in the state and were not sent. */
  skipped: number;
  failures: EntryFailure[];
  calls: number;
}

/**
 * The `TargetOptions` for a target id (`shared/panorama/targetId.ts`): none for Panorama itself,
 * `target=<serial>` for a firewall's default vsys, plus `vsys=` for a specific one.
 *
 * @throws {InputError} for a string that is not a target id (messages are validated before).
 */
export function targetOptions(target: string): TargetOptions {
  const parsed = parseTargetId(target);
  if (!parsed) throw new InputError(`not a target: ${JSON.stringify(target)}`);
  if (parsed.kind === 'panorama') return {};
  return { target: parsed.serial, ...(parsed.vsys ? { vsys: parsed.vsys } : {}) };
}

/**
 * The firewall of a message's target for log lines: hostname, serial, device group and vsys (those
 * the message carries; none for Panorama itself).
 */
export function firewallFields(message: Pick<DeltaMessage, 'target' | 'hostname' | 'deviceGroup'>): {
  hostname?: string;
  serial?: string;
  deviceGroup?: string;
  vsys?: string;
} {
  const parsed = parseTargetId(message.target);
  if (!parsed || parsed.kind === 'panorama') return {};
  return {
    ...(message.hostname ? { hostname: message.hostname } : {}),
    serial: parsed.serial,
    ...(message.deviceGroup ? { deviceGroup: message.deviceGroup } : {}),
    ...(parsed.vsys ? { vsys: parsed.vsys } : {}),
  };
}

/**
 * Pushes one delta message to its target, level-triggered (invariant 1): it re-reads the committed
 * state of the message's IPs (the snapshot the head points at now, not the one of the message's
 * generation) and registers a tag only if the state still has it, unregisters only if the
 * state no longer has it — so duplicates, reordering and replays of old messages converge.
 *
 * - A generation newer than the committed state is `deferred`: its outcome asks for the message
 *   again after a growing delay (1 s, 2 s … 30 s), up to {@link MAX_DEFERRALS} times; then
 *   {@link StateNotCommittedError} (retryable) is thrown — invariant 2.
 * - A failure of a whole call throws, whatever its kind (the host retries, then poisons the
 *   message, which `replay-poison` brings back).
 * - Per-entry rejections and a disconnected firewall are recorded in the target status and
 *   logged; the message completes (the audit repairs the rest).
 */
export async function pushTagDeltas(message: DeltaMessage, deps: PipelineDeps): Promise<PushOutcome> {
  const started = Date.now();
  const { cluster, target, generation } = message;
  const log = withFields(deps.logger, { cluster, target, ...firewallFields(message), generation });
  const head = await deps.clusterState.getHead(cluster);
  const committed = head?.generation ?? -1;
  if (generation > committed) return defer(message, committed, log);

  const state = await deps.clusterState.readIpTagsFor(
    cluster,
    message.deltas.map((d) => d.ip),
    head,
  );
  const plan = planPush(message.deltas, state, { unregister: deps.syncPolicy !== 'upsert-only' });
  const base = {
    cluster,
    target,
    generation,
    registered: plan.registerCount,
    unregistered: plan.unregisterCount,
    skipped: plan.skipped,
  };
  if (plan.register.length === 0 && plan.unregister.length === 0) {
    log.debug('push: nothing still holds in the state', { skipped: plan.skipped });
    return { ...base, status: 'nothing-to-send', failures: [], calls: 0 };
  }
  const sent = await send(plan, message, deps, log);
  if (sent.disconnected)
    return {
      ...base,
      registered: 0,
      unregistered: 0,
      status: 'disconnected',
      failures: [],
      calls: sent.calls,
    };
  return reportPushed({ message, plan, sent, deps, log, started }, base);
}

/** Records and logs what the device accepted; rejected entries are reported with its message. */
async function reportPushed(
  push: {
    message: DeltaMessage;
    plan: PushPlan;
    sent: { calls: number; failures: EntryFailure[] };
    deps: PipelineDeps;
    log: Logger;
    started: number;
  },
  base: Omit<PushOutcome, 'status' | 'failures' | 'calls'>,
): Promise<PushOutcome> {
  const { plan, sent, log } = push;
  const accepted = {
    registered: acceptedPairs(plan.register, sent.failures, 'register'),
    unregistered: acceptedPairs(plan.unregister, sent.failures, 'unregister'),
  };
  await recordPushed(push.message, accepted, sent.failures, push.deps);
  const fields = {
    ...accepted,
    skipped: plan.skipped,
    calls: sent.calls,
    durationMs: Date.now() - push.started,
  };
  if (sent.failures.length > 0) {
    log.error('push done with rejected entries', {
      ...fields,
      rejectedEntries: sent.failures.length,
      sample: describeRejected(sent.failures),
    });
    return { ...base, ...accepted, status: 'entry-failures', failures: sent.failures, calls: sent.calls };
  }
  log.info('push done', fields);
  return { ...base, status: 'pushed', failures: [], calls: sent.calls };
}

/** What a push sends: the pairs of a message that still hold in the state (level-triggered). */
export interface PushPlan {
  register: IpTagEntry[];
  unregister: IpTagEntry[];
  registerCount: number;
  unregisterCount: number;
  /** Pairs that no longer hold and are not sent. */
  skipped: number;
}

/**
 * Plans a push: registers a tag only if the state of its IP still has it, unregisters one only if
 * the state no longer has it (and never with `unregister: false`, the `upsert-only` policy). Pure.
 */
export function planPush(
  deltas: readonly TagDelta[],
  state: ReadonlyMap<string, readonly string[]>,
  options: { unregister: boolean } = { unregister: true },
): PushPlan {
  const plan: PushPlan = { register: [], unregister: [], registerCount: 0, unregisterCount: 0, skipped: 0 };
  for (const d of deltas) {
    const current = new Set(state.get(d.ip) ?? []);
    const reg = d.register.filter((t) => current.has(t));
    const unreg = options.unregister ? d.unregister.filter((t) => !current.has(t)) : [];
    plan.skipped += d.register.length - reg.length + d.unregister.length - unreg.length;
    if (reg.length) plan.register.push({ ip: d.ip, tags: reg });
    if (unreg.length) plan.unregister.push({ ip: d.ip, tags: unreg });
    plan.registerCount += reg.length;
    plan.unregisterCount += unreg.length;
  }
  return plan;
}

/** Defers a message whose generation is not committed: it comes back with a growing delay (invariant 2). */
function defer(message: DeltaMessage, committed: number, log: Logger): PushOutcome {
  const { cluster, target, generation } = message;
  const deferrals = message.deferrals ?? 0;
  if (deferrals >= MAX_DEFERRALS) throw new StateNotCommittedError(cluster, generation, committed);
  const seconds = backoffDelay(deferrals + 1, DEFERRAL_BACKOFF) / 1000;
  log.info('push deferred: generation not committed yet', {
    committed,
    deferrals: deferrals + 1,
    delaySeconds: seconds,
  });
  return {
    cluster,
    target,
    generation,
    status: 'deferred',
    registered: 0,
    unregistered: 0,
    skipped: 0,
    failures: [],
    calls: 0,
    requeueAfter: { seconds, message: toWireDeltaMessage({ ...message, deferrals: deferrals + 1 }) },
  };
}

/**
 * Sends a plan: unregisters, then registers. A firewall that is not connected is recorded and
 * left to the audit; any other failure of a whole call is recorded and thrown.
 */
async function send(
  plan: PushPlan,
  message: DeltaMessage,
  deps: PipelineDeps,
  log: Logger,
): Promise<{ calls: number; failures: EntryFailure[]; disconnected: boolean }> {
  const { cluster, target } = message;
  const opts = targetOptions(target);
  const failures: EntryFailure[] = [];
  let calls = 0;
  try {
    for (const [entries, call] of [
      [plan.unregister, deps.panorama.unregisterTags.bind(deps.panorama)],
      [plan.register, deps.panorama.registerTags.bind(deps.panorama)],
    ] as const) {
      if (entries.length === 0) continue;
      const r = await call(entries, opts);
      calls += r.calls;
      failures.push(...r.failures);
    }
    return { calls, failures, disconnected: false };
  } catch (err) {
    const error = describeError(err);
    const lastErrorAt = deps.now().toISOString();
    if (err instanceof FirewallNotConnectedError) {
      await deps.targetStatus.recordPush({
        cluster,
        target,
        disconnected: true,
        lastError: error,
        lastErrorAt,
      });
      log.warn('push skipped: firewall not connected; the audit will repair it', { error });
      return { calls, failures: [], disconnected: true };
    }
    await deps.targetStatus.recordPush({ cluster, target, lastError: error, lastErrorAt });
    // A failure of the call itself (404, an HTML page, TLS) is never completed away: the host
    // retries the message, then poisons it, and it can be replayed once the cause is fixed.
    log.error('push failed; the message is retried, then poisoned', {
      error,
      kind: classify(err),
      registered: plan.registerCount,
      unregistered: plan.unregisterCount,
    });
    throw err;
  }
}

async function recordPushed(
  message: DeltaMessage,
  accepted: { registered: number; unregistered: number },
  failures: readonly EntryFailure[],
  deps: PipelineDeps,
): Promise<void> {
  const at = deps.now().toISOString();
  await deps.targetStatus.recordPush({
    cluster: message.cluster,
    target: message.target,
    lastPushAt: at,
    lastPushGeneration: message.generation,
    registered: accepted.registered,
    unregistered: accepted.unregistered,
    failedEntries: failures.length,
    disconnected: false,
    lastError: failures.length ? `${failures.length} entries rejected: ${describeRejected(failures)}` : '',
    ...(failures.length ? { lastErrorAt: at } : {}),
  });
}

/** The first three rejected entries, each with at most five of its tags. */
