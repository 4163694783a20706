import { DEFAULT_PAGE_SIZE } from '../shared/kubernetes/KubernetesServiceSource.js';
import { startKubernetesSimulator } from '../sim/kubernetes/startKubernetesSimulator.js';
import type { BenchSection } from './BenchSection.js';
import { benchSizes, sizeKey } from './benchOptions.js';
import { type HarvestChildResult, PAGE_SIZES } from './HarvestChildResult.js';
import { runChild } from './runChild.js';
import { benchServices, ratio } from './workload.js';

/**
 * Harvest (list + decode) vs its floor (a bare keep-alive GET + `JSON.parse` of the same pages),
 * and client-node's list (the harvest before issue #12) at 500, for each size of `--sizes` (default
 * 10,000 and 50,000): at page sizes 250–2000 for the first size, at the default page size for the others. The simulator serves from this process; the harvests
 * run in `bench/harvestChild.ts`.
 */
export default async function harvestBench(): Promise<BenchSection> {
  const figures: BenchSection['figures'] = {};
  const sizes = benchSizes([10_000, 50_000]);
  for (const count of sizes) {
    const k = sizeKey(count);
    const services = benchServices(count);
    const kube = await startKubernetesSimulator({ services });
    try {
      const env = { BENCH_KUBE: JSON.stringify({ url: kube.url, token: kube.token, caData: kube.caData }) };
      const runs = count > 10_000 ? 3 : 5;
      const pages = count === sizes[0] ? PAGE_SIZES.join(',') : String(DEFAULT_PAGE_SIZE);
      const r = await runChild<HarvestChildResult>(
        'harvestChild.js',
        [String(services.length), String(runs), pages],
        env,
        600_000,
      );
      for (const p of r.pageSizes) {
        figures[`floorMs${k}@${p.pageSize}`] = p.floorMs;
        figures[`harvestMs${k}@${p.pageSize}`] = p.leanMs;
        figures[`harvestToFloorRatio${k}@${p.pageSize}`] = ratio(p.leanMs, p.floorMs);
        figures[`floorCpuMs${k}@${p.pageSize}`] = p.floorCpuMs;
        figures[`harvestCpuMs${k}@${p.pageSize}`] = p.leanCpuMs;
        figures[`harvestToFloorCpuRatio${k}@${p.pageSize}`] = ratio(p.leanCpuMs, p.floorCpuMs);
      }
      const at500 = r.pageSizes.find((p) => p.pageSize === 500);
      const atDefault = r.pageSizes.find((p) => p.pageSize === DEFAULT_PAGE_SIZE);
      if (atDefault)
        figures[`clientNodeToLeanRatio${k}@${DEFAULT_PAGE_SIZE}`] = ratio(
          r.clientNodeMs,
          atDefault.leanMs,
          1,
        );
      figures[`listMB${k}`] = r.pageSizes[0]?.floorMB ?? -1;
      figures[`clientNodeHarvestMs${k}@${r.clientNodePageSize}`] = r.clientNodeMs;
      figures[`clientNodeHarvestCpuMs${k}@${r.clientNodePageSize}`] = r.clientNodeCpuMs;
      if (at500) {
        figures[`clientNodeHarvestToFloorRatio${k}@500`] = ratio(r.clientNodeMs, at500.floorMs);
        figures[`clientNodeToLeanCpuRatio${k}@500`] = ratio(r.clientNodeCpuMs, at500.leanCpuMs, 1);
      }
    } finally {
      await kube.stop();
    }
  }
  return { name: 'harvest: lean list vs GET + JSON.parse of the same pages, and vs client-node', figures };
}
