import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeQueueMessageText, queueMessageValue } from '../../../host/QueueListener.js';
import { InputError } from '../../../shared/errors.js';
import {
  chunkDeltaMessages,
  parseDeltaMessage,
  parseRecomputeMessage,
} from '../../../shared/pipeline/messages.js';

/**
 * Malformed queue messages as the functions receive them (host decoding, then validation): each is
 * refused with an InputError naming the field, never anything else; and what the recompute itself
 * produces is always accepted.
 */

const header = { v: 1 as const, cluster: 'aks-m', target: 'panorama', generation: 3 };

function deltaMessage(deltas: unknown): Record<string, unknown> {
  return { ...header, deltas };
}

describe('tag-deltas messages with hostile content', () => {
  const refused: [string, unknown, RegExp][] = [
    ['a string', 'hello', /malformed tag-deltas message: /],
    ['an array', [header], /expected object, received array/],
    ['v 2', { ...deltaMessage([]), v: 2 }, /at v: /],
    ['no deltas', deltaMessage([]), /at deltas: /],
    [
      'a negative generation',
      { ...deltaMessage([{ ip: '10.0.0.1', register: [], unregister: [] }]), generation: -1 },
      /at generation/,
    ],
    [
      'an invalid IP',
      deltaMessage([{ ip: '<script>', register: [], unregister: ['aks.aks-m.x'] }]),
      /at deltas\.0\.ip: "<script>" is not a canonical IP address/,
    ],
    [
      'a non-canonical IP',
      deltaMessage([{ ip: 'FD00:0::1', register: [], unregister: ['aks.aks-m.x'] }]),
      /at deltas\.0\.ip: /,
    ],
    [
      'an IP with a zone',
      deltaMessage([{ ip: 'fe80::1%eth0', register: ['aks.aks-m.x'], unregister: [] }]),
      /at deltas\.0\.ip: /,
    ],
    [
      'a tag with a quote',
      deltaMessage([{ ip: '10.0.0.1', register: ['aks.aks-m."x'], unregister: [] }]),
      /at deltas\.0\.register\.0: tag .* contains a double quote/,
    ],
    [
      'a tag with NUL',
      deltaMessage([{ ip: '10.0.0.1', register: [], unregister: ['aks.aks-m.\u0000'] }]),
      /at deltas\.0\.unregister\.0: .*control character U\+0000/,
    ],
    [
      'a tag of a person',
      deltaMessage([{ ip: '10.0.0.1', register: [], unregister: ['owner.security-team'] }]),
      /at deltas\.0\.unregister\.0: tag "owner.security-team" is not a tag of cluster aks-m/,
    ],
    [
      'a tag of another cluster',
      deltaMessage([{ ip: '10.0.0.1', register: [], unregister: ['aks_web.aks-other.svc'] }]),
      /is not a tag of cluster aks-m/,
    ],
    [
      'a tag over 127 characters',
      deltaMessage([{ ip: '10.0.0.1', register: [`aks.aks-m.${'x'.repeat(120)}`], unregister: [] }]),
      /at deltas\.0\.register\.0: Too big/,
    ],
  ];

  it.each(refused)('%s is refused with an InputError naming the field', (_what, body, reason) => {
    let thrown: unknown;
    try {
      parseDeltaMessage(body);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as Error).message).toMatch(reason);
    expect((thrown as Error).message).not.toContain('\n');
  });

  it('accepts the owned, canonical deltas the recompute writes (any case of the cluster name)', () => {
    const deltas = [
      {
        ip: '10.0.0.1',
        register: ['aks.aks-m.web', 'aks_web.aks-m.web'],
        unregister: ['aks.AKS-M.svc.app.old'],
      },
      { ip: 'fd00::1', register: [`aks.aks-m.svc.note.${'n'.repeat(99)}-0123abcd`], unregister: [] },
    ];
    expect(parseDeltaMessage(deltaMessage(deltas)).deltas).toEqual(deltas);
  });

  it('every message chunkDeltaMessages builds from valid deltas parses back (property)', () => {
    const ip = fc.oneof(
      fc.ipV4().filter((a) => a !== '0.0.0.0'),
      fc.constantFrom('fd00::1', '2001:db8::a:1', 'fe80::1'),
    );
    const tag = fc.stringMatching(/^[a-z0-9./_-]{1,40}$/).map((t) => `aks.aks-m.svc.${t}`);
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            ip,
            register: fc.array(tag, { maxLength: 5 }),
            unregister: fc.array(tag, { maxLength: 5 }),
          }),
          { selector: (d) => d.ip, minLength: 1, maxLength: 50 },
        ),
        (deltas) => {
          for (const m of chunkDeltaMessages(header, deltas))
            expect(parseDeltaMessage(JSON.parse(JSON.stringify(m)))).toEqual(m);
        },
      ),
      { numRuns: 100, seed: 3 },
    );
  });
});

describe('cluster-recompute messages with hostile content', () => {
  const now = new Date().toISOString();
  it.each([
    ['a number', 42, /expected object/],
    ['a numeric cluster', { v: 1, cluster: 1, reason: 'x', requestedAt: now }, /at cluster/],
    ['an empty cluster', { v: 1, cluster: '', reason: 'x', requestedAt: now }, /at cluster/],
    [
      'a 64 KiB reason',
      { v: 1, cluster: 'aks-m', reason: 'r'.repeat(65_536), requestedAt: now },
      /at reason/,
    ],
    [
      'a date that is not ISO',
      { v: 1, cluster: 'aks-m', reason: 'x', requestedAt: 'Fri, 27 Nov 2026' },
      /at requestedAt/,
    ],
    [
      'deleted as a string',
      { v: 1, cluster: 'aks-m', reason: 'x', requestedAt: now, deleted: 'yes' },
      /at deleted/,
    ],
  ])('%s is refused with an InputError naming the field', (_what, body, reason) => {
    expect(() => parseRecomputeMessage(body)).toThrow(InputError);
    expect(() => parseRecomputeMessage(body)).toThrow(reason);
  });
});

describe('the host decoding of hostile message texts', () => {
  it.each([
    ['not base64', 'hello world!', undefined],
    ['base64 with a bad length', 'abc', undefined],
    ['URL-safe base64', 'ab-_', undefined],
    ['64 KiB of "!"', '!'.repeat(65_536), undefined],
  ])('%s is refused (→ poison without an invocation)', (_what, text, expected) => {
    expect(decodeQueueMessageText(text, 'base64')).toBe(expected);
  });

  it('base64 of non-JSON reaches the function as a string, which validation refuses', () => {
    const text = decodeQueueMessageText(Buffer.from('{"v":1,').toString('base64'), 'base64');
    expect(text).toBe('{"v":1,');
    const value = queueMessageValue(text as string);
    expect(value).toBe('{"v":1,');
    expect(() => parseDeltaMessage(value)).toThrow(
      /malformed tag-deltas message: .*expected object, received string/,
    );
  });

  it('invalid UTF-8 decodes to replacement characters and is refused by validation', () => {
    const text = decodeQueueMessageText(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64'), 'base64');
    expect(() => parseRecomputeMessage(queueMessageValue(text as string))).toThrow(InputError);
  });
});
