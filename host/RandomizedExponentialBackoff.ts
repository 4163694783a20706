/**
 * The queue listener's idle polling delay, as the WebJobs `RandomizedExponentialBackoffStrategy`
 * computes it: after a poll that found messages the delay resets to the minimum; after each empty
 * poll it grows to `minimum + minimum * 2^(n-1) * (0.8…1.2)` until it reaches the maximum, then stays there.
 */
export class RandomizedExponentialBackoff {
  static readonly RANDOMIZATION_FACTOR = 0.2;
  readonly #minimumMs: number;
  readonly #maximumMs: number;
  readonly #random: () => number;
  #currentMs = 0;
  #exponent = 0;

  constructor(minimumMs: number, maximumMs: number, random: () => number = Math.random) {
    this.#minimumMs = minimumMs;
    this.#maximumMs = Math.max(minimumMs, maximumMs);
    this.#random = random;
  }

  /** The delay before the next poll; `foundMessages` says whether messages arrived since the last delay. */
  next(foundMessages: boolean): number {
    if (foundMessages) {
      this.#currentMs = this.#minimumMs;
      this.#exponent = 1;
    } else if (this.#currentMs !== this.#maximumMs) {
      let interval = this.#minimumMs;
      if (this.#exponent > 0) {
        const f = RandomizedExponentialBackoff.RANDOMIZATION_FACTOR;
        const jitter = 1 - f + this.#random() * 2 * f;
        interval += jitter * 2 ** (this.#exponent - 1) * this.#minimumMs;
      }
      if (interval < this.#maximumMs) {
        this.#currentMs = interval;
        this.#exponent += 1;
      } else {
        this.#currentMs = this.#maximumMs;
      }
    }
    return Math.round(this.#currentMs);
  }
}
