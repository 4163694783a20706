import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { inject } from 'vitest';
import { ClusterStateStore } from '../../../shared/state/ClusterStateStore.js';
import { describeClusterStateContract } from '../../helpers/clusterStateContract.js';
import { writeLegacyIpRows } from '../../helpers/legacyClusterState.js';

/** A fresh table per test, so tests never see each other's rows. */
function freshStore() {
  const name = `contract${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const table = TableClient.fromConnectionString(inject('azuriteConnectionString'), name, {
    allowInsecureConnection: true,
  });
  return {
    repo: new ClusterStateStore(table),
    writeLegacyRows: (cluster: string, tags: ReadonlyMap<string, readonly string[]>) =>
      writeLegacyIpRows(table, cluster, tags),
  };
}

describeClusterStateContract('ClusterStateStore on Azurite', freshStore);
