import type { KubeService } from '../../shared/kubernetes/KubeService.js';
import { serviceKey } from './serviceKey.js';

/** The Services a paged list was started on, kept until its last page or until it expires. */
export interface ListSnapshot {
  rv: number;
  createdAt: number;
  /** The Services in etcd key order. */
  items: readonly KubeService[];
  /** `serviceKey` of each item, same order (binary-searched by pages: a page costs O(limit + log n)). */
  keys: readonly string[];
}

/** The index of the first key `>= key` in sorted `keys` (`keys.length` when none). */
export function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Consistent list snapshots by resourceVersion; they expire after a TTL, like etcd compaction. The
 * sorted Services of the latest resourceVersion are reused by every list started on it (stored
 * Services are replaced, never changed), so starting a list does not sort the store again.
 */
export class ListSnapshots {
  readonly #snapshots = new Map<number, ListSnapshot>();
  readonly #now: () => number;
  readonly #ttlMs: number;
  #latest: Pick<ListSnapshot, 'rv' | 'items' | 'keys'> | undefined;

  constructor(now: () => number, ttlMs: number) {
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  /** Drops expired snapshots, then keeps the Services of `rv` (`sorted()` only called for a new `rv`). */
  take(rv: number, sorted: () => KubeService[]): ListSnapshot {
    this.#prune();
    if (this.#latest?.rv !== rv) {
      const items = sorted();
      this.#latest = { rv, items, keys: items.map(serviceKey) };
    }
    const snap = { ...this.#latest, createdAt: this.#now() };
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
