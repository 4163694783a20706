import { KubeCredentialProvider } from '../shared/aks/KubeCredentialProvider.js';
import type { ClusterConfig } from '../shared/config/loadConfig.js';
import { KubernetesServiceSource } from '../shared/kubernetes/KubernetesServiceSource.js';
import { elapsedMs } from './BenchSection.js';
import { clientNodeHarvest } from './clientNodeHarvest.js';
import { type HarvestChildResult, PAGE_SIZES } from './HarvestChildResult.js';
import { harvestFloor, type KubeTarget } from './harvestFloor.js';
import { median } from './workload.js';

/**
 * The harvest measured in a process of its own (the Kubernetes simulator runs in the parent, so
 * serving pages is not what is measured): `node dist/bench/harvestChild.js <services> <runs> [<page sizes>]` with
 * `{url, token, caData}` as JSON in `BENCH_KUBE`. For each page size it times, alternately and
 * after a warm-up, the floor ({@link harvestFloor}) and the lean `KubernetesServiceSource`, then
 * client-node's list (`bench/clientNodeHarvest.ts`) at 500; prints `RESULT {json}` with medians.
 */

interface Timing {
  ms: number;
  cpuMs: number;
}

async function timed(fn: () => Promise<number>, expected: number): Promise<Timing> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const n = await fn();
  const ms = elapsedMs(started);
  const used = process.cpuUsage(cpu);
  if (n !== expected) throw new Error(`harvest returned ${n} of ${expected} Services`);
  return { ms, cpuMs: Math.round((used.user + used.system) / 10) / 100 };
}

const medians = (t: Timing[]): Timing => ({
  ms: median(t.map((x) => x.ms)),
  cpuMs: median(t.map((x) => x.cpuMs)),
});

async function main(): Promise<void> {
  const expected = Number(process.argv[2]);
  const runs = Number(process.argv[3] ?? 5);
  const pageSizes = (process.argv[4] ?? PAGE_SIZES.join(',')).split(',').map(Number);
  const target = JSON.parse(process.env.BENCH_KUBE ?? '{}') as KubeTarget;
  const cluster: ClusterConfig = {
    name: 'aks-harvest',
    server: target.url,
    ...(target.caData ? { caData: target.caData } : {}),
    auth: { type: 'token', token: target.token },
    labelSelectors: [],
    deviceGroups: [],
  };
  const access = new KubeCredentialProvider({
    credential: () => {
      throw new Error('token mode');
    },
  });
  const result: HarvestChildResult = {
    pageSizes: [],
    clientNodeMs: 0,
    clientNodeCpuMs: 0,
    clientNodePageSize: 500,
  };
  for (const pageSize of pageSizes) {
    const source = new KubernetesServiceSource({ access, pageSize });
    const floor = async () => (await harvestFloor(target, pageSize)).items;
    const lean = async () => (await source.listServices(cluster)).length;
    const bytes = (await harvestFloor(target, pageSize)).bytes;
    await lean();
    const floors: Timing[] = [];
    const leans: Timing[] = [];
    for (let i = 0; i < runs; i++) {
      floors.push(await timed(floor, expected));
      leans.push(await timed(lean, expected));
    }
    source.close();
    const [f, l] = [medians(floors), medians(leans)];
    result.pageSizes.push({
      pageSize,
      floorMs: f.ms,
      leanMs: l.ms,
      floorCpuMs: f.cpuMs,
      leanCpuMs: l.cpuMs,
      floorMB: Math.round(bytes / 104857.6) / 10,
    });
  }
  const old = async () => (await clientNodeHarvest(target, result.clientNodePageSize)).length;
  await old();
  const olds: Timing[] = [];
  for (let i = 0; i < Math.max(1, Math.ceil(runs / 2)); i++) olds.push(await timed(old, expected));
  const o = medians(olds);
  result.clientNodeMs = o.ms;
  result.clientNodeCpuMs = o.cpuMs;
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `harvestChild: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
