import type { QueueServiceClient } from '@azure/storage-queue';
import { InputError } from '../errors.js';
import { storageError } from '../state/storageError.js';
import {
  encodeMessage,
  MAX_ENCODED_MESSAGE_BYTES,
  type PipelineQueues,
  type ReceivedMessage,
  type SendOptions,
} from './PipelineQueues.js';

export {
  decodeMessage,
  encodeMessage,
  MAX_ENCODED_MESSAGE_BYTES,
  type ReceivedMessage,
  type SendOptions,
} from './PipelineQueues.js';

/**
 * The queues of the pipeline, over one storage account. Every send is base64 JSON and checked
 * against the 64 KiB limit; `onEnqueue` lets the local host wake its poller at once.
 */
export class MessageQueues implements PipelineQueues {
  readonly #service: QueueServiceClient;
  readonly #created = new Set<string>();
  readonly #onEnqueue: ((queueName: string) => void) | undefined;

  constructor(service: QueueServiceClient, onEnqueue?: (queueName: string) => void) {
    this.#service = service;
    this.#onEnqueue = onEnqueue;
  }

  /** The underlying client of one queue (created on first use). */
  async queue(name: string) {
    const client = this.#service.getQueueClient(name);
    if (!this.#created.has(name)) {
      try {
        await client.createIfNotExists();
      } catch (err) {
        throw storageError('Queue storage', this.#service.url, `create queue ${name}`, err);
      }
      this.#created.add(name);
    }
    return client;
  }

  /**
   * Sends one message (base64 JSON); `delaySeconds` makes it invisible for a while; `quiet` skips the
   * `onEnqueue` notification (the sender calls {@link notify} once the message may be consumed).
   */
  async send(queueName: string, body: unknown, options: SendOptions = {}): Promise<void> {
    await this.sendText(queueName, encodeMessage(body), options);
  }

  /** Tells a local consumer that `queueName` has work (no-op in Azure, where the host polls). */
  notify(queueName: string): void {
    this.#onEnqueue?.(queueName);
  }

  /** Sends an already-encoded message text unchanged (replay keeps messages byte for byte). */
  async sendText(queueName: string, text: string, options: SendOptions = {}): Promise<void> {
    if (Buffer.byteLength(text) > MAX_ENCODED_MESSAGE_BYTES) {
      throw new InputError(
        `message for ${queueName} is ${Buffer.byteLength(text)} bytes; the limit is 64 KiB`,
      );
    }
    const client = await this.queue(queueName);
    try {
      await client.sendMessage(text, {
        messageTimeToLive: -1,
        ...(options.delaySeconds ? { visibilityTimeout: options.delaySeconds } : {}),
      });
    } catch (err) {
      throw storageError('Queue storage', this.#service.url, `send to ${queueName}`, err);
    }
    if (!options.quiet) this.notify(queueName);
  }

  /** Approximate number of messages in a queue. */
  async depth(queueName: string): Promise<number> {
    const client = await this.queue(queueName);
    const props = await client.getProperties();
    return props.approximateMessagesCount ?? 0;
  }

  /** Receives up to `count` (≤ 32) messages, hiding them for `visibilityTimeoutSeconds`. */
  async receive(
    queueName: string,
    count: number,
    visibilityTimeoutSeconds: number,
  ): Promise<ReceivedMessage[]> {
    const client = await this.queue(queueName);
    const res = await client.receiveMessages({
      numberOfMessages: Math.min(32, Math.max(1, count)),
      visibilityTimeout: visibilityTimeoutSeconds,
    });
    return res.receivedMessageItems.map((m) => ({
      messageId: m.messageId,
      popReceipt: m.popReceipt,
      dequeueCount: m.dequeueCount,
      messageText: m.messageText,
      insertedOn: m.insertedOn,
      expiresOn: m.expiresOn,
      nextVisibleOn: m.nextVisibleOn,
    }));
  }

  /** Peeks at up to 32 messages without hiding them. */
  async peek(queueName: string, count = 32): Promise<{ messageText: string; dequeueCount: number }[]> {
    const client = await this.queue(queueName);
    const res = await client.peekMessages({ numberOfMessages: Math.min(32, count) });
    return res.peekedMessageItems.map((m) => ({ messageText: m.messageText, dequeueCount: m.dequeueCount }));
  }

  /** Deletes a received message. */
  async delete(queueName: string, message: Pick<ReceivedMessage, 'messageId' | 'popReceipt'>): Promise<void> {
    const client = await this.queue(queueName);
    await client.deleteMessage(message.messageId, message.popReceipt);
  }

  /** Makes a received message visible again after `seconds` (a retry later). */
  async release(queueName: string, message: ReceivedMessage, seconds: number): Promise<void> {
    const client = await this.queue(queueName);
    await client.updateMessage(message.messageId, message.popReceipt, undefined, seconds);
  }
}
