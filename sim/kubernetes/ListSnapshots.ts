import type { KubeService } from '../../shared/kubernetes/KubeService.js';

/** The Services a paged list was started on, kept until its last page or until it expires. */
export interface ListSnapshot {
  rv: number;
  createdAt: number;
  items: KubeService[];
}

/** Consistent list snapshots by resourceVersion; they expire after a TTL, like etcd compaction. */
export class ListSnapshots {
  readonly #snapshots = new Map<number, ListSnapshot>();
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(now: () => number, ttlMs: number) {
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  /** Drops expired snapshots, then keeps `items` as the snapshot of `rv`. */
  take(rv: number, items: KubeService[]): ListSnapshot {
    this.#prune();
    const snap = { rv, createdAt: this.#now(), items };
    this.#snapshots.set(rv, snap);
    return snap;
  }

  /** Drops expired snapshots, then returns the one of `rv`, if any. */
  find(rv: number): ListSnapshot | undefined {
    this.#prune();
    return this.#snapshots.get(rv);
  }

  delete(rv: number): void {
    this.#snapshots.delete(rv);
  }

  /** Forgets every snapshot: every continue token issued so far answers 410 Gone. */
  clear(): void {
    this.#snapshots.clear();
  }

  #prune(): void {
    for (const [key, snap] of this.#snapshots) {
      if (this.#now() - snap.createdAt >= this.#ttlMs) this.#snapshots.delete(key);
    }
  }
}
