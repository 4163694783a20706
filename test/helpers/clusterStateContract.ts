import { beforeEach, describe, expect, it } from 'vitest';
import {
  type ClusterHead,
  type ClusterStateRepository,
  ConcurrencyConflictError,
  LeaseLostError,
  MAX_IP_TAGS_JSON_CHARS,
} from '../../shared/state/ClusterStateRepository.js';
import { rejectionOf } from './rejectionOf.js';

type NewHead = Omit<ClusterHead, 'etag'>;

function newHead(cluster: string, fields: Partial<NewHead> = {}): NewHead {
  return {
    cluster,
    generation: 0,
    pendingGeneration: 0,
    ipCount: 0,
    tagCount: 0,
    targets: [],
    retiringTargets: [],
    heldRemovals: 0,
    holdBasePairs: 0,
    ipsOverBudget: 0,
    ...fields,
  };
}

/** A tag list whose JSON is exactly `chars` (≥ 300) characters long, of tags of at most 127 characters. */
function tagsOfJsonLength(chars: number): string[] {
  const tag = (i: number, length: number) => `aks.c.t${String(i).padStart(6, '0')}.`.padEnd(length, 'x');
  // JSON = '[' + tags joined by ',' + ']': every tag costs its length + 3 (quotes, comma), less one comma.
  let left = chars - 1;
  const tags: string[] = [];
  while (left > 260) {
    tags.push(tag(tags.length, 127));
    left -= 130;
  }
  const half = Math.floor(left / 2);
  tags.push(tag(tags.length, half - 3), tag(tags.length + 1, left - half - 3));
  return tags;
}

/** `n` IPv4 addresses 10.9.x.y, sorted as strings. */
function ipv4s(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.9.${Math.floor(i / 200)}.${(i % 200) + 1}`).sort();
}

/**
 * The contract of a {@link ClusterStateRepository} (see shared/state/ClusterStateRepository.ts),
 * defined as `describe` blocks; `create` returns a fresh, empty repository for every test.
 */
export function describeClusterStateContract(
  name: string,
  create: () => ClusterStateRepository | Promise<ClusterStateRepository>,
): void {
  describe(`${name}: the ClusterStateRepository contract`, () => {
    let state: ClusterStateRepository;
    beforeEach(async () => {
      state = await create();
    });
    describeHeads(() => state);
    describeIpRows(() => state);
    describeLongTagLists(() => state);
    describeFences(() => state);
    describeBookkeeping(() => state);
  });
}

function describeHeads(repo: () => ClusterStateRepository): void {
  describe('heads', () => {
    it('has no head for a cluster without state', async () => {
      expect(await repo().getHead('aks-none')).toBeUndefined();
      expect(await repo().listHeads()).toEqual([]);
    });

    it('creates a head and reads it back, by cluster name in any case', async () => {
      const created = await repo().createHead(
        newHead('AKS-One', { generation: 3, pendingGeneration: 4, targets: ['0101'], leaseOwner: 'me/1' }),
      );
      const read = await repo().getHead('aks-one');
      expect(created.etag).not.toBe('');
      expect(read).toEqual({ ...created, etag: read?.etag });
      expect(read?.etag).toBe(created.etag);
    });

    it('refuses to create a head twice (ConcurrencyConflictError)', async () => {
      await repo().createHead(newHead('aks-a'));
      const err = await rejectionOf(repo().createHead(newHead('AKS-A', { generation: 9 })));
      expect(err).toBeInstanceOf(ConcurrencyConflictError);
      expect((await repo().getHead('aks-a'))?.generation).toBe(0);
    });

    it('replaces a head with a matching ETag; the ETag changes and empty fields are cleared', async () => {
      const created = await repo().createHead(newHead('aks-a', { leaseOwner: 'me/1', lastError: 'boom' }));
      const replaced = await repo().replaceHead({ ...created, generation: 1, leaseOwner: '', lastError: '' });
      const read = await repo().getHead('aks-a');
      expect(replaced.etag).not.toBe(created.etag);
      expect(read?.etag).toBe(replaced.etag);
      expect(read?.generation).toBe(1);
      expect(read?.leaseOwner).toBeUndefined();
      expect(read?.lastError).toBeUndefined();
    });

    it('refuses a replace with a stale ETag or of a missing head (ConcurrencyConflictError)', async () => {
      const created = await repo().createHead(newHead('aks-a'));
      await repo().replaceHead({ ...created, generation: 1 });
      const stale = await rejectionOf(repo().replaceHead({ ...created, generation: 2 }));
      const missing = await rejectionOf(repo().replaceHead({ ...created, cluster: 'aks-b' }));
      expect(stale).toBeInstanceOf(ConcurrencyConflictError);
      expect(missing).toBeInstanceOf(ConcurrencyConflictError);
      expect((await repo().getHead('aks-a'))?.generation).toBe(1);
      expect(await repo().getHead('aks-b')).toBeUndefined();
    });

    it('lists every head sorted by cluster name', async () => {
      for (const c of ['aks-c', 'aks-a', 'aks-b']) await repo().createHead(newHead(c));
      await repo().writeIpTags('aks-a', new Map([['10.0.0.1', ['t']]]), [], 1);
      const heads = await repo().listHeads();
      expect(heads.map((h) => h.cluster)).toEqual(['aks-a', 'aks-b', 'aks-c']);
    });
  });
}

function describeIpRows(repo: () => ClusterStateRepository): void {
  describe('IP rows', () => {
    it('upserts replace tags, deletes remove rows, and deleting missing rows is fine', async () => {
      await repo().writeIpTags(
        'aks-a',
        new Map([
          ['10.0.0.1', ['a', 'b']],
          ['10.0.0.2', ['c']],
        ]),
        [],
        1,
      );
      await repo().writeIpTags('aks-a', new Map([['10.0.0.1', ['z']]]), ['10.0.0.2', '10.0.0.3'], 2);
      await repo().writeIpTags('aks-a', new Map(), ['10.0.0.4'], 3);
      expect([...(await repo().readIpTags('AKS-A'))]).toEqual([['10.0.0.1', ['z']]]);
    });

    it('writes more rows than one transaction holds', async () => {
      const ips = ipv4s(250);
      let batches = 0;
      const beforeBatch = () => {
        batches++;
      };
      await repo().writeIpTags('aks-a', new Map(ips.map((ip) => [ip, [`t-${ip}`]])), [], 1, { beforeBatch });
      await repo().writeIpTags('aks-a', new Map(), ips.slice(0, 120), 2, { beforeBatch });
      const rows = await repo().readIpTags('aks-a');
      expect(batches).toBe(5);
      expect([...rows.keys()].sort()).toEqual(ips.slice(120));
      expect(rows.get(ips[200] as string)).toEqual([`t-${ips[200]}`]);
    });

    it('writes nothing of a transaction whose beforeBatch throws', async () => {
      const stop = () => {
        throw new Error('budget spent');
      };
      const err = await rejectionOf(
        repo().writeIpTags('aks-a', new Map([['10.0.0.1', ['a']]]), [], 1, { beforeBatch: stop }),
      );
      expect((err as Error).message).toBe('budget spent');
      expect((await repo().readIpTags('aks-a')).size).toBe(0);
    });

    it('reads the given IPs, sparse (point reads) and dense (one range)', async () => {
      const ips = ipv4s(60);
      await repo().writeIpTags('aks-a', new Map(ips.map((ip) => [ip, [`t-${ip}`]])), [], 1);
      const sparse = await repo().readIpTagsFor('aks-a', [ips[3] as string, '10.200.0.1', ips[3] as string]);
      const wanted = [...ips.slice(10, 40), '10.9.0.250', '10.9.9.9'];
      const dense = await repo().readIpTagsFor('aks-a', wanted);
      expect([...sparse]).toEqual([[ips[3], [`t-${ips[3]}`]]]);
      expect([...dense.keys()].sort()).toEqual(ips.slice(10, 40));
      expect(await repo().readIpTagsFor('aks-a', [])).toEqual(new Map());
    });

    it('keeps clusters apart', async () => {
      await repo().writeIpTags('aks-a', new Map([['10.0.0.1', ['a']]]), [], 1);
      await repo().writeIpTags('aks-b', new Map([['10.0.0.1', ['b']]]), [], 1);
      expect((await repo().readIpTags('aks-a')).get('10.0.0.1')).toEqual(['a']);
      expect((await repo().readIpTagsFor('aks-b', ['10.0.0.1'])).get('10.0.0.1')).toEqual(['b']);
      expect((await repo().readIpTags('aks-c')).size).toBe(0);
    });
  });
}

function describeLongTagLists(repo: () => ClusterStateRepository): void {
  describe('long tag lists', () => {
    it('round-trips lists past 30,000 JSON characters, up to the row limit, and shrinks them again', async () => {
      const long = tagsOfJsonLength(30_001);
      const longest = tagsOfJsonLength(MAX_IP_TAGS_JSON_CHARS);
      expect(JSON.stringify(long).length).toBe(30_001);
      expect(JSON.stringify(longest).length).toBe(MAX_IP_TAGS_JSON_CHARS);
      const upserts = new Map([
        ['10.0.0.1', long],
        ['10.0.0.2', longest],
      ]);
      await repo().writeIpTags('aks-a', upserts, [], 1);
      expect(await repo().readIpTags('aks-a')).toEqual(upserts);
      expect((await repo().readIpTagsFor('aks-a', ['10.0.0.2'])).get('10.0.0.2')).toEqual(longest);
      await repo().writeIpTags('aks-a', new Map([['10.0.0.2', ['short']]]), [], 2);
      expect((await repo().readIpTagsFor('aks-a', ['10.0.0.2'])).get('10.0.0.2')).toEqual(['short']);
    });
  });
}

function describeFences(repo: () => ClusterStateRepository): void {
  describe('lease fences', () => {
    it('lets the owner of a fence write', async () => {
      await repo().createFence('aks-a', 'host-1/abc');
      await repo().createFence('aks-a', 'host-1/abc');
      const ips = ipv4s(150);
      await repo().writeIpTags('aks-a', new Map(ips.map((ip) => [ip, ['t']])), [], 1, {
        fence: 'host-1/abc',
      });
      await repo().writeIpTags('aks-a', new Map(), [ips[0] as string, '10.1.1.1'], 2, {
        fence: 'host-1/abc',
      });
      expect((await repo().readIpTags('aks-a')).size).toBe(149);
    });

    it('fails a fenced write after dropFence with LeaseLostError, writing nothing', async () => {
      await repo().createFence('aks-a', 'old/1');
      await repo().writeIpTags('aks-a', new Map([['10.0.0.1', ['a']]]), [], 1, { fence: 'old/1' });
      await repo().dropFence('aks-a', 'old/1');
      const err = await rejectionOf(
        repo().writeIpTags('aks-a', new Map([['10.0.0.2', ['b']]]), ['10.0.0.1'], 2, { fence: 'old/1' }),
      );
      expect(err).toBeInstanceOf(LeaseLostError);
      expect([...(await repo().readIpTags('aks-a'))]).toEqual([['10.0.0.1', ['a']]]);
    });

    it('fails a fenced write of an owner that never had a fence', async () => {
      const err = await rejectionOf(
        repo().writeIpTags('aks-a', new Map([['10.0.0.1', ['a']]]), [], 1, { fence: 'nobody/1' }),
      );
      expect(err).toBeInstanceOf(LeaseLostError);
      expect((await repo().readIpTags('aks-a')).size).toBe(0);
    });

    it("drops fences idempotently and only the named owner's", async () => {
      await repo().createFence('aks-a', 'a/1');
      await repo().createFence('aks-a', 'b/1');
      await repo().dropFence('aks-a', 'a/1');
      await repo().dropFence('aks-a', 'a/1');
      await repo().dropFence('aks-a', 'never/1');
      await repo().writeIpTags('aks-a', new Map([['10.0.0.1', ['b']]]), [], 1, { fence: 'b/1' });
      await repo().writeIpTags('aks-a', new Map([['10.0.0.2', ['c']]]), [], 1);
      expect((await repo().readIpTags('aks-a')).size).toBe(2);
    });
  });
}

function describeBookkeeping(repo: () => ClusterStateRepository): void {
  describe('bookkeeping rows', () => {
    it('never reads the head or fences as IPs, not even in a range spanning them', async () => {
      await repo().createHead(newHead('aks-a'));
      await repo().createFence('aks-a', 'owner/1');
      const ips = [...ipv4s(15), ...Array.from({ length: 15 }, (_, i) => `fd00::${(i + 1).toString(16)}`)];
      await repo().writeIpTags('aks-a', new Map(ips.map((ip) => [ip, ['t']])), [], 1, { fence: 'owner/1' });
      const all = await repo().readIpTags('aks-a');
      const dense = await repo().readIpTagsFor('aks-a', ips);
      const sparse = await repo().readIpTagsFor('aks-a', [ips[0] as string, 'fd00::1']);
      expect([...all.keys()].sort()).toEqual([...ips].sort());
      expect([...dense.keys()].sort()).toEqual([...ips].sort());
      expect([...sparse.keys()].sort()).toEqual([ips[0], 'fd00::1']);
      expect((await repo().listHeads()).map((h) => h.cluster)).toEqual(['aks-a']);
    });
  });
}
