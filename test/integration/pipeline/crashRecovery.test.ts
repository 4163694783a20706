import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineDeps, RecomputePhase } from '../../../shared/pipeline/PipelineDeps.js';
import {
  CLUSTER_STATE_TABLE,
  type ClusterHead,
  ClusterStateStore,
} from '../../../shared/state/ClusterStateStore.js';
import {
  internalService,
  type PipelineWorld,
  registeredObject,
  startPipelineWorld,
} from '../../helpers/pipelineWorld.js';

/** A state store on a process that can die: once dead, every call fails. */
class DyingStateStore extends ClusterStateStore {
  dead = false;
  #check(): void {
    if (this.dead) throw new Error('process is gone');
  }
  /** Dies as the recompute enters `phase`. */
  dieAt(phase: RecomputePhase): NonNullable<PipelineDeps['onRecomputePhase']> {
    return (entered) => {
      if (entered !== phase) return;
      this.dead = true;
      throw new Error('process is gone');
    };
  }
  override async getHead(cluster: string) {
    this.#check();
    return super.getHead(cluster);
  }
  override async readIpTags(cluster: string) {
    this.#check();
    return super.readIpTags(cluster);
  }
  override async writeSnapshot(...args: Parameters<ClusterStateStore['writeSnapshot']>) {
    this.#check();
    return super.writeSnapshot(...args);
  }
  override async replaceHead(head: ClusterHead) {
    this.#check();
    return super.replaceHead(head);
  }
}

describe.each(['write-snapshot', 'commit'] as const)(
  'a crash after enqueue, entering the %s phase',
  (dieAt) => {
    let world: PipelineWorld;
    const cluster = `aks-crash-${dieAt}`;

    beforeAll(async () => {
      world = await startPipelineWorld({
        clusters: [{ name: cluster, services: [internalService('a', 'web', ['10.3.0.1'], { app: 'web' })] }],
      });
    });
    afterAll(async () => world?.stop());

    it('never loses the change: the next recompute after the lease expires converges', async () => {
      // prepare
      const table = TableClient.fromConnectionString(world.azurite.connectionString, CLUSTER_STATE_TABLE, {
        allowInsecureConnection: true,
      });
      const dying = new DyingStateStore(table);

      // act: the recompute dies
      const crashed = await world
        .recompute(cluster, {
          deps: { ...world.deps, clusterState: dying, onRecomputePhase: dying.dieAt(dieAt) },
        })
        .catch((err: Error) => err);

      // assess
      expect(dying.dead).toBe(true);
      expect(crashed).toBeDefined();

      // act again
      // The dead process held the lease: a new instance waits until it expires, then takes over.
      const later = world.otherInstance();
      const expired = { ...later, now: () => new Date(Date.now() + (later.leaseSeconds + 1) * 1000) };
      const outcome = await world.recompute(cluster, { deps: expired });

      // assess
      expect(['changed', 'unchanged']).toContain(outcome.status);

      // act again
      await world.drainDeltas();

      // assess
      expect(registeredObject(world.panorama)).toEqual({
        '10.3.0.1': [`aks.${cluster}.svc.app.web`, `aks.${cluster}.web`].sort(),
      });
      const head = await world.deps.clusterState.getHead(cluster);
      expect(head?.generation).toBe(head?.pendingGeneration);
      expect(await world.deps.queues.depth('tag-deltas-poison')).toBe(0);
    });
  },
);
