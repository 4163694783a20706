const DECIMAL = /^[+-]?[0-9]+$/;
const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;

/**
 * `text` as a signed 64-bit integer, read as Go's `strconv.ParseInt(text, 10, 64)` reads it (which
 * `k8s.io/apimachinery/pkg/labels` uses for `>` and `<`): an optional `+` or `-`, then one or more
 * ASCII digits (leading zeros allowed), within −2⁶³ … 2⁶³−1; anything else is `undefined`.
 *
 * @example parseInt64('007') // 7n
 * @example parseInt64('9223372036854775808') // undefined (out of range)
 */
export function parseInt64(text: string): bigint | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const n = BigInt(text);
  return n < MIN_INT64 || n > MAX_INT64 ? undefined : n;
}
