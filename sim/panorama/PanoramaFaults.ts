import { FaultQueue } from '../FaultQueue.js';
import { seededRandom } from './seededRandom.js';
import type { SimFault, SimFaultFilter, SimFaultSettings } from './startPanoramaSimulator.js';

interface QueuedPanoramaFault {
  fault: SimFault;
  type?: string;
  target?: string;
}

/** The faults of the Panorama simulator: standing settings (latency, error rate) and queued one-shot faults. */
export class PanoramaFaults {
  #settings: SimFaultSettings;
  #random: () => number;
  readonly #queued = new FaultQueue<QueuedPanoramaFault>();

  constructor(settings: SimFaultSettings | undefined) {
    this.#settings = { ...settings };
    this.#random = seededRandom(this.#settings.seed ?? 1);
  }

  /** Delay before every answer, in milliseconds. */
  get latencyMs(): number | undefined {
    return this.#settings.latencyMs;
  }

  /** Replaces the standing faults and restarts the PRNG from their seed. */
  set(settings: SimFaultSettings): void {
    this.#settings = { ...settings };
    this.#random = seededRandom(settings.seed ?? 1);
  }

  /** Queues a one-shot fault for the next matching call(s). */
  queue(fault: SimFault, filter: SimFaultFilter): void {
    this.#queued.add(
      {
        fault,
        ...(filter.type === undefined ? {} : { type: filter.type }),
        ...(filter.target === undefined ? {} : { target: filter.target }),
      },
      filter.count ?? 1,
    );
  }

  /** Removes standing and queued faults (the PRNG keeps its state). */
  clear(): void {
    this.#settings = {};
    this.#queued.clear();
  }

  /** The fault of a call: the oldest matching queued one, else one drawn at the standing error rate. */
  pick(type: string, target: string | undefined): SimFault | undefined {
    const queued = this.#queued.take(
      (f) =>
        (f.type === undefined || f.type === type) && (f.target === undefined || f.target === (target ?? '')),
    );
    if (queued) return queued.fault;
    const rate = this.#settings.errorRate ?? 0;
    if (rate > 0 && this.#random() < rate) {
      const list = this.#settings.errorFaults?.length ? this.#settings.errorFaults : (['http-503'] as const);
      return list[Math.floor(this.#random() * list.length)] ?? 'http-503';
    }
    return undefined;
  }
}
