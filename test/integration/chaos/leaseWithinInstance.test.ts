import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineDeps } from '../../../shared/pipeline/PipelineDeps.js';
import { type RecomputeOutcome, recomputeCluster } from '../../../shared/pipeline/recomputeCluster.js';
import { type ChaosWorld, type SeedWorld, serviceOf, startChaosWorld } from '../../helpers/chaosWorld.js';

/*
 * Found by the chaos test. Invariant 4 — one recompute per cluster at a time — must hold
 * between two invocations of the SAME process too: the Functions host runs queue messages
 * concurrently in one process (host.json `batchSize` 2 + `newBatchThreshold` 2), and every
 * invocation of a process shares `deps.instanceId`. `acquireLease` used to let a lease held by its
 * own instance id be taken again, so a second invocation stole the lease of a running recompute
 * instead of deferring ('busy'); the lease owner is now unique per recompute invocation.
 */

let world: ChaosWorld;
beforeAll(async () => {
  world = await startChaosWorld();
});
afterAll(async () => world?.stop());

let seq = 0;
async function overlap(
  sameInstance: boolean,
): Promise<{ first: RecomputeOutcome | string; second: RecomputeOutcome | string; world: SeedWorld }> {
  const seedWorld = await world.startSeed(90_000 + ++seq, [{ role: 'p', labelSelectors: [] }]);
  const cluster = seedWorld.clusters[0];
  if (!cluster) throw new Error('no cluster');
  cluster.kube.addService(
    serviceOf({ namespace: 'a', name: 'web', ips: ['10.40.0.1'], labels: {}, kind: 'internal' }),
  );
  const a: PipelineDeps = seedWorld.instance({ name: 'a' });
  const b: PipelineDeps = sameInstance ? a : seedWorld.instance({ name: 'b' });
  const request = () => ({
    v: 1 as const,
    cluster: cluster.name,
    reason: 'test',
    requestedAt: new Date().toISOString(),
  });
  // The first recompute holds the lease while its Service list is slow; the second starts meanwhile.
  cluster.kube.injectFault({ type: 'latency', ms: 1500 }, { times: 1 });
  const first = recomputeCluster(request(), a).catch((err: Error) => `threw: ${err.message}`);
  // Wait until the first holds the lease (no fixed delay: robust on a loaded machine).
  for (let i = 0; i < 250 && !(await a.clusterState.getHead(cluster.name))?.leaseOwner; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const second = await recomputeCluster(request(), b).catch((err: Error) => `threw: ${err.message}`);
  return { first: await first, second, world: seedWorld };
}

const statusOf = (o: RecomputeOutcome | string) => (typeof o === 'string' ? o : o.status);

describe('a recompute that starts while another holds the cluster lease', () => {
  it('defers when the lease holder is another instance (control)', async () => {
    const { first, second } = await overlap(false);
    expect([statusOf(first), statusOf(second)]).toEqual(['changed', 'busy']);
  });

  it('defers when the lease holder is another invocation of the same instance', async () => {
    const { first, second } = await overlap(true);
    expect([statusOf(first), statusOf(second)]).toEqual(['changed', 'busy']);
  });
});
