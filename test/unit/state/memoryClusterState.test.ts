import { describeClusterStateContract } from '../../helpers/clusterStateContract.js';
import { MemoryClusterState } from '../../helpers/memoryStores.js';

describeClusterStateContract('MemoryClusterState', () => new MemoryClusterState());
