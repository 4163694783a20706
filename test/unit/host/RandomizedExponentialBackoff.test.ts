import { describe, expect, it } from 'vitest';
import { RandomizedExponentialBackoff } from '../../../host/RandomizedExponentialBackoff.js';

describe('RandomizedExponentialBackoff', () => {
  it('doubles the increment after each empty poll until the maximum, then stays there', () => {
    const backoff = new RandomizedExponentialBackoff(100, 2000, () => 0.5);
    const delays = Array.from({ length: 8 }, () => backoff.next(false));
    expect(delays).toEqual([100, 200, 300, 500, 900, 1700, 2000, 2000]);
  });

  it('resets to the minimum once messages were found', () => {
    const backoff = new RandomizedExponentialBackoff(100, 2000, () => 0.5);
    for (let i = 0; i < 6; i++) backoff.next(false);
    expect(backoff.next(true)).toBe(100);
    expect(backoff.next(false)).toBe(200);
  });

  it('randomizes each increment by ±20 %', () => {
    const low = new RandomizedExponentialBackoff(100, 60_000, () => 0);
    const high = new RandomizedExponentialBackoff(100, 60_000, () => 1);
    for (let i = 0; i < 3; i++) {
      low.next(false);
      high.next(false);
    }
    expect(low.next(false)).toBe(100 + 0.8 * 400);
    expect(high.next(false)).toBe(100 + 1.2 * 400);
  });
});
