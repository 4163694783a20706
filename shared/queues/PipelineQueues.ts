/** The queue message limit is 64 KiB; base64 leaves 48 KiB of payload. */
export const MAX_ENCODED_MESSAGE_BYTES = 64 * 1024;

/** Encodes a message body as the Functions host expects it (`messageEncoding: base64`): base64 of JSON. */
export function encodeMessage(body: unknown): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
}

/**
 * Decodes a queue message text: base64 → UTF-8 → JSON when it parses, as the host does; plain text
 * when it is not base64 of JSON.
 */
export function decodeMessage(text: string): unknown {
  const decoded = /^[A-Za-z0-9+/]*={0,2}$/.test(text) ? Buffer.from(text, 'base64').toString('utf8') : text;
  try {
    return JSON.parse(decoded);
  } catch {
    return decoded;
  }
}

/** Options of {@link PipelineQueues.send}. */
export interface SendOptions {
  delaySeconds?: number;
  quiet?: boolean;
}

/** A received message. */
export interface ReceivedMessage {
  messageId: string;
  popReceipt: string;
  dequeueCount: number;
  messageText: string;
  insertedOn?: Date;
  expiresOn?: Date;
  nextVisibleOn?: Date;
}

/**
 * The queues of the pipeline, by name (created on first use). Messages never expire; a received
 * message stays in its queue, invisible for a while, until it is deleted. Storage failures throw an
 * `AzureError` classified by its cause. An implementation may take an `onEnqueue(queueName)`
 * callback at construction (the local host's nudge): it is called on every send that is not
 * `quiet`, and by {@link notify}.
 */
export interface PipelineQueues {
  /**
   * Sends one message (base64 JSON); `delaySeconds` makes it invisible for a while; `quiet` skips the
   * notification of a local consumer (the `onEnqueue` given at construction) (the sender calls {@link notify} once the message may be consumed).
   * Throws an `InputError` when the encoded message exceeds {@link MAX_ENCODED_MESSAGE_BYTES}.
   */
  send(queueName: string, body: unknown, options?: SendOptions): Promise<void>;
  /** Tells a local consumer that `queueName` has work. */
  notify(queueName: string): void;
  /** Sends an already-encoded message text unchanged (replay keeps messages byte for byte); as {@link send}. */
  sendText(queueName: string, text: string, options?: SendOptions): Promise<void>;
  /** Approximate number of messages in a queue, visible or not. */
  depth(queueName: string): Promise<number>;
  /** Receives up to `count` (1 to 32) visible messages, hiding them for `visibilityTimeoutSeconds`. */
  receive(queueName: string, count: number, visibilityTimeoutSeconds: number): Promise<ReceivedMessage[]>;
  /** Peeks at up to 32 visible messages without hiding them. */
  peek(queueName: string, count?: number): Promise<{ messageText: string; dequeueCount: number }[]>;
  /** Deletes a received message (its latest pop receipt). */
  delete(queueName: string, message: Pick<ReceivedMessage, 'messageId' | 'popReceipt'>): Promise<void>;
  /** Makes a received message visible again after `seconds` (a retry later); its pop receipt changes. */
  release(queueName: string, message: ReceivedMessage, seconds: number): Promise<void>;
}
