import pLimit, { type LimitFunction } from 'p-limit';
import { type BackoffOptions, backoffDelay, sleep, withJitter } from '../backoff.js';
import { FailureKind, PanoramaError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { PermitHolder, PermitRepository } from '../state/PermitRepository.js';
import type { CallPermits } from './CallPermits.js';
import { choosePermit, type PermitChoice } from './choosePermit.js';

/** Options of a {@link SharedCallLimit}. */
export interface SharedCallLimitOptions {
  /** Where the permits live (Table Storage in the app). */
  permits: PermitRepository;
  /** One partition per Panorama (`permitPartition` of `PANORAMA_URL`). */
  partition: string;
  /** Permits, i.e. HTTP calls in flight to this Panorama from every instance (`PANORAMA_CONCURRENCY`). */
  limit: number;
  /** How long a hold lasts if its holder never gives it back (`PANORAMA_PERMIT_SECONDS`). */
  permitMs: number;
  /** How long a call waits for a permit before it fails (retryable). */
  maxWaitMs: number;
  /** This instance, written into each row it holds (with a sequence number). */
  owner: string;
  logger?: Logger;
  /** Polling delays while every permit is held (default 25 ms doubling to 1 s, jittered). */
  poll?: BackoffOptions;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

interface HeldPermit {
  index: number;
  etag: string;
}

/** Default {@link SharedCallLimitOptions.poll}. */
export const PERMIT_POLL: BackoffOptions = { baseMs: 25, maxMs: 1000 };

/**
 * A counting semaphore shared by every instance of the app: at most `limit` calls hold a permit at
 * once, wherever they run. A permit is a row (`shared/state/PermitRepository.ts`) taken with an
 * ETag-conditional write of `owner` + `until` and given back by clearing it; a hold whose `until`
 * has passed (a crashed or frozen instance) can be taken over. A caller that finds every permit held
 * polls with jittered exponential backoff, and fails with a retryable {@link PanoramaError} after
 * `maxWaitMs`. Within one process at most `limit` callers poll storage at once; the others wait in
 * memory.
 *
 * Storage cost per call without contention: a list and a conditional write to take the permit (both
 * before the call), one conditional write to give it back (after the call's result is returned).
 */
export class SharedCallLimit implements CallPermits {
  readonly #o: Required<Omit<SharedCallLimitOptions, 'logger'>> & { logger: Logger };
  readonly #local: LimitFunction;
  #seq = 0;

  constructor(options: SharedCallLimitOptions) {
    this.#o = {
      logger: silentLogger,
      poll: PERMIT_POLL,
      now: Date.now,
      sleep,
      random: Math.random,
      ...options,
    };
    this.#local = pLimit(options.limit);
  }

  /** Runs `call` holding one of the shared permits. */
  withPermit<T>(call: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#local(async () => {
        const permit = await this.#take();
        try {
          resolve(await call());
        } catch (err) {
          reject(err);
        } finally {
          await this.#giveBack(permit);
        }
      }).catch(reject);
    });
  }

  async #take(): Promise<HeldPermit> {
    const { permits, partition, limit, now, random } = this.#o;
    const started = now();
    for (let waits = 0; ; ) {
      const rows = await permits.list(partition);
      const choice = choosePermit(rows, { limit, nowMs: now(), start: Math.floor(random() * limit) });
      if (choice.action !== 'wait') {
        const held = await this.#try(choice);
        if (held) return held;
      }
      const waited = now() - started;
      if (waited >= this.#o.maxWaitMs) throw this.#timeout(waited);
      if (choice.action === 'wait') {
        waits++;
        const delay = withJitter(backoffDelay(waits, this.#o.poll), random);
        await this.#o.sleep(Math.min(delay, this.#o.maxWaitMs - waited));
      }
    }
  }

  async #try(choice: Exclude<PermitChoice, { action: 'wait' }>): Promise<HeldPermit | undefined> {
    const { permits, partition } = this.#o;
    const holder: PermitHolder = {
      owner: `${this.#o.owner}#${++this.#seq}`,
      untilMs: this.#o.now() + this.#o.permitMs,
    };
    const etag =
      choice.action === 'create'
        ? await permits.create(partition, choice.index, holder)
        : await permits.replace(partition, choice.index, choice.etag, holder);
    if (etag === undefined) return undefined;
    if (choice.action === 'take' && choice.previousOwner) {
      this.#o.logger.warn('took over an expired Panorama call permit (its holder crashed or hung)', {
        partition,
        permit: choice.index,
        previousOwner: choice.previousOwner,
      });
    }
    return { index: choice.index, etag };
  }

  async #giveBack(permit: HeldPermit): Promise<void> {
    const { permits, partition } = this.#o;
    try {
      const etag = await permits.replace(partition, permit.index, permit.etag, undefined);
      if (etag === undefined) {
        this.#o.logger.warn('a Panorama call permit was taken over before it was given back', {
          partition,
          permit: permit.index,
        });
      }
    } catch (err) {
      this.#o.logger.warn('could not give a Panorama call permit back (it expires on its own)', {
        partition,
        permit: permit.index,
        error: (err as Error).message,
      });
    }
  }

  #timeout(waitedMs: number): PanoramaError {
    const { partition, limit } = this.#o;
    return new PanoramaError(
      `no Panorama call permit within ${Math.round(waitedMs / 1000)} s: all ${limit} permits of ${partition} are held (PANORAMA_CONCURRENCY is shared by every instance)`,
      { kind: FailureKind.retryable, details: { partition, limit, waitedMs } },
    );
  }
}
