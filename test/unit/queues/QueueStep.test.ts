import { describe, expect, it } from 'vitest';
import { FailureKind, InputError, SyncError } from '../../../shared/errors.js';
import { decodeMessage } from '../../../shared/queues/PipelineQueues.js';
import { type QueueStep, runQueueStep, type StepOutcome } from '../../../shared/queues/QueueStep.js';
import { MemoryQueues } from '../../helpers/memoryStores.js';

const NOW = 1_700_000_000_000;

interface Echo extends StepOutcome {
  seen: string;
}

/** A step over `{ n }` bodies: returns what it saw and whatever `reply` says. */
function step(reply: (n: number) => Echo | Error): QueueStep<{ n: number }, Echo, { queues: MemoryQueues }> {
  return {
    queue: 'work',
    parse: (body) => {
      const n = (body as { n?: unknown } | null)?.n;
      if (typeof n !== 'number') throw new InputError('work message: n is not a number');
      return { n };
    },
    run: async ({ n }) => {
      const r = reply(n);
      if (r instanceof Error) throw r;
      return r;
    },
  };
}

describe('runQueueStep', () => {
  it.each([
    ['done: nothing is sent', { seen: 'a' }, []],
    [
      'requeueAfter: the message is sent again with its delay',
      { seen: 'b', requeueAfter: { seconds: 7, message: { n: 2 } } },
      [{ n: 2 }],
    ],
    [
      'requeueAfter 0 s: sent visible at once',
      { seen: 'c', requeueAfter: { seconds: 0, message: { n: 3 } } },
      [{ n: 3 }],
    ],
  ] as const)('%s', async (_name, outcome, expected) => {
    // prepare
    const queues = new MemoryQueues({ now: () => NOW });

    // act
    const result = await runQueueStep(
      step(() => ({ ...outcome })),
      { n: 1 },
      { queues },
    );

    // assess
    expect(result).toEqual(outcome);
    expect(queues.texts('work').map(decodeMessage)).toEqual(expected);
  });

  it('keeps a requeued message invisible for its delay', async () => {
    // prepare
    let now = NOW;
    const queues = new MemoryQueues({ now: () => now });

    // act
    await runQueueStep(
      step(() => ({ seen: 'x', requeueAfter: { seconds: 30, message: { n: 9 } } })),
      { n: 1 },
      { queues },
    );

    // assess
    expect(await queues.receive('work', 1, 30)).toEqual([]);
    now += 30_000;
    expect((await queues.receive('work', 1, 30)).map((m) => decodeMessage(m.messageText))).toEqual([
      { n: 9 },
    ]);
  });

  it.each([
    ['an unreadable body throws the InputError of parse', null, () => ({ seen: 'never' }), InputError],
    [
      'a failing step throws its error',
      { n: 1 },
      () => new SyncError('device down', { kind: FailureKind.retryable }),
      SyncError,
    ],
  ] as const)('%s and sends nothing', async (_name, body, reply, errorClass) => {
    // prepare
    const queues = new MemoryQueues({ now: () => NOW });

    // act
    const attempt = runQueueStep(step(reply), body, { queues });

    // assess
    await expect(attempt).rejects.toBeInstanceOf(errorClass);
    expect(queues.texts('work')).toEqual([]);
  });
});
