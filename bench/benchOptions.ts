/**
 * Options of `npm run bench` beyond the section names: `--sizes=10000,50000` (or `BENCH_SIZES`)
 * chooses the Service counts of the `harvest` and `pipeline` sections.
 */
function option(name: string, env: string): string | undefined {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`));
  return flag ? flag.slice(name.length + 3) : process.env[env];
}

/** The Service counts to run (`--sizes=` / `BENCH_SIZES`, comma-separated), else `defaults`. */
export function benchSizes(defaults: readonly number[]): number[] {
  const raw = option('sizes', 'BENCH_SIZES');
  if (!raw) return [...defaults];
  const sizes = raw.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1000 || n % 1000 !== 0)) {
    throw new Error(`--sizes / BENCH_SIZES: "${raw}" is not a list of multiples of 1000 (e.g. 10000,50000)`);
  }
  return sizes;
}

/** `10k` for 10,000: the suffix of a figure's name. */
export function sizeKey(count: number): string {
  return `${count / 1000}k`;
}
