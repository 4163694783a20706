import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInt64 } from '../../../shared/selectors/parseInt64.js';

describe('parseInt64 (Go strconv.ParseInt(s, 10, 64))', () => {
  it.each<[string, bigint | undefined]>([
    ['0', 0n],
    ['7', 7n],
    ['007', 7n],
    ['+5', 5n],
    ['-5', -5n],
    ['-0', 0n],
    ['9223372036854775807', 9223372036854775807n],
    ['-9223372036854775808', -9223372036854775808n],
    ['00000000000000000000000000009223372036854775807', 9223372036854775807n],
    ['9223372036854775808', undefined],
    ['-9223372036854775809', undefined],
    ['', undefined],
    ['+', undefined],
    ['-', undefined],
    ['+-1', undefined],
    ['1_000', undefined],
    ['0x10', undefined],
    ['1e3', undefined],
    ['1.0', undefined],
    [' 1', undefined],
    ['1 ', undefined],
    ['٣', undefined],
    ['v2', undefined],
  ])('%j → %s', (text, expected) => {
    expect(parseInt64(text)).toBe(expected);
  });

  it('reads back every 64-bit integer it is given in decimal', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        expect(parseInt64(n.toString())).toBe(n);
      }),
      { numRuns: 500 },
    );
  });
});
