import { backoffDelay } from '../backoff.js';
import { classify, describeError, FailureKind, FirewallNotConnectedError, SyncError } from '../errors.js';
import { withFields } from '../logger.js';
import type { EntryFailure, IpTagEntry, TargetOptions } from '../panorama/PanoramaApi.js';
import { DELTA_QUEUE } from '../queues/queueNames.js';
import { PANORAMA_TARGET } from '../state/TargetStatusRepository.js';
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

/** What a push did. */
export interface PushOutcome {
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

/** The `TargetOptions` for a target id. */
export function targetOptions(target: string): TargetOptions {
  return target === PANORAMA_TARGET ? {} : { target };
}

/**
 * Pushes one delta message to its target, level-triggered (invariant 1): it re-reads the Table state
 * of the message's IPs and registers a tag only if the state still has it, unregisters only if the
 * state no longer has it — so duplicates, reordering and replays of old messages converge.
 *
 * - A generation newer than the committed state is put back with a growing delay (1 s, 2 s … 30 s),
 *   up to {@link MAX_DEFERRALS} times; then {@link StateNotCommittedError} (retryable) is thrown —
 *   invariant 2.
 * - A failure of a whole call throws, whatever its kind (the host retries, then poisons the
 *   message, which `replay-poison` brings back).
 * - Per-entry rejections and a disconnected firewall are recorded in the target status and
 *   logged; the message completes (the audit repairs the rest).
 */
export async function pushTagDeltas(message: DeltaMessage, deps: PipelineDeps): Promise<PushOutcome> {
  const started = Date.now();
  const { cluster, target, generation } = message;
  const log = withFields(deps.logger, { cluster, target, generation });
  const head = await deps.state.getHead(cluster);
  const committed = head?.generation ?? -1;
  if (generation > committed) {
    const deferrals = message.deferrals ?? 0;
    if (deferrals >= MAX_DEFERRALS) throw new StateNotCommittedError(cluster, generation, committed);
    const delaySeconds = backoffDelay(deferrals + 1, DEFERRAL_BACKOFF) / 1000;
    await deps.queues.send(DELTA_QUEUE, toWireDeltaMessage({ ...message, deferrals: deferrals + 1 }), {
      delaySeconds,
    });
    log.info('push deferred: generation not committed yet', {
      committed,
      deferrals: deferrals + 1,
      delaySeconds,
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
    };
  }

  const ips = message.deltas.map((d) => d.ip);
  const state = await deps.state.readIpTagsFor(cluster, ips);
  const register: IpTagEntry[] = [];
  const unregister: IpTagEntry[] = [];
  let skipped = 0;
  let registerCount = 0;
  let unregisterCount = 0;
  for (const d of message.deltas) {
    const current = new Set(state.get(d.ip) ?? []);
    const reg = d.register.filter((t) => current.has(t));
    const unreg = d.unregister.filter((t) => !current.has(t));
    skipped += d.register.length - reg.length + d.unregister.length - unreg.length;
    if (reg.length) register.push({ ip: d.ip, tags: reg });
    if (unreg.length) unregister.push({ ip: d.ip, tags: unreg });
    registerCount += reg.length;
    unregisterCount += unreg.length;
  }
  const base = {
    cluster,
    target,
    generation,
    registered: registerCount,
    unregistered: unregisterCount,
    skipped,
  };
  if (register.length === 0 && unregister.length === 0) {
    log.debug('push: nothing still holds in the state', { skipped });
    return { ...base, status: 'nothing-to-send', failures: [], calls: 0 };
  }

  const opts = targetOptions(target);
  const failures: EntryFailure[] = [];
  let calls = 0;
  try {
    if (unregister.length) {
      const r = await deps.panorama.unregisterTags(unregister, opts);
      calls += r.calls;
      failures.push(...r.failures);
    }
    if (register.length) {
      const r = await deps.panorama.registerTags(register, opts);
      calls += r.calls;
      failures.push(...r.failures);
    }
  } catch (err) {
    const kind = classify(err);
    const error = describeError(err);
    const at = deps.now().toISOString();
    if (err instanceof FirewallNotConnectedError) {
      await deps.status.recordPush({
        cluster,
        target,
        disconnected: true,
        lastError: error,
        lastErrorAt: at,
      });
      log.warn('push skipped: firewall not connected; the audit will repair it', { error });
      return { ...base, status: 'disconnected', failures: [], calls };
    }
    await deps.status.recordPush({ cluster, target, lastError: error, lastErrorAt: at });
    // A failure of the call itself (404, an HTML page, TLS) is never completed away: the host
    // retries the message, then poisons it, and it can be replayed once the cause is fixed.
    log.error('push failed; the message is retried, then poisoned', {
      error,
      kind,
      registered: registerCount,
      unregistered: unregisterCount,
    });
    throw err;
  }

  const at = deps.now().toISOString();
  const sample = failures
    .slice(0, 3)
    .map(
      (f) =>
        `${f.ip} [${f.tags.slice(0, 5).join(', ')}${f.tags.length > 5 ? `, +${f.tags.length - 5} more` : ''}]: ${f.message}`,
    )
    .join('; ');
  await deps.status.recordPush({
    cluster,
    target,
    lastPushAt: at,
    lastPushGeneration: generation,
    registered: registerCount,
    unregistered: unregisterCount,
    failedEntries: failures.length,
    disconnected: false,
    lastError: failures.length ? `${failures.length} entries rejected: ${sample}` : '',
    ...(failures.length ? { lastErrorAt: at } : {}),
  });
  const fields = {
    registered: registerCount,
    unregistered: unregisterCount,
    skipped,
    calls,
    durationMs: Date.now() - started,
  };
  if (failures.length > 0) {
    log.error('push done with rejected entries', { ...fields, failedEntries: failures.length, sample });
    return { ...base, status: 'entry-failures', failures, calls };
  }
  log.info('push done', fields);
  return { ...base, status: 'pushed', failures: [], calls };
}
