import { describeClusterStateContract } from '../../helpers/clusterStateContract.js';
import { MemoryClusterState } from '../../helpers/memoryStores.js';

describeClusterStateContract('MemoryClusterState', () => {
  const repo = new MemoryClusterState();
  return { repo, writeLegacyRows: async (cluster, tags) => repo.writeLegacyRows(cluster, tags) };
});
