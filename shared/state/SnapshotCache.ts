/** Which snapshot a cache entry holds: a partition's snapshot of one generation with one digest. */
export interface SnapshotKey {
  partition: string;
  snapshot: number;
  digest: string;
}

/**
 * Decoded state snapshots of this process, least recently used dropped first. A snapshot never
 * changes once written, and the key includes the digest its head records, so an entry is never stale.
 * Bounded by the IPs held (`maxIps`) and the entries (`maxEntries`).
 */
export class SnapshotCache {
  readonly #entries = new Map<string, ReadonlyMap<string, readonly string[]>>();
  #ips = 0;

  constructor(
    readonly maxIps = 250_000,
    readonly maxEntries = 16,
  ) {}

  #key(key: SnapshotKey): string {
    return `${key.partition}\n${key.snapshot}\n${key.digest}`;
  }

  /** The cached snapshot, now the most recently used; undefined when not cached. */
  get(key: SnapshotKey): ReadonlyMap<string, readonly string[]> | undefined {
    const k = this.#key(key);
    const hit = this.#entries.get(k);
    if (hit) {
      this.#entries.delete(k);
      this.#entries.set(k, hit);
    }
    return hit;
  }

  /** Caches a snapshot (one larger than `maxIps` is not cached). */
  set(key: SnapshotKey, tags: ReadonlyMap<string, readonly string[]>): void {
    const k = this.#key(key);
    const old = this.#entries.get(k);
    if (old) {
      this.#entries.delete(k);
      this.#ips -= old.size;
    }
    if (tags.size > this.maxIps) return;
    this.#entries.set(k, tags);
    this.#ips += tags.size;
    for (const [oldest, held] of this.#entries) {
      if (this.#ips <= this.maxIps && this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(oldest);
      this.#ips -= held.size;
    }
  }

  /** Cached snapshots and the IPs they hold. */
  get size(): { entries: number; ips: number } {
    return { entries: this.#entries.size, ips: this.#ips };
  }
}
