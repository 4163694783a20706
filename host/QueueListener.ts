import type { TriggerMetadata } from '@azure/functions';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import { describeError } from '../shared/errors.js';
import type { QueueFunctionSpec } from '../shared/functionSpecs.js';
import type { Logger } from '../shared/logger.js';
import { messageDisposition } from '../shared/queues/messageDisposition.js';
import { messageFields } from '../shared/queues/messageFields.js';
import type { Invoker } from './Invoker.js';
import type { QueueHostSettings } from './loadHostSettings.js';
import { MIN_POLLING_INTERVAL_MS } from './loadHostSettings.js';
import { RandomizedExponentialBackoff } from './RandomizedExponentialBackoff.js';

/** The lease the host takes on received messages; renewed at half-time while the handler runs. */
export const DEFAULT_MESSAGE_LEASE_MS = 10 * 60_000;

/** Options of {@link QueueListener}. */
export interface QueueListenerOptions {
  spec: QueueFunctionSpec;
  queue: QueueClient;
  poisonQueue: QueueClient;
  settings: QueueHostSettings;
  invoker: Invoker;
  logger: Logger;
  /** Visibility lease on received messages (default 10 min, as the host). */
  messageLeaseMs?: number;
  /** Called after a message was added to the poison queue (the host wakes that queue's listener). */
  onPoisonMessage?: (poisonQueueName: string) => void;
}

/**
 * Decodes the text of a queue message as the trigger does: strict base64 (whitespace ignored) when
 * `messageEncoding` is `base64`, then UTF-8. Returns `undefined` when the text is not valid base64.
 */
export function decodeQueueMessageText(text: string, encoding: 'base64' | 'none'): string | undefined {
  if (encoding === 'none') return text;
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

/**
 * The value a queue handler receives: the parsed JSON when the text looks like a JSON object or
 * array (`{…}` / `[…]`) and parses, else the string itself (the host's `IsJson` rule).
 */
export function queueMessageValue(text: string): unknown {
  const t = text.trim();
  if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
    try {
      return JSON.parse(t);
    } catch {
      return text;
    }
  }
  return text;
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function isGone(err: unknown): boolean {
  const s = statusOf(err);
  return s === 404 || s === 400 || s === 409;
}

/** The trigger metadata of a received message (`queueTrigger` is its decoded text). */
function queueTriggerMetadata(message: DequeuedMessageItem, text: string): TriggerMetadata {
  return {
    id: message.messageId,
    dequeueCount: message.dequeueCount,
    insertionTime: message.insertedOn.toISOString(),
    expirationTime: message.expiresOn.toISOString(),
    nextVisibleTime: message.nextVisibleOn.toISOString(),
    popReceipt: message.popReceipt,
    queueTrigger: text,
  };
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * One queue trigger, with the Storage Queues extension's listener semantics:
 * receive up to `batchSize` messages (leased for 10 minutes and renewed while the handler runs),
 * fetch the next batch as soon as no more than `newBatchThreshold` are in flight (so at most
 * `batchSize + newBatchThreshold` run at once), randomized exponential backoff from 100 ms up to
 * `maxPollingInterval` while the queue is empty, `nudge()` to end a backoff at once; then per message:
 * success → delete; failure → visible again after `visibilityTimeout`, or, once `dequeueCount` has
 * reached `maxDequeueCount`, copied unchanged to `<queue>-poison` (created if needed) and deleted.
 * Messages that are not valid base64 go to the poison queue without an invocation.
 */
export class QueueListener {
  readonly #o: QueueListenerOptions;
  readonly #leaseMs: number;
  readonly #backoff: RandomizedExponentialBackoff;
  readonly #processing = new Set<Promise<void>>();
  #wake: Deferred = deferred();
  #stopped = deferred();
  #stopping = false;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #queueExists = false;
  #foundSinceLastDelay = false;
  #pollErrorLogged = false;

  constructor(options: QueueListenerOptions) {
    this.#o = options;
    this.#leaseMs = options.messageLeaseMs ?? DEFAULT_MESSAGE_LEASE_MS;
    this.#backoff = new RandomizedExponentialBackoff(
      MIN_POLLING_INTERVAL_MS,
      options.settings.maxPollingIntervalMs,
    );
  }

  /** The queue this listener polls. */
  get queueName(): string {
    return this.#o.queue.name;
  }

  /** Number of messages whose handler is running (or being completed) right now. */
  get inFlight(): number {
    return this.#processing.size;
  }

  /** Starts polling (the first poll happens at once). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Ends the current idle backoff so the queue is polled now (the host's `Notify`). */
  nudge(): void {
    this.#wake.resolve();
  }

  /** Stops polling and waits for every received message to be processed and completed. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    this.#stopped.resolve();
    await this.#loop;
    while (this.#processing.size > 0) await Promise.allSettled([...this.#processing]);
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      this.#wake = deferred();
      const batch = await this.#receive();
      if (this.#stopping && batch.length === 0) break;
      if (batch.length === 0) {
        const delay = this.#backoff.next(this.#foundSinceLastDelay);
        this.#foundSinceLastDelay = false;
        await this.#sleep(delay);
        continue;
      }
      for (const message of batch) {
        const task = this.#process(message).finally(() => this.#processing.delete(task));
        this.#processing.add(task);
      }
      this.#foundSinceLastDelay = true;
      while (this.#processing.size > this.#o.settings.newBatchThreshold && !this.#stopping) {
        await Promise.race([...this.#processing, this.#stopped.promise]);
      }
    }
  }

  async #sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => {
        timer = setTimeout(r, ms);
      }),
      this.#wake.promise,
      this.#stopped.promise,
    ]);
    clearTimeout(timer);
  }

  async #receive(): Promise<DequeuedMessageItem[]> {
    try {
      if (!this.#queueExists) {
        this.#queueExists = await this.#o.queue.exists({ abortSignal: this.#abort.signal });
        if (!this.#queueExists) return [];
      }
      const res = await this.#o.queue.receiveMessages({
        numberOfMessages: this.#o.settings.batchSize,
        visibilityTimeout: Math.max(1, Math.floor(this.#leaseMs / 1000)),
        abortSignal: this.#abort.signal,
      });
      this.#pollErrorLogged = false;
      return res.receivedMessageItems;
    } catch (err) {
      this.#queueExists = false;
      if (!this.#stopping && !this.#pollErrorLogged) {
        this.#pollErrorLogged = true;
        this.#o.logger.warn('Queue poll failed; backing off', {
          function: this.#o.spec.name,
          queue: this.queueName,
          error: describeError(err),
        });
      }
      return [];
    }
  }

  async #process(received: DequeuedMessageItem): Promise<void> {
    const { spec, settings, logger } = this.#o;
    const message = { ...received };
    try {
      if (message.dequeueCount > settings.maxDequeueCount) {
        await this.#moveToPoison(message);
        return;
      }
      const text = decodeQueueMessageText(message.messageText, settings.messageEncoding);
      if (text === undefined) {
        await this.#poisonUndecodable(message);
        return;
      }
      await this.#invokeAndSettle(message, text);
    } catch (err) {
      logger.error('Queue message could not be completed', {
        function: spec.name,
        queue: this.queueName,
        messageId: message.messageId,
        error: describeError(err),
      });
    }
  }

  async #poisonUndecodable(message: DequeuedMessageItem): Promise<void> {
    this.#o.logger.warn(
      'Queue message is not valid base64 (messageEncoding is base64); moving it to the poison queue',
      {
        function: this.#o.spec.name,
        queue: this.queueName,
        messageId: message.messageId,
      },
    );
    await this.#moveToPoison(message);
  }

  /** Runs the handler on the decoded `text` (renewing the lease meanwhile), then completes the message. */
  async #invokeAndSettle(message: DequeuedMessageItem, text: string): Promise<void> {
    const { spec, settings, invoker } = this.#o;
    const triggerMetadata = queueTriggerMetadata(message, text);
    const renewal = this.#renewLease(message);
    const result = await invoker.invoke(spec, (context) => spec.handler(queueMessageValue(text), context), {
      triggerMetadata,
      trigger: { type: 'queueTrigger', queueName: spec.queueName, connection: 'AzureWebJobsStorage' },
      dequeueCount: message.dequeueCount,
      fields: { queue: this.queueName, messageId: message.messageId },
    });
    await renewal.stop();
    const disposition = messageDisposition(result.ok, message.dequeueCount, settings.maxDequeueCount);
    if (disposition === 'complete') await this.#delete(message);
    else if (disposition === 'poison') await this.#moveToPoison(message);
    else await this.#release(message);
  }

  #renewLease(message: DequeuedMessageItem): { stop(): Promise<void> } {
    const interval = Math.max(1000, Math.floor(this.#leaseMs / 2));
    let pending: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      pending = pending.then(async () => {
        try {
          const res = await this.#o.queue.updateMessage(
            message.messageId,
            message.popReceipt,
            undefined,
            Math.max(1, Math.floor(this.#leaseMs / 1000)),
          );
          if (res.popReceipt) message.popReceipt = res.popReceipt;
          if (res.nextVisibleOn) message.nextVisibleOn = res.nextVisibleOn;
        } catch (err) {
          this.#o.logger.warn('Could not renew the lease of a queue message', {
            function: this.#o.spec.name,
            messageId: message.messageId,
            error: describeError(err),
          });
        }
      });
    }, interval);
    return {
      async stop() {
        clearInterval(timer);
        await pending;
      },
    };
  }

  async #delete(message: DequeuedMessageItem): Promise<void> {
    try {
      await this.#o.queue.deleteMessage(message.messageId, message.popReceipt);
    } catch (err) {
      if (!isGone(err)) throw err;
      this.#o.logger.debug('Queue message already gone or taken over; not deleted', {
        messageId: message.messageId,
        error: describeError(err),
      });
    }
  }

  async #release(message: DequeuedMessageItem): Promise<void> {
    try {
      await this.#o.queue.updateMessage(
        message.messageId,
        message.popReceipt,
        undefined,
        Math.floor(this.#o.settings.visibilityTimeoutMs / 1000),
      );
    } catch (err) {
      if (!isGone(err)) throw err;
    }
  }

  async #moveToPoison(message: DequeuedMessageItem): Promise<void> {
    const { poisonQueue, settings, logger, spec } = this.#o;
    logger.warn(
      `Message has reached MaxDequeueCount of ${settings.maxDequeueCount}. Moving message to queue '${poisonQueue.name}'.`,
      {
        function: spec.name,
        queue: this.queueName,
        ...messageFields(message.messageText),
        messageId: message.messageId,
        dequeueCount: message.dequeueCount,
      },
    );
    try {
      await poisonQueue.sendMessage(message.messageText);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      await poisonQueue.createIfNotExists();
      await poisonQueue.sendMessage(message.messageText);
    }
    this.#o.invoker.countPoisoned(spec.name);
    this.#o.onPoisonMessage?.(poisonQueue.name);
    await this.#delete(message);
  }
}
