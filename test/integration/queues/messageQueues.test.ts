import { QueueServiceClient } from '@azure/storage-queue';
import { inject } from 'vitest';
import { MessageQueues } from '../../../shared/queues/MessageQueues.js';
import { describePipelineQueuesContract } from '../../helpers/pipelineQueuesContract.js';

/** Queues on the shared Azurite; the contract gives every test queue names of its own. */
function freshQueues(onEnqueue?: (queueName: string) => void): MessageQueues {
  const service = QueueServiceClient.fromConnectionString(inject('azuriteConnectionString'));
  return new MessageQueues(service, onEnqueue);
}

describePipelineQueuesContract('MessageQueues on Azurite', freshQueues);
