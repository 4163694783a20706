import { describe, expect, it } from 'vitest';
import { FailureKind, PanoramaError } from '../../../shared/errors.js';
import { memoryLogger } from '../../../shared/logger.js';
import type { PeerObservation, PeerRole } from '../../../shared/panorama/haState.js';
import { PanoramaPeers } from '../../../shared/panorama/PanoramaPeers.js';
import { rejectionOf as rejection } from '../../helpers/rejectionOf.js';

/** Two fake peers whose HA roles the test sets; counts the questions asked. */
function world(roles: Record<string, PeerRole>, recheckMs = 30_000) {
  let clock = 0;
  const asked: string[] = [];
  const logger = memoryLogger();
  const peers = new PanoramaPeers<string>({
    peers: Object.keys(roles),
    urlOf: (p) => `https://${p}`,
    probe: async (p): Promise<PeerObservation> => {
      asked.push(p);
      const role = roles[p] ?? 'unreachable';
      return role === 'unreachable' ? { role, reason: 'connect ECONNREFUSED' } : { role, state: `x-${role}` };
    },
    recheckMs,
    now: () => clock,
    logger,
  });
  return { peers, roles, asked, logger, tick: (ms: number) => (clock += ms) };
}

describe('PanoramaPeers', () => {
  it('one peer: used as is, never asked its HA state', async () => {
    const w = world({ solo: 'passive' });
    await expect(w.peers.run(async (p) => p)).resolves.toBe('solo');
    expect(w.asked).toEqual([]);
    expect(w.peers.isPair).toBe(false);
  });

  it.each([
    [{ a: 'active', b: 'passive' }, 'a'],
    [{ a: 'passive', b: 'active' }, 'b'],
    [{ a: 'unreachable', b: 'active' }, 'b'],
  ] as const)('sends to the active peer (%j → %s), asking both once', async (roles, expected) => {
    const w = world({ ...roles });
    await expect(w.peers.run(async (p) => p)).resolves.toBe(expected);
    await expect(w.peers.run(async (p) => p)).resolves.toBe(expected);
    expect(w.asked.sort()).toEqual(['a', 'b']);
  });

  it('concurrent first calls share one round of questions', async () => {
    const w = world({ a: 'passive', b: 'active' });
    await Promise.all([1, 2, 3].map(() => w.peers.run(async (p) => p)));
    expect(w.asked).toHaveLength(2);
  });

  it('asks again once the answer is older than recheckMs and follows a role switch', async () => {
    const w = world({ a: 'active', b: 'passive' }, 1000);
    await w.peers.run(async (p) => p);
    w.roles.a = 'passive';
    w.roles.b = 'active';
    w.tick(999);
    await expect(w.peers.run(async (p) => p)).resolves.toBe('a');
    w.tick(1);
    await expect(w.peers.run(async (p) => p)).resolves.toBe('b');
    expect(w.logger.lines.find((l) => l.message === 'panorama failover')?.fields).toMatchObject({
      from: 'https://a',
      to: 'https://b',
    });
  });

  it('after a failed call asks again and repeats the call once on the new active peer', async () => {
    const w = world({ a: 'active', b: 'passive' });
    const tried: string[] = [];
    const result = await w.peers.run(async (p) => {
      tried.push(p);
      if (p === 'a') {
        w.roles.a = 'unreachable';
        w.roles.b = 'active';
        throw new Error('connect ECONNREFUSED');
      }
      return 'landed';
    });
    expect(result).toBe('landed');
    expect(tried).toEqual(['a', 'b']);
  });

  it('keeps the failure when the same peer is still active (and asks once per failure)', async () => {
    const w = world({ a: 'active', b: 'passive' });
    const boom = new Error('HTTP 404');
    await expect(w.peers.run(async () => Promise.reject(boom))).rejects.toBe(boom);
    expect(w.asked).toHaveLength(4);
  });

  it('a failure after which no peer is active becomes the retryable no-active error (cause kept)', async () => {
    const w = world({ a: 'active', b: 'passive' });
    const refused = new Error('refused by a passive peer');
    const err = await rejection(
      w.peers.run(async () => {
        w.roles.a = 'passive';
        throw refused;
      }),
    );
    expect(err).toBeInstanceOf(PanoramaError);
    expect((err as PanoramaError).kind).toBe(FailureKind.retryable);
    expect((err as Error).cause).toBe(refused);
  });

  it('does not bounce: a failure on the new peer stands', async () => {
    const w = world({ a: 'active', b: 'passive' });
    const tried: string[] = [];
    const err = await rejection(
      w.peers.run(async (p) => {
        tried.push(p);
        w.roles.a = w.roles.a === 'active' ? 'passive' : 'active';
        w.roles.b = w.roles.b === 'active' ? 'passive' : 'active';
        throw new Error(`failed on ${p}`);
      }),
    );
    expect((err as Error).message).toBe('failed on b');
    expect(tried).toEqual(['a', 'b']);
  });

  it.each<[Record<string, PeerRole>]>([
    [{ a: 'passive', b: 'passive' }],
    [{ a: 'unreachable', b: 'passive' }],
    [{ a: 'not-ready', b: 'unreachable' }],
  ])('no active peer (%j): a retryable error naming each peer, nothing sent', async (roles) => {
    const w = world(roles);
    let sent = 0;
    const err = await rejection(w.peers.run(async () => sent++));
    expect(err).toBeInstanceOf(PanoramaError);
    expect((err as PanoramaError).kind).toBe(FailureKind.retryable);
    expect((err as Error).message).toMatch(
      /^No active Panorama in the HA pair \(https:\/\/a: .*; https:\/\/b: /,
    );
    expect(sent).toBe(0);
    expect(w.logger.lines.some((l) => l.level === 'warn' && l.message === 'no active panorama peer')).toBe(
      true,
    );
  });

  it('observe() asks every peer now and reports the active one', async () => {
    const w = world({ a: 'passive', b: 'active' });
    const seen = await w.peers.observe();
    expect(seen.map((s) => s.role)).toEqual(['passive', 'active']);
    expect(w.peers.active).toBe('b');
  });

  it('refuses zero or three peers', () => {
    expect(() => world({})).toThrow(RangeError);
    expect(() => world({ a: 'active', b: 'active', c: 'active' })).toThrow(RangeError);
  });
});
