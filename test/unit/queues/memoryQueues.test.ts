import { MemoryQueues } from '../../helpers/memoryStores.js';
import { describePipelineQueuesContract } from '../../helpers/pipelineQueuesContract.js';

describePipelineQueuesContract('MemoryQueues', () => new MemoryQueues());
