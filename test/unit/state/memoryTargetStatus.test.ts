import { MemoryTargetStatus } from '../../helpers/memoryStores.js';
import { describeTargetStatusContract } from '../../helpers/targetStatusContract.js';

describeTargetStatusContract('MemoryTargetStatus', () => new MemoryTargetStatus());
