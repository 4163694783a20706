import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { QueueClient } from '@azure/storage-queue';
import { inject } from 'vitest';
import { withRegistrationWarningsSilenced } from '../../../host/loadFunctionSpecs.js';
import { type LocalHost, type LocalHostOptions, startLocalHost } from '../../../host/startLocalHost.js';
import type { FunctionSpec } from '../../../shared/functionSpecs.js';
import { memoryLogger } from '../../../shared/logger.js';

/** The repository's host.json (tests override the queue settings they exercise). */
export const REPO_HOST_JSON = join(import.meta.dirname, '..', '..', '..', 'host.json');

/** A queue name no other test uses (lower-case, 3–63 characters). */
export function uniqueQueueName(prefix: string): string {
  return `t-${prefix}-${randomBytes(5).toString('hex')}`.toLowerCase();
}

/** A client for `name` on the test Azurite, with the queue created. */
export async function testQueue(name: string): Promise<QueueClient> {
  const client = new QueueClient(inject('azuriteConnectionString'), name);
  await client.createIfNotExists();
  return client;
}

/** Base64 of the JSON of `body`, as producers send to a `messageEncoding: base64` host. */
export function base64Json(body: unknown): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
}

/** Defines specs with the real `define*` helpers, without the test-mode registration warnings. */
export function quietly<T>(define: () => T): T {
  return withRegistrationWarningsSilenced(define);
}

/**
 * Polls `probe` until it returns a value other than `undefined`/`false`, or fails after `timeoutMs`
 * with `description`.
 */
export async function waitFor<T>(
  description: string,
  probe: () => T | Promise<T>,
  { timeoutMs = 20_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** All message texts currently in a queue (peek, no dequeue). */
export async function peekTexts(queue: QueueClient): Promise<string[]> {
  const res = await queue.peekMessages({ numberOfMessages: 32 });
  return res.peekedMessageItems.map((m) => m.messageText);
}

/** A promise with its resolver, to hold handlers until the test lets them go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

/** Starts a local host on the test Azurite, an ephemeral port and an in-memory log. */
export async function startTestHost(
  specs: FunctionSpec[],
  options: Partial<LocalHostOptions> = {},
): Promise<LocalHost & { log: ReturnType<typeof memoryLogger> }> {
  const log = memoryLogger('debug');
  const { settings, ...rest } = options;
  const host = await startLocalHost({
    specs,
    port: 0,
    logger: log,
    hostJsonPath: REPO_HOST_JSON,
    ...rest,
    settings: { AzureWebJobsStorage: inject('azuriteConnectionString'), ...settings },
  });
  return Object.assign(host, { log });
}
