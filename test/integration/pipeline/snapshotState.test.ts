import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditTargets } from '../../../shared/pipeline/auditTargets.js';
import type { DeltaMessage } from '../../../shared/pipeline/messages.js';
import { pushTagDeltas } from '../../../shared/pipeline/pushTagDeltas.js';
import { clusterPartition } from '../../../shared/state/ClusterStateRepository.js';
import {
  CLUSTER_STATE_TABLE,
  type ClusterHead,
  ClusterStateStore,
  HEAD_ROW_KEY,
} from '../../../shared/state/ClusterStateStore.js';
import { writeLegacyIpRows } from '../../helpers/legacyClusterState.js';
import {
  internalService,
  type PipelineWorld,
  registeredObject,
  startPipelineWorld,
} from '../../helpers/pipelineWorld.js';

function stateTable(world: PipelineWorld): TableClient {
  return TableClient.fromConnectionString(world.azurite.connectionString, CLUSTER_STATE_TABLE, {
    allowInsecureConnection: true,
  });
}

/** The RowKeys of a cluster's partition. */
async function rowKeys(world: PipelineWorld, cluster: string): Promise<string[]> {
  const keys: string[] = [];
  const pk = clusterPartition(cluster);
  for await (const e of stateTable(world).listEntities({
    queryOptions: { filter: `PartitionKey eq '${pk}'`, select: ['RowKey'] },
  }))
    keys.push(e.rowKey ?? '');
  return keys.sort();
}

/** A head exactly as 0.1.0 wrote it: no snapshot pointer, no digest. */
async function writeLegacyHead(world: PipelineWorld, cluster: string, generation: number, ips: number) {
  await stateTable(world)
    .createTable()
    .catch(() => undefined);
  await stateTable(world).createEntity({
    ...{ partitionKey: clusterPartition(cluster), rowKey: HEAD_ROW_KEY, cluster, generation },
    ...{ pendingGeneration: generation, ipCount: ips, tagCount: ips, targets: '["panorama"]' },
    ...{ retiringTargets: '[]', heldRemovals: 0, holdBasePairs: 0, ipsOverBudget: 0, leaseOwner: '' },
  });
}

/** A state store that counts snapshot reads, and runs `race` inside the `raceAt`-th head read. */
class WatchedStore extends ClusterStateStore {
  snapshotReads = 0;
  headReads = 0;
  raceAt = 0;
  race: () => Promise<void> = async () => {};
  override async getHead(cluster: string) {
    const head = await super.getHead(cluster);
    if (++this.headReads === this.raceAt) await this.race();
    return head;
  }
  override async readSnapshot(cluster: string, head: ClusterHead) {
    this.snapshotReads++;
    return super.readSnapshot(cluster, head);
  }
}

describe('a state written by 0.1.0 (one row per IP)', () => {
  let world: PipelineWorld;
  const cluster = 'aks-legacy';
  const kept = 'aks-legacy-same';

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [
        { name: cluster, services: [internalService('shop', 'web', ['10.61.0.1'])] },
        { name: kept, services: [internalService('shop', 'db', ['10.61.1.1'])] },
      ],
    });
  });
  afterAll(async () => world?.stop());

  it('is read as the committed state, then migrated by the next commit: rows gone, device right', async () => {
    // prepare: what 0.1.0 left — its head, one row per IP (one IP the cluster no longer has), the device
    await writeLegacyHead(world, cluster, 3, 2);
    const legacy = new Map([
      ['10.61.0.1', ['aks.aks-legacy.web']],
      ['10.61.0.9', ['aks.aks-legacy.gone']],
    ]);
    await writeLegacyIpRows(stateTable(world), cluster, legacy, 3);
    world.panorama.seedTags(legacy);

    // act and assess: the first read sees the rows
    expect(await world.deps.clusterState.readIpTags(cluster)).toEqual(legacy);

    // act: recompute and push
    const outcome = await world.recompute(cluster);
    await world.drainDeltas();

    // assess
    expect(outcome).toMatchObject({ status: 'changed', generation: 4, unregistered: 1, registered: 0 });
    expect([...(await world.deps.clusterState.readIpTags(cluster))]).toEqual([
      ['10.61.0.1', ['aks.aks-legacy.web']],
    ]);
    expect(await rowKeys(world, cluster)).toEqual([HEAD_ROW_KEY, '_snap-000000000004-0000']);
    expect(await world.deps.clusterState.getHead(cluster)).toMatchObject({ snapshot: 4, ipCount: 1 });
    expect(registeredObject(world.panorama)).toMatchObject({ '10.61.0.1': ['aks.aks-legacy.web'] });
    expect(registeredObject(world.panorama)['10.61.0.9']).toBeUndefined();
    expect(world.logs.lines.some((l) => /state migrated: the 0\.1\.0 rows/.test(l.message))).toBe(true);

    // act again: the audit finds nothing to repair
    const audits = await auditTargets(world.deps, { force: true, clusters: [cluster] });
    expect(audits).toMatchObject([{ target: 'panorama', registered: 0, unregistered: 0 }]);
  });

  it('is migrated by an unchanged recompute too, keeping the generation', async () => {
    // prepare
    await writeLegacyHead(world, kept, 5, 1);
    await writeLegacyIpRows(stateTable(world), kept, new Map([['10.61.1.1', ['aks.aks-legacy-same.db']]]), 5);

    // act
    const outcome = await world.recompute(kept);

    // assess
    expect(outcome).toMatchObject({ status: 'unchanged', generation: 5 });
    expect(await rowKeys(world, kept)).toEqual([HEAD_ROW_KEY, '_snap-000000000005-0000']);
    expect([...(await world.deps.clusterState.readIpTags(kept))]).toEqual([
      ['10.61.1.1', ['aks.aks-legacy-same.db']],
    ]);
  });
});

describe('pushes and recomputes on snapshots', () => {
  let world: PipelineWorld;
  const cluster = 'aks-snap';
  const web = ['aks.aks-snap.web'];
  const sim = () => world.kube.get(cluster);

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [{ name: cluster, services: [internalService('shop', 'web', ['10.62.0.1'])] }],
    });
    await world.recompute(cluster);
    await world.drainDeltas();
  });
  afterAll(async () => world?.stop());

  it('an unchanged recompute compares digests and reads no snapshot; a changed one reads it', async () => {
    // prepare
    const watched = new WatchedStore(stateTable(world));
    const deps = { ...world.deps, clusterState: watched };

    // act and assess
    expect(await world.recompute(cluster, { deps })).toMatchObject({ status: 'unchanged' });
    expect(watched.snapshotReads).toBe(0);
    sim()?.addService(internalService('shop', 'api', ['10.62.0.5']));
    expect(await world.recompute(cluster, { deps })).toMatchObject({ status: 'changed' });
    expect(watched.snapshotReads).toBe(1);
    await world.drainDeltas();
  });

  it('a push of generation g handled after g+1 committed does not re-register what g+1 removed', async () => {
    // prepare: g adds 10.62.0.2; before its message is pushed, g+1 removes it again
    sim()?.addService(internalService('shop', 'cart', ['10.62.0.2']));
    const added = await world.recompute(cluster);
    const stale: DeltaMessage = {
      ...{ v: 1, cluster, target: 'panorama', generation: added.generation ?? 0 },
      deltas: [{ ip: '10.62.0.2', register: ['aks.aks-snap.cart'], unregister: [] }],
    };
    sim()?.deleteService('shop', 'cart');
    expect(await world.recompute(cluster)).toMatchObject({ status: 'changed' });
    world.panorama.resetCalls();

    // act
    const outcome = await pushTagDeltas(stale, world.deps);

    // assess
    expect(outcome).toMatchObject({ status: 'nothing-to-send', skipped: 1, registered: 0 });
    expect(registeredObject(world.panorama)['10.62.0.2']).toBeUndefined();
    await world.drainDeltas();
    expect(registeredObject(world.panorama)['10.62.0.2']).toBeUndefined();
  });

  it('a push whose snapshot is removed between the head read and the snapshot read retries on the newer one', async () => {
    // prepare: an old message unregistering what the state still has; two commits land during the push
    const head = await world.deps.clusterState.getHead(cluster);
    const replayed: DeltaMessage = {
      ...{ v: 1, cluster, target: 'panorama', generation: head?.generation ?? 0 },
      deltas: [{ ip: '10.62.0.1', register: [], unregister: web }],
    };
    const watched = new WatchedStore(stateTable(world));
    // The push reads the head once (its generation check), then the snapshot it points at.
    watched.raceAt = 1;
    watched.race = async () => {
      sim()?.addService(internalService('shop', 'one', ['10.62.0.3']));
      await world.recompute(cluster);
      sim()?.addService(internalService('shop', 'two', ['10.62.0.4']));
      await world.recompute(cluster);
    };

    // act
    const outcome = await pushTagDeltas(replayed, { ...world.deps, clusterState: watched });

    // assess: the snapshot it first read was gone (the head was read again); the newer state still has the tag
    expect(watched.headReads).toBe(2);
    expect(outcome).toMatchObject({ status: 'nothing-to-send', skipped: 1, unregistered: 0 });
    expect(registeredObject(world.panorama)['10.62.0.1']).toEqual(web);
    const keys = await rowKeys(world, cluster);
    expect(keys.filter((k) => k.startsWith('_snap-'))).toHaveLength(2);
  });
});
