/**
 * One-shot faults of a simulator, oldest first: each applies to a number of matching requests and
 * is dropped once used up.
 */
export class FaultQueue<T> {
  #queued: { fault: T; remaining: number }[] = [];

  /** Queues `fault` for the next `times` matching requests. */
  add(fault: T, times: number): void {
    this.#queued.push({ fault, remaining: times });
  }

  /** Uses up one application of the oldest fault that `matches`, or returns undefined. */
  take(matches: (fault: T) => boolean): T | undefined {
    const index = this.#queued.findIndex((q) => matches(q.fault));
    const queued = this.#queued[index];
    if (!queued) return undefined;
    queued.remaining -= 1;
    if (queued.remaining <= 0) this.#queued.splice(index, 1);
    return queued.fault;
  }

  /** Drops every queued fault. */
  clear(): void {
    this.#queued = [];
  }
}
