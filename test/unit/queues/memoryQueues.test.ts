import { MemoryQueues } from '../../helpers/memoryStores.js';
import { describePipelineQueuesContract } from '../../helpers/pipelineQueuesContract.js';

describePipelineQueuesContract(
  'MemoryQueues',
  (onEnqueue) => new MemoryQueues(onEnqueue ? { onEnqueue } : {}),
);
