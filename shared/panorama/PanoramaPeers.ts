import { FailureKind, PanoramaError } from '../errors.js';
import { type Logger, redact, silentLogger } from '../logger.js';
import { choosePeer, describeObservations, type PeerObservation } from './haState.js';

/** Default {@link PanoramaPeersOptions.recheckMs}: how long a known active peer is trusted without asking again. */
export const DEFAULT_HA_RECHECK_MS = 30_000;

/** How {@link PanoramaPeers} reaches and questions the peers. */
export interface PanoramaPeersOptions<P> {
  /** One peer (no HA: used as is, never questioned) or the two peers of an HA pair, in configured order. */
  peers: readonly P[];
  /** The peer's base URL, for logs and messages (never carries credentials). */
  urlOf: (peer: P) => string;
  /** Asks one peer `show high-availability state`; must not throw (a failure is `unreachable`). */
  probe: (peer: P) => Promise<PeerObservation>;
  /** Trust a known active peer this long before asking again (default {@link DEFAULT_HA_RECHECK_MS}). */
  recheckMs?: number;
  /** Milliseconds clock (default `Date.now`). */
  now?: () => number;
  logger?: Logger;
}

/**
 * Routes the calls of one Panorama, or of the two peers of a Panorama HA pair, to the active peer.
 *
 * Rules for a pair (`panos-xml-api.md`, "Panorama HA": a passive peer's answer to `type=user-id`
 * is not documented, so no rule depends on it):
 * - Before the first call, and again once the last answer is older than `recheckMs`, both peers are
 *   asked their HA state; everything goes to the one {@link choosePeer} picks.
 * - After **any** failed call the HA state is asked again. When another peer is now the active one,
 *   the call is repeated there once (the calls are idempotent); when it is still the same, the
 *   failure stands; when none is active, the call fails as below.
 * - When no peer is active (both passive, one passive and one down, HA in transition) a retryable
 *   {@link PanoramaError} names every peer's state: queue messages are retried, never dropped.
 * - Concurrent callers share one round of questions.
 */
export class PanoramaPeers<P> {
  readonly #peers: readonly P[];
  readonly #o: Required<Omit<PanoramaPeersOptions<P>, 'peers'>>;
  #active: P | undefined;
  /** The last peer that was active (survives a round without an active peer, so a later switch is a failover). */
  #lastActive: P | undefined;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #round: Promise<P | undefined> | undefined;
  #last: PeerObservation[] = [];

  constructor(options: PanoramaPeersOptions<P>) {
    if (options.peers.length < 1 || options.peers.length > 2) {
      throw new RangeError(`PanoramaPeers: expected one or two peers, got ${options.peers.length}`);
    }
    this.#peers = options.peers;
    this.#o = {
      urlOf: options.urlOf,
      probe: options.probe,
      recheckMs: options.recheckMs ?? DEFAULT_HA_RECHECK_MS,
      now: options.now ?? Date.now,
      logger: options.logger ?? silentLogger,
    };
  }

  /** True for an HA pair (two peers). */
  get isPair(): boolean {
    return this.#peers.length === 2;
  }

  /** The peer calls go to, as of the last round of questions (`undefined`: none active, or not asked yet). */
  get active(): P | undefined {
    return this.isPair ? this.#active : this.#peers[0];
  }

  /** Every peer, in configured order. */
  get peers(): readonly P[] {
    return this.#peers;
  }

  /** Runs `fn` on the active peer; on failure asks the HA state again and moves to the new active peer once. */
  async run<T>(fn: (peer: P) => Promise<T>): Promise<T> {
    const only = this.#peers[0] as P;
    if (!this.isPair) return fn(only);
    const peer = await this.#current();
    try {
      return await fn(peer);
    } catch (err) {
      const next = await this.#ask();
      if (next === undefined) throw this.#noActivePeer(err);
      if (next === peer) throw err;
      return fn(next);
    }
  }

  /** Asks every peer its HA state now (for `status`); also updates the routing. */
  async observe(): Promise<PeerObservation[]> {
    if (!this.isPair) return Promise.all(this.#peers.map((p) => this.#o.probe(p)));
    await this.#ask();
    return [...this.#last];
  }

  async #current(): Promise<P> {
    const fresh = this.#o.now() - this.#checkedAt < this.#o.recheckMs;
    const peer = fresh && this.#active !== undefined ? this.#active : await this.#ask();
    if (peer !== undefined) return peer;
    throw this.#noActivePeer();
  }

  #noActivePeer(cause?: unknown): PanoramaError {
    return new PanoramaError(
      `No active Panorama in the HA pair (${this.#describe()}); the call will be retried`,
      {
        kind: FailureKind.retryable,
        details: { peers: this.#peers.map(this.#o.urlOf) },
        ...(cause instanceof Error ? { cause } : {}),
      },
    );
  }

  #ask(): Promise<P | undefined> {
    this.#round ??= this.#askAll().finally(() => {
      this.#round = undefined;
    });
    return this.#round;
  }

  async #askAll(): Promise<P | undefined> {
    const observations = await Promise.all(this.#peers.map((p) => this.#o.probe(p)));
    const index = choosePeer(observations);
    const next = index === undefined ? undefined : this.#peers[index];
    this.#last = observations;
    this.#checkedAt = this.#o.now();
    this.#report(this.#lastActive, next);
    this.#active = next;
    this.#lastActive = next ?? this.#lastActive;
    return next;
  }

  #report(previous: P | undefined, next: P | undefined): void {
    const fields = { peers: this.#describe() };
    if (next === undefined) {
      this.#o.logger.warn('no active panorama peer', fields);
    } else if (previous === undefined || (previous === next && this.#active === undefined)) {
      this.#o.logger.info('panorama active peer', { active: this.#o.urlOf(next), ...fields });
    } else if (previous !== next) {
      this.#o.logger.warn('panorama failover', {
        from: this.#o.urlOf(previous),
        to: this.#o.urlOf(next),
        ...fields,
      });
    }
  }

  #describe(): string {
    return redact(describeObservations(this.#peers.map(this.#o.urlOf), this.#last));
  }
}
