/** One section of `npm run bench`: a name and its figures (numbers with units in the key names). */
export interface BenchSection {
  name: string;
  figures: Record<string, number | string>;
}

/** A benchmark module's default export. */
export type Bench = () => Promise<BenchSection>;

/** Milliseconds since `start` (a `process.hrtime.bigint()` value), to 0.01 ms. */
export function elapsedMs(start: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - start) / 10_000) / 100;
}
