import { MemoryPermits } from '../../helpers/memoryPermits.js';
import { describePermitRepositoryContract } from '../../helpers/permitRepositoryContract.js';

describePermitRepositoryContract('MemoryPermits', () => new MemoryPermits());
