import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../shared/errors.js';
import {
  decodeMessage,
  encodeMessage,
  MAX_ENCODED_MESSAGE_BYTES,
  type PipelineQueues,
  type ReceivedMessage,
} from '../../shared/queues/PipelineQueues.js';
import { rejectionOf } from './rejectionOf.js';

/** A queue name no other test uses (lower case, digits and hyphens, as Queue Storage wants). */
function queueName(): string {
  return `contract-${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

/** Receives until a message comes, polling for at most `withinMs` (fails the test when none does). */
async function receiveWithin(
  queues: PipelineQueues,
  queue: string,
  withinMs: number,
  visibilityTimeoutSeconds = 30,
): Promise<ReceivedMessage[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const got = await queues.receive(queue, 32, visibilityTimeoutSeconds);
    if (got.length > 0) return got;
    if (Date.now() > deadline) throw new Error(`no message on ${queue} within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The contract of {@link PipelineQueues} (see shared/queues/PipelineQueues.ts), defined as
 * `describe` blocks; `create` returns new queues for every test, with `onEnqueue` as their local
 * consumer's notifier when given, and every test uses queue names of its own.
 */
export function describePipelineQueuesContract(
  name: string,
  create: (onEnqueue?: (queueName: string) => void) => PipelineQueues | Promise<PipelineQueues>,
): void {
  describe(`${name}: the PipelineQueues contract`, () => {
    let queues: PipelineQueues;
    beforeEach(async () => {
      queues = await create();
    });
    describeSendReceive(() => queues);
    describeVisibility(() => queues);
    describeTexts(() => queues, create);
    describeNotifications(create);
  });
}

function describeSendReceive(q: () => PipelineQueues): void {
  describe('send, receive, delete', () => {
    it('has an empty queue to begin with', async () => {
      const queue = queueName();
      expect(await q().depth(queue)).toBe(0);
      expect(await q().receive(queue, 32, 30)).toEqual([]);
      expect(await q().peek(queue)).toEqual([]);
    });

    it('sends base64 JSON and receives it once, with dequeueCount 1, until deleted', async () => {
      const queue = queueName();
      const body = { kind: 'delta', cluster: 'aks-a', generation: 3, tags: ['ä', '<&>'] };
      await q().send(queue, body);
      const [m, ...rest] = await q().receive(queue, 32, 30);
      expect(rest).toEqual([]);
      expect(m?.messageText).toBe(encodeMessage(body));
      expect(decodeMessage(m?.messageText ?? '')).toEqual(body);
      expect(m?.dequeueCount).toBe(1);
      expect(m?.messageId).not.toBe('');
      expect(m?.popReceipt).not.toBe('');
      // Received: hidden, but still in the queue.
      expect(await q().receive(queue, 32, 30)).toEqual([]);
      expect(await q().depth(queue)).toBe(1);
      await q().delete(queue, m as ReceivedMessage);
      expect(await q().depth(queue)).toBe(0);
      expect(await q().peek(queue)).toEqual([]);
    });

    it('receives at most `count` messages and keeps queues apart', async () => {
      const a = queueName();
      const b = queueName();
      for (let i = 0; i < 3; i++) await q().send(a, { i });
      await q().send(b, { other: true });
      const first = await q().receive(a, 2, 30);
      const second = await q().receive(a, 32, 30);
      expect(first).toHaveLength(2);
      expect(second).toHaveLength(1);
      expect([...first, ...second].map((m) => decodeMessage(m.messageText))).toEqual(
        expect.arrayContaining([{ i: 0 }, { i: 1 }, { i: 2 }]),
      );
      expect(await q().depth(a)).toBe(3);
      expect(await q().depth(b)).toBe(1);
      expect((await q().peek(b)).map((m) => decodeMessage(m.messageText))).toEqual([{ other: true }]);
    });

    it('peeks without dequeuing: the message stays visible and its dequeueCount unchanged', async () => {
      const queue = queueName();
      await q().send(queue, { n: 1 });
      await q().send(queue, { n: 2 });
      const peeked = await q().peek(queue);
      const again = await q().peek(queue, 1);
      expect(peeked).toEqual([
        { messageText: encodeMessage({ n: 1 }), dequeueCount: 0 },
        { messageText: encodeMessage({ n: 2 }), dequeueCount: 0 },
      ]);
      expect(again).toHaveLength(1);
      const received = await q().receive(queue, 32, 30);
      expect(received.map((m) => m.dequeueCount)).toEqual([1, 1]);
      expect(await q().peek(queue)).toEqual([]);
    });
  });
}

function describeVisibility(q: () => PipelineQueues): void {
  describe('visibility', () => {
    it('hides a message sent with delaySeconds until it is due, but counts it in depth', async () => {
      const queue = queueName();
      const sentAt = Date.now();
      await q().send(queue, { later: true }, { delaySeconds: 1 });
      expect(await q().receive(queue, 32, 30)).toEqual([]);
      expect(await q().peek(queue)).toEqual([]);
      expect(await q().depth(queue)).toBe(1);
      const [m] = await receiveWithin(q(), queue, 5_000);
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(900);
      expect(decodeMessage(m?.messageText ?? '')).toEqual({ later: true });
      expect(m?.dequeueCount).toBe(1);
    });

    it('makes a received message visible again once its visibility timeout ends', async () => {
      const queue = queueName();
      await q().send(queue, { n: 1 });
      await q().receive(queue, 1, 1);
      expect(await q().receive(queue, 1, 30)).toEqual([]);
      const [m] = await receiveWithin(q(), queue, 5_000);
      expect(m?.dequeueCount).toBe(2);
    });

    it('release makes a message visible again (after `seconds`) and the next receive counts one more dequeue', async () => {
      const queue = queueName();
      await q().send(queue, { n: 1 });
      const [first] = await q().receive(queue, 1, 30);
      await q().release(queue, first as ReceivedMessage, 0);
      const [second] = await receiveWithin(q(), queue, 2_000);
      expect(second?.messageId).toBe(first?.messageId);
      expect(second?.dequeueCount).toBe(2);
      expect(second?.messageText).toBe(encodeMessage({ n: 1 }));

      await q().release(queue, second as ReceivedMessage, 1);
      expect(await q().receive(queue, 1, 30)).toEqual([]);
      expect(await q().depth(queue)).toBe(1);
      const [third] = await receiveWithin(q(), queue, 5_000);
      expect(third?.dequeueCount).toBe(3);
      await q().delete(queue, third as ReceivedMessage);
      expect(await q().depth(queue)).toBe(0);
    });

    it('refuses a delete with a replaced pop receipt (400) or of a deleted message (404)', async () => {
      const queue = queueName();
      await q().send(queue, { n: 1 });
      const [m] = await q().receive(queue, 1, 30);
      await q().release(queue, m as ReceivedMessage, 0);
      const stale = await rejectionOf(q().delete(queue, m as ReceivedMessage));
      expect(stale).toMatchObject({ statusCode: 400, code: 'PopReceiptMismatch' });
      expect(await q().depth(queue)).toBe(1);
      const [again] = await q().receive(queue, 1, 30);
      await q().delete(queue, again as ReceivedMessage);
      const gone = await rejectionOf(q().delete(queue, again as ReceivedMessage));
      expect(gone).toMatchObject({ statusCode: 404, code: 'MessageNotFound' });
      expect(await q().depth(queue)).toBe(0);
    });
  });
}

function describeTexts(
  q: () => PipelineQueues,
  create: (onEnqueue?: (queueName: string) => void) => PipelineQueues | Promise<PipelineQueues>,
): void {
  describe('message texts', () => {
    it('sends raw text unchanged (replay keeps messages byte for byte)', async () => {
      const queue = queueName();
      const texts = ['not base64 at all: <&> "ü"', encodeMessage({ kept: 1 }), 'e30='];
      for (const t of texts) await q().sendText(queue, t);
      expect((await q().peek(queue)).map((m) => m.messageText)).toEqual(texts);
      const received = await q().receive(queue, 32, 30);
      expect(received.map((m) => m.messageText).sort()).toEqual([...texts].sort());
    });

    it(`accepts a text of ${MAX_ENCODED_MESSAGE_BYTES} bytes`, async () => {
      const queue = queueName();
      const text = 'A'.repeat(MAX_ENCODED_MESSAGE_BYTES);
      await q().sendText(queue, text);
      const [m] = await q().receive(queue, 1, 30);
      expect(m?.messageText).toBe(text);
    });

    it('refuses messages over 64 KiB with an InputError naming the queue and the size, sending nothing', async () => {
      const queue = queueName();
      const tooLongText = 'A'.repeat(MAX_ENCODED_MESSAGE_BYTES + 1);
      // 48 KiB of JSON is 64 KiB of base64: just over it.
      const tooBigBody = { pad: 'x'.repeat(48 * 1024) };
      expect(Buffer.byteLength(encodeMessage(tooBigBody))).toBeGreaterThan(MAX_ENCODED_MESSAGE_BYTES);
      // Multi-byte characters count in bytes, not characters.
      const wideText = 'é'.repeat(MAX_ENCODED_MESSAGE_BYTES / 2 + 1);
      const notified: string[] = [];
      const watched = await create((name) => notified.push(name));
      for (const attempt of [
        watched.sendText(queue, tooLongText),
        watched.send(queue, tooBigBody),
        watched.sendText(queue, wideText),
      ]) {
        const err = await rejectionOf(attempt);
        expect(err).toBeInstanceOf(InputError);
        expect((err as Error).message).toMatch(new RegExp(`${queue}.*\\d+ bytes.*64 KiB`));
      }
      expect(notified).toEqual([]);
      expect(await watched.depth(queue)).toBe(0);
    });
  });
}

function describeNotifications(
  create: (onEnqueue?: (queueName: string) => void) => PipelineQueues | Promise<PipelineQueues>,
): void {
  describe('onEnqueue and notify', () => {
    it('calls onEnqueue with the queue name on every send and sendText, delayed or not', async () => {
      const queue = queueName();
      const notified: string[] = [];
      const q = await create((name) => notified.push(name));
      await q.send(queue, { n: 1 });
      await q.sendText(queue, 'raw');
      await q.send(queue, { n: 2 }, { delaySeconds: 30 });
      expect(notified).toEqual([queue, queue, queue]);
    });

    it('skips onEnqueue for quiet sends until notify is called', async () => {
      const queue = queueName();
      const notified: string[] = [];
      const q = await create((name) => notified.push(name));
      await q.send(queue, { n: 1 }, { quiet: true });
      await q.sendText(queue, 'raw', { quiet: true });
      expect(notified).toEqual([]);
      expect(await q.depth(queue)).toBe(2);
      q.notify(queue);
      expect(notified).toEqual([queue]);
    });

    it('sends and notifies without an onEnqueue', async () => {
      const queue = queueName();
      const q = await create();
      await q.send(queue, { n: 1 });
      q.notify(queue);
      expect(await q.depth(queue)).toBe(1);
    });
  });
}
