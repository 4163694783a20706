import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLUSTER_STATE_TABLE,
  type ClusterHead,
  ClusterStateStore,
} from '../../../shared/state/ClusterStateStore.js';
import type { IpTagMap } from '../../../shared/tags/IpTagMap.js';
import {
  internalService,
  type PipelineWorld,
  registeredObject,
  startPipelineWorld,
} from '../../helpers/pipelineWorld.js';

/** A state store whose process "dies" at a chosen write: that write and every later call fail. */
class DyingStateStore extends ClusterStateStore {
  dead = false;
  constructor(
    table: TableClient,
    private readonly dieAt: 'rows' | 'commit',
  ) {
    super(table);
  }
  #check(): void {
    if (this.dead) throw new Error('process is gone');
  }
  override async getHead(cluster: string) {
    this.#check();
    return super.getHead(cluster);
  }
  override async writeIpTags(
    cluster: string,
    upserts: IpTagMap,
    deletes: readonly string[],
    generation: number,
  ) {
    this.#check();
    if (this.dieAt === 'rows') {
      this.dead = true;
      throw new Error('process is gone');
    }
    return super.writeIpTags(cluster, upserts, deletes, generation);
  }
  override async replaceHead(head: ClusterHead) {
    this.#check();
    if (
      this.dieAt === 'commit' &&
      head.leaseOwner === '' &&
      head.generation === head.pendingGeneration &&
      head.generation > 0
    ) {
      this.dead = true;
      throw new Error('process is gone');
    }
    return super.replaceHead(head);
  }
}

describe.each(['rows', 'commit'] as const)('a crash after enqueue, before the %s write', (dieAt) => {
  let world: PipelineWorld;
  const cluster = `aks-crash-${dieAt}`;

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [{ name: cluster, services: [internalService('a', 'web', ['10.3.0.1'], { app: 'web' })] }],
    });
  });
  afterAll(async () => world?.stop());

  it('never loses the change: the next recompute after the lease expires converges', async () => {
    const table = TableClient.fromConnectionString(world.azurite.connectionString, CLUSTER_STATE_TABLE, {
      allowInsecureConnection: true,
    });
    const dying = new DyingStateStore(table, dieAt);
    const crashed = await world
      .recompute(cluster, { deps: { ...world.deps, state: dying } })
      .catch((err: Error) => err);
    expect(dying.dead).toBe(true);
    expect(crashed).toBeDefined();

    // The dead process held the lease: a new instance waits until it expires, then takes over.
    const later = world.otherInstance();
    const expired = { ...later, now: () => new Date(Date.now() + (later.leaseSeconds + 1) * 1000) };
    const outcome = await world.recompute(cluster, { deps: expired });
    expect(['changed', 'unchanged']).toContain(outcome.status);
    await world.drainDeltas();
    expect(registeredObject(world.panorama)).toEqual({
      '10.3.0.1': [`aks.${cluster}.svc.app.web`, `aks.${cluster}.web`].sort(),
    });
    const head = await world.deps.state.getHead(cluster);
    expect(head?.generation).toBe(head?.pendingGeneration);
    expect(await world.deps.queues.depth('tag-deltas-poison')).toBe(0);
  });
});
