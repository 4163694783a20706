import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { inject } from 'vitest';
import { ClusterStateStore } from '../../../shared/state/ClusterStateStore.js';
import { describeClusterStateContract } from '../../helpers/clusterStateContract.js';

/** A fresh table per test, so tests never see each other's rows. */
function freshStore(): ClusterStateStore {
  const name = `contract${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  return new ClusterStateStore(
    TableClient.fromConnectionString(inject('azuriteConnectionString'), name, {
      allowInsecureConnection: true,
    }),
  );
}

describeClusterStateContract('ClusterStateStore on Azurite', freshStore);
