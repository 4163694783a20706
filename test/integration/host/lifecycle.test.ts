import { createConnection } from 'node:net';
import { QueueClient } from '@azure/storage-queue';
import { describe, expect, it } from 'vitest';
import { startLocalHost } from '../../../host/startLocalHost.js';
import {
  defineEventGridFunction,
  defineHttpFunction,
  defineQueueFunction,
  defineTimerFunction,
} from '../../../shared/functionSpecs.js';
import { memoryLogger } from '../../../shared/logger.js';
import {
  base64Json,
  quietly,
  REPO_HOST_JSON,
  startTestHost,
  testQueue,
  uniqueQueueName,
  waitFor,
} from './hostTestKit.js';

const WATCHED = ['Timeout', 'TCPServerWrap', 'TCPSocketWrap', 'Immediate'];

function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) {
    if (WATCHED.includes(type)) counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

function leftOver(before: Record<string, number>): string[] {
  const now = activeResources();
  return WATCHED.filter((t) => (now[t] ?? 0) > (before[t] ?? 0)).map(
    (t) => `${t}: ${before[t] ?? 0} → ${now[t] ?? 0}`,
  );
}

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

describe('local host lifecycle', () => {
  it('stop() leaves no timers, servers or sockets holding the process open', async () => {
    const queueName = uniqueQueueName('life');
    const queue = await testQueue(queueName);
    let handled = 0;
    const specs = quietly(() => [
      defineQueueFunction({
        name: 'lifeQueue',
        queueName,
        handler: async () => {
          handled += 1;
        },
      }),
      defineTimerFunction({ name: 'lifeTimer', schedule: '* * * * * *', handler: async () => {} }),
      defineEventGridFunction({ name: 'lifeEvents', handler: async () => {} }),
      defineHttpFunction({
        name: 'lifeHttp',
        route: 'ping',
        methods: ['GET'],
        authLevel: 'anonymous',
        handler: async () => ({ body: 'pong' }),
      }),
    ]);
    const before = activeResources();
    const host = await startTestHost(specs);

    await queue.sendMessage(base64Json({ hello: 'world' }));
    host.nudge(queueName);
    await waitFor('the queue message', () => handled === 1);
    await waitFor('a timer run', () => (host.invocations.byFunction.lifeTimer?.succeeded ?? 0) >= 1);
    const res = await fetch(`${host.url}/api/ping`);
    expect(await res.text()).toBe('pong');
    await host.stop();

    await new Promise((r) => setTimeout(r, 50));
    expect(leftOver(before), 'resources still active after stop()').toEqual([]);
    const port = Number(new URL(host.url).port);
    expect(await portAcceptsConnections(port)).toBe(false);
  });

  it('starts Azurite when AzureWebJobsStorage is not set, runs queue triggers on it and stops it', async () => {
    const queueName = uniqueQueueName('own');
    const seen: unknown[] = [];
    const spec = quietly(() =>
      defineQueueFunction({
        name: 'ownAzurite',
        queueName,
        handler: async (message) => {
          seen.push(message);
        },
      }),
    );
    const host = await startLocalHost({
      specs: [spec],
      settings: {},
      port: 0,
      logger: memoryLogger(),
      hostJsonPath: REPO_HOST_JSON,
    });
    const queuePort = Number(
      /QueueEndpoint=http:\/\/127\.0\.0\.1:(\d+)/.exec(host.storageConnectionString)?.[1],
    );
    try {
      expect(host.settings.AzureWebJobsStorage).toBe(host.storageConnectionString);
      const queue = new QueueClient(host.storageConnectionString, queueName);
      await queue.createIfNotExists();
      await queue.sendMessage(base64Json({ via: 'own azurite' }));
      host.nudge(queueName);
      await waitFor('the message', () => seen.length === 1);
      expect(seen).toEqual([{ via: 'own azurite' }]);
    } finally {
      await host.stop();
    }
    expect(await portAcceptsConnections(queuePort)).toBe(false);
  });

  it('exports the settings to process.env while running when asked, and restores it on stop', async () => {
    const key = 'LOCAL_HOST_TEST_ONLY_SETTING';
    expect(process.env[key]).toBeUndefined();
    const host = await startTestHost([], {
      settings: { [key]: 'visible-to-functions' },
      exportSettingsToEnv: true,
    });
    expect(process.env[key]).toBe('visible-to-functions');
    await host.stop();
    expect(process.env[key]).toBeUndefined();
  });
});
