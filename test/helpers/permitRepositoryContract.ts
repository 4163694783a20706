import { beforeEach, describe, expect, it } from 'vitest';
import type { PermitRepository } from '../../shared/state/PermitRepository.js';

/**
 * The contract of a {@link PermitRepository} (see shared/state/PermitRepository.ts), defined as
 * `describe` blocks; `create` returns a fresh, empty repository for every test.
 */
export function describePermitRepositoryContract(
  name: string,
  create: () => PermitRepository | Promise<PermitRepository>,
): void {
  describe(`${name}: the PermitRepository contract`, () => {
    let repo: PermitRepository;
    beforeEach(async () => {
      repo = await create();
    });
    describeRows(() => repo);
    describeRaces(() => repo);
  });
}

const HOLDER = { owner: 'instance-a#1', untilMs: Date.parse('2030-01-02T03:04:05.000Z') };

function describeRows(repo: () => PermitRepository): void {
  describe('rows', () => {
    it('has no rows in a partition never written', async () => {
      expect(await repo().list('panorama.example.net')).toEqual([]);
    });

    it('creates a held permit and lists it back with its ETag', async () => {
      const etag = await repo().create('p1', 2, HOLDER);
      expect(etag).toEqual(expect.any(String));
      expect(await repo().list('p1')).toEqual([{ index: 2, ...HOLDER, etag }]);
    });

    it('refuses to create a permit that exists (undefined), leaving it unchanged', async () => {
      const etag = await repo().create('p1', 0, HOLDER);
      expect(await repo().create('p1', 0, { owner: 'instance-b#1', untilMs: 1 })).toBeUndefined();
      expect(await repo().list('p1')).toEqual([{ index: 0, ...HOLDER, etag }]);
    });

    it('gives a permit back (free: empty owner) with its current ETag and returns a new ETag', async () => {
      const etag = (await repo().create('p1', 1, HOLDER)) as string;
      const freed = await repo().replace('p1', 1, etag, undefined);
      expect(freed).toEqual(expect.any(String));
      expect(freed).not.toBe(etag);
      expect(await repo().list('p1')).toEqual([{ index: 1, owner: '', untilMs: 0, etag: freed }]);
    });

    it('changes nothing with a stale ETag or on a missing row (undefined)', async () => {
      const first = (await repo().create('p1', 0, HOLDER)) as string;
      const second = (await repo().replace('p1', 0, first, undefined)) as string;
      expect(await repo().replace('p1', 0, first, { owner: 'late#1', untilMs: 5 })).toBeUndefined();
      expect(await repo().replace('p1', 3, second, HOLDER)).toBeUndefined();
      expect(await repo().list('p1')).toEqual([{ index: 0, owner: '', untilMs: 0, etag: second }]);
    });

    it('keeps partitions apart', async () => {
      await repo().create('panorama-a', 0, HOLDER);
      expect(await repo().list('panorama-b')).toEqual([]);
      expect(await repo().create('panorama-b', 0, HOLDER)).toEqual(expect.any(String));
    });
  });
}

function describeRaces(repo: () => PermitRepository): void {
  describe('races', () => {
    it('lets exactly one of several concurrent creates of one permit win', async () => {
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map((n) => repo().create('p1', 0, { owner: `i${n}#1`, untilMs: n })),
      );
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      const rows = await repo().list('p1');
      expect(rows).toHaveLength(1);
      const winner = results.findIndex((r) => r !== undefined) + 1;
      expect(rows[0]?.owner).toBe(`i${winner}#1`);
    });

    it('lets exactly one of several concurrent replaces with the same ETag win', async () => {
      const etag = (await repo().create('p1', 0, HOLDER)) as string;
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map((n) => repo().replace('p1', 0, etag, { owner: `i${n}#2`, untilMs: n })),
      );
      const wins = results.filter((r) => r !== undefined);
      expect(wins).toHaveLength(1);
      expect((await repo().list('p1'))[0]?.etag).toBe(wins[0]);
    });
  });
}
