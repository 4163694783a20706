import { describe, expect, it } from 'vitest';
import { SnapshotCache } from '../../../shared/state/SnapshotCache.js';

const key = (partition: string, snapshot = 1, digest = 'd') => ({ partition, snapshot, digest });
const ips = (n: number) => new Map(Array.from({ length: n }, (_, i) => [`10.0.0.${i}`, ['t']] as const));

describe('SnapshotCache', () => {
  it('finds a snapshot only by partition, generation and digest', () => {
    const cache = new SnapshotCache();
    cache.set(key('a'), ips(1));
    expect(cache.get(key('a'))?.size).toBe(1);
    expect(cache.get(key('b'))).toBeUndefined();
    expect(cache.get(key('a', 2))).toBeUndefined();
    expect(cache.get(key('a', 1, 'other'))).toBeUndefined();
  });

  it.each([
    ['entries', new SnapshotCache(100, 2), [1, 1, 1], ['b', 'c']],
    ['IPs', new SnapshotCache(5, 10), [2, 2, 2], ['b', 'c']],
    ['IPs, one too large kept out', new SnapshotCache(5, 10), [2, 2, 6], ['a', 'b']],
  ])('drops the least recently used past its bound of %s', (_name, cache, sizes, kept) => {
    ['a', 'b', 'c'].forEach((p, i) => {
      cache.set(key(p), ips(sizes[i] as number));
    });
    expect(['a', 'b', 'c'].filter((p) => cache.get(key(p)))).toEqual(kept);
  });

  it('keeps the one just read when it drops', () => {
    const cache = new SnapshotCache(100, 2);
    cache.set(key('a'), ips(1));
    cache.set(key('b'), ips(1));
    cache.get(key('a'));
    cache.set(key('c'), ips(1));
    expect(['a', 'b', 'c'].filter((p) => cache.get(key(p)))).toEqual(['a', 'c']);
    expect(cache.size).toEqual({ entries: 2, ips: 2 });
  });
});
