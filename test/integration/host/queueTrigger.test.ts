import type { TriggerMetadata } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import { Invoker } from '../../../host/Invoker.js';
import { QueueListener } from '../../../host/QueueListener.js';
import type { LocalHost } from '../../../host/startLocalHost.js';
import { defineQueueFunction } from '../../../shared/functionSpecs.js';
import { memoryLogger } from '../../../shared/logger.js';
import {
  base64Json,
  gate,
  peekTexts,
  quietly,
  startTestHost,
  testQueue,
  uniqueQueueName,
  waitFor,
} from './hostTestKit.js';

let host: LocalHost | undefined;

afterEach(async () => {
  await host?.stop();
  host = undefined;
});

describe('queue trigger', () => {
  it('delivers a base64 JSON message as an object with the trigger metadata, then deletes it', async () => {
    const queueName = uniqueQueueName('ok');
    const queue = await testQueue(queueName);
    const seen: { message: unknown; metadata: TriggerMetadata | undefined }[] = [];
    const spec = quietly(() =>
      defineQueueFunction({
        name: 'pushDeltas',
        queueName,
        handler: async (message, context) => {
          seen.push({ message, metadata: context.triggerMetadata });
        },
      }),
    );
    const body = { cluster: 'aks-prod-1', generation: 7, ips: ['10.0.0.4'] };
    const sent = await queue.sendMessage(base64Json(body));
    const started = await startTestHost([spec]);
    host = started;

    await waitFor('the invocation', () => seen.length === 1);
    expect(seen[0]?.message).toEqual(body);
    const metadata = seen[0]?.metadata ?? {};
    expect(metadata).toMatchObject({
      id: sent.messageId,
      dequeueCount: 1,
      popReceipt: expect.any(String),
      queueTrigger: JSON.stringify(body),
    });
    for (const key of ['insertionTime', 'expirationTime', 'nextVisibleTime']) {
      expect(Number.isNaN(Date.parse(String(metadata[key])))).toBe(false);
    }
    await waitFor('the message to be deleted', async () => {
      const props = await queue.getProperties();
      return props.approximateMessagesCount === 0;
    });
    expect(started.invocations.byFunction.pushDeltas).toEqual({ succeeded: 1, failed: 0, poisoned: 0 });
    const outcome = started.log.lines.find((l) => l.message === 'Executed function (Succeeded)');
    expect(outcome?.fields).toMatchObject({
      function: 'pushDeltas',
      dequeueCount: 1,
      durationMs: expect.any(Number),
    });
  });

  it('passes text that is not a JSON object or array as a string', async () => {
    const queueName = uniqueQueueName('text');
    const queue = await testQueue(queueName);
    const seen: unknown[] = [];
    const spec = quietly(() =>
      defineQueueFunction({
        name: 'textQueue',
        queueName,
        handler: async (message) => {
          seen.push(message);
        },
      }),
    );
    await queue.sendMessage(Buffer.from('hello panorama').toString('base64'));
    await queue.sendMessage(Buffer.from('42').toString('base64'));
    host = await startTestHost([spec]);

    await waitFor('both invocations', () => seen.length === 2);
    expect(seen.sort()).toEqual(['42', 'hello panorama']);
  });

  it('retries a failing message with a growing dequeueCount and moves it unchanged to <queue>-poison', async () => {
    const queueName = uniqueQueueName('retry');
    const queue = await testQueue(queueName);
    const poison = await testQueue(`${queueName}-poison`);
    const dequeueCounts: unknown[] = [];
    const spec = quietly(() =>
      defineQueueFunction({
        name: 'alwaysFails',
        queueName,
        handler: async (_message, context) => {
          dequeueCounts.push(context.triggerMetadata?.dequeueCount);
          throw new Error('Panorama is unavailable');
        },
      }),
    );
    const text = base64Json({ cluster: 'aks-prod-1', generation: 1 });
    await queue.sendMessage(text);
    const started = await startTestHost([spec], {
      hostSettings: { queues: { maxDequeueCount: 3, visibilityTimeoutMs: 1000 } },
    });
    host = started;

    const poisoned = await waitFor('the poison message', async () => {
      const texts = await peekTexts(poison);
      return texts.length > 0 ? texts : undefined;
    });
    expect(poisoned).toEqual([text]);
    expect(dequeueCounts).toEqual([1, 2, 3]);
    await waitFor('the original to be deleted', async () => {
      const props = await queue.getProperties();
      return props.approximateMessagesCount === 0;
    });
    expect(started.invocations.byFunction.alwaysFails).toEqual({ succeeded: 0, failed: 3, poisoned: 1 });
    const poisonLine = started.log.lines.find((l) =>
      l.message.includes('Message has reached MaxDequeueCount of 3'),
    );
    expect(poisonLine?.fields).toMatchObject({ dequeueCount: 3 });
  });

  it('creates the poison queue when it does not exist yet', async () => {
    const queueName = uniqueQueueName('mkpoison');
    const queue = await testQueue(queueName);
    const spec = quietly(() =>
      defineQueueFunction({
        name: 'failsOnce',
        queueName,
        handler: async () => {
          throw new Error('boom');
        },
      }),
    );
    await queue.sendMessage(base64Json({ n: 1 }));
    host = await startTestHost([spec], { hostSettings: { queues: { maxDequeueCount: 1 } } });

    const poison = queue.name.concat('-poison');
    const { QueueClient } = await import('@azure/storage-queue');
    const poisonClient = new QueueClient(host.storageConnectionString, poison);
    const texts = await waitFor('the poison queue and its message', async () => {
      if (!(await poisonClient.exists())) return undefined;
      const t = await peekTexts(poisonClient);
      return t.length > 0 ? t : undefined;
    });
    expect(texts).toEqual([base64Json({ n: 1 })]);
  });

  it('moves a message that is not valid base64 to the poison queue without invoking the function', async () => {
    const queueName = uniqueQueueName('badb64');
    const queue = await testQueue(queueName);
    const poison = await testQueue(`${queueName}-poison`);
    let calls = 0;
    const spec = quietly(() =>
      defineQueueFunction({
        name: 'neverCalled',
        queueName,
        handler: async () => {
          calls += 1;
        },
      }),
    );
    await queue.sendMessage('{"not":"base64"}');
    host = await startTestHost([spec]);

    const texts = await waitFor('the poison message', async () => {
      const t = await peekTexts(poison);
      return t.length > 0 ? t : undefined;
    });
    expect(texts).toEqual(['{"not":"base64"}']);
    expect(calls).toBe(0);
  });

  it('runs at most batchSize + newBatchThreshold messages at once, fetching when in-flight ≤ newBatchThreshold', async () => {
    const queueName = uniqueQueueName('conc');
    const queue = await testQueue(queueName);
    const holds: ReturnType<typeof gate>[] = [];
    let releaseAll = false;
    let inFlight = 0;
    let maxInFlight = 0;
    let done = 0;
    const spec = quietly(() =>
      defineQueueFunction({
        name: 'slowPush',
        queueName,
        handler: async () => {
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          const hold = gate();
          holds.push(hold);
          if (releaseAll) hold.open();
          await hold.promise;
          inFlight -= 1;
          done += 1;
        },
      }),
    );
    for (let i = 0; i < 8; i++) await queue.sendMessage(base64Json({ i }));
    host = await startTestHost([spec], { hostSettings: { queues: { batchSize: 2, newBatchThreshold: 1 } } });

    try {
      await waitFor('the first batch (batchSize = 2) to be running', () => inFlight === 2);
      holds[0]?.open();
      await waitFor('a second batch once in-flight dropped to newBatchThreshold = 1', () => inFlight === 3);
    } finally {
      releaseAll = true;
      for (const h of holds) h.open();
    }
    await waitFor('all messages', () => {
      for (const h of holds) h.open();
      return done === 8;
    });
    expect(maxInFlight).toBe(3);
    const started = host;
    await waitFor('8 successes counted', () => started.invocations.byFunction.slowPush?.succeeded === 8);
  });

  it('stop() waits for a running handler and still completes its message', async () => {
    const queueName = uniqueQueueName('stop');
    const queue = await testQueue(queueName);
    const hold = gate();
    const events: string[] = [];
    let running = false;
    const spec = quietly(() =>
      defineQueueFunction({
        name: 'heldOpen',
        queueName,
        handler: async () => {
          running = true;
          await hold.promise;
          events.push('handler finished');
        },
      }),
    );
    await queue.sendMessage(base64Json({ held: true }));
    const started = await startTestHost([spec]);

    await waitFor('the handler to start', () => running);
    const stopped = started.stop().then(() => events.push('host stopped'));
    await new Promise((r) => setTimeout(r, 200));
    hold.open();
    await stopped;
    expect(events).toEqual(['handler finished', 'host stopped']);
    const props = await queue.getProperties();
    expect(props.approximateMessagesCount).toBe(0);
  });

  it('keeps renewing the lease while a handler runs longer than it, so the message is not delivered twice', async () => {
    const queueName = uniqueQueueName('lease');
    const queue = await testQueue(queueName);
    const poison = await testQueue(`${queueName}-poison`);
    const dequeueCounts: unknown[] = [];
    const spec = quietly(() =>
      defineQueueFunction({
        name: 'longPush',
        queueName,
        handler: async (_message, context) => {
          dequeueCounts.push(context.triggerMetadata?.dequeueCount);
          await new Promise((r) => setTimeout(r, 9000));
        },
      }),
    );
    const logger = memoryLogger();
    const invoker = new Invoker({ logger, functionTimeoutMs: 60_000 });
    const listener = new QueueListener({
      spec,
      queue,
      poisonQueue: poison,
      settings: {
        batchSize: 4,
        newBatchThreshold: 2,
        maxPollingIntervalMs: 200,
        visibilityTimeoutMs: 0,
        maxDequeueCount: 5,
        messageEncoding: 'base64',
      },
      invoker,
      logger,
      messageLeaseMs: 4000,
    });
    await queue.sendMessage(base64Json({ long: true }));
    listener.start();
    try {
      await waitFor('the invocation to finish', () => invoker.counters.succeeded === 1);
      await waitFor('the message to be deleted', async () => {
        const props = await queue.getProperties();
        return props.approximateMessagesCount === 0;
      });
    } finally {
      await listener.stop();
    }
    expect(dequeueCounts).toEqual([1]);
    expect(invoker.counters.started).toBe(1);
  });
});
