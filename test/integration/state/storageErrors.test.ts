import { createServer } from 'node:net';
import { TableClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import { describe, expect, it } from 'vitest';
import { MessageQueues } from '../../../shared/queues/MessageQueues.js';
import { ClusterStateStore } from '../../../shared/state/ClusterStateStore.js';
import { TargetStatusStore } from '../../../shared/state/TargetStatusStore.js';

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const KEY = Buffer.from('not-a-real-key').toString('base64');

function connectionString(port: number): string {
  return `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${KEY};TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`;
}

const noTableRetry = { retryOptions: { maxRetries: 0 } };
const noQueueRetry = { retryOptions: { maxTries: 1 } };

describe('a storage account that cannot be reached', () => {
  it.each([
    [
      'cluster state',
      (cs: string) =>
        new ClusterStateStore(TableClient.fromConnectionString(cs, 'clusterstate', noTableRetry)).listHeads(),
    ],
    [
      'target status',
      (cs: string) =>
        new TargetStatusStore(
          TableClient.fromConnectionString(cs, 'targetstate', noTableRetry),
        ).listPushStatus(),
    ],
    [
      'queues',
      (cs: string) =>
        new MessageQueues(QueueServiceClient.fromConnectionString(cs, noQueueRetry)).send('tag-deltas', {
          v: 1,
        }),
    ],
  ])('%s: the error names the endpoint and the setting to check, and no key', async (_name, attempt) => {
    // prepare
    const port = await closedPort();

    // act
    const err = await attempt(connectionString(port)).then(
      () => undefined,
      (e: unknown) => e as Error,
    );

    // assess
    expect(err?.message).toMatch(
      new RegExp(
        `^(Table|Queue) storage at 127\\.0\\.0\\.1:${port}: .* failed \\(.*\\); check the AzureWebJobsStorage setting`,
      ),
    );
    expect(err?.message).not.toContain(KEY);
  });
});
