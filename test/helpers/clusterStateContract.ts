import { beforeEach, describe, expect, it } from 'vitest';
import { classify, FailureKind } from '../../shared/errors.js';
import {
  type ClusterHead,
  type ClusterStateRepository,
  ConcurrencyConflictError,
  LeaseLostError,
  MissingSnapshotError,
} from '../../shared/state/ClusterStateRepository.js';
import { readCommittedState } from '../../shared/state/readCommittedState.js';
import type { IpTagMap } from '../../shared/tags/IpTagMap.js';
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

/** `n` IPv4 addresses 10.9.x.y, sorted as strings. */
function ipv4s(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.9.${Math.floor(i / 200)}.${(i % 200) + 1}`).sort();
}

/** A repository under test, and how to write the rows a 0.1.0 deployment left (one per IP). */
export interface ContractSubject {
  repo: ClusterStateRepository;
  writeLegacyRows(cluster: string, tags: IpTagMap): Promise<void>;
}

/** Commits `tags` as the snapshot of `generation`: writes it, then points the head at it (creating it). */
export async function commitTags(
  repo: ClusterStateRepository,
  cluster: string,
  tags: IpTagMap,
  generation: number,
): Promise<ClusterHead> {
  const written = await repo.writeSnapshot(cluster, generation, tags);
  const head = await repo.getHead(cluster);
  const pointer = { generation, pendingGeneration: generation, snapshot: generation, digest: written.digest };
  return head
    ? repo.replaceHead({ ...head, ...pointer })
    : repo.createHead({ ...newHead(cluster), ...pointer });
}

/** A deterministic pseudo-random hex string (incompressible enough to fill entities). */
function noise(seed: number, length: number): string {
  let x = seed * 2654435761 + 1;
  let out = '';
  while (out.length < length) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += x.toString(16);
  }
  return out.slice(0, length);
}

/**
 * The contract of a {@link ClusterStateRepository} (see shared/state/ClusterStateRepository.ts),
 * defined as `describe` blocks; `create` returns a fresh, empty repository for every test.
 */
export function describeClusterStateContract(
  name: string,
  create: () => ContractSubject | Promise<ContractSubject>,
): void {
  describe(`${name}: the ClusterStateRepository contract`, () => {
    let subject: ContractSubject;
    beforeEach(async () => {
      subject = await create();
    });
    describeHeads(() => subject.repo);
    describeSnapshots(() => subject.repo);
    describeFences(() => subject.repo);
    describePrune(() => subject);
    describeLegacyRows(() => subject);
    describeMovingState(() => subject.repo);
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
        newHead('AKS-One', {
          ...{ generation: 3, pendingGeneration: 4, targets: ['0101'], leaseOwner: 'me/1' },
          ...{ snapshot: 3, digest: 'ab'.repeat(32) },
        }),
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
      const created = await repo().createHead(
        newHead('aks-a', { leaseOwner: 'me/1', lastError: 'boom', snapshot: 0, digest: 'cd' }),
      );
      expect((await repo().getHead('aks-a'))?.snapshot).toBe(0);
      const { snapshot: _s, digest: _d, ...rest } = created;
      const replaced = await repo().replaceHead({ ...rest, generation: 1, leaseOwner: '', lastError: '' });
      const read = await repo().getHead('aks-a');
      expect(replaced.etag).not.toBe(created.etag);
      expect(read?.etag).toBe(replaced.etag);
      expect(read?.generation).toBe(1);
      expect(read?.leaseOwner).toBeUndefined();
      expect(read?.lastError).toBeUndefined();
      expect(read?.snapshot).toBeUndefined();
      expect(read?.digest).toBeUndefined();
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

    it('lists every head sorted by cluster name, never a snapshot', async () => {
      for (const c of ['aks-c', 'aks-a', 'aks-b']) await repo().createHead(newHead(c));
      await commitTags(repo(), 'aks-a', new Map([['10.0.0.1', ['t']]]), 1);
      await repo().writeSnapshot('aks-d', 1, new Map([['10.0.0.1', ['t']]]));
      const heads = await repo().listHeads();
      expect(heads.map((h) => h.cluster)).toEqual(['aks-a', 'aks-b', 'aks-c']);
    });
  });
}

function describeSnapshots(repo: () => ClusterStateRepository): void {
  describe('snapshots', () => {
    it('reads the committed snapshot whole and by IPs, by cluster name in any case', async () => {
      const ips = ipv4s(60);
      const tags = new Map(ips.map((ip) => [ip, [`t-${ip}`, 'a']]));
      const written = await repo().writeSnapshot('AKS-A', 1, tags);
      expect(written).toMatchObject({ snapshot: 1, entities: 1, ips: 60, pairs: 120 });
      await commitTags(repo(), 'aks-a', tags, 1);
      const all = await repo().readIpTags('aks-a');
      const some = await repo().readIpTagsFor('AKS-A', [ips[3] as string, '10.200.0.1', ips[3] as string]);
      expect([...all.keys()]).toEqual(ips);
      expect(all.get(ips[7] as string)).toEqual(['a', `t-${ips[7]}`]);
      expect([...some]).toEqual([[ips[3], ['a', `t-${ips[3]}`]]]);
      expect(await repo().readIpTagsFor('aks-a', [])).toEqual(new Map());
    });

    it('is empty without a head, and for an empty snapshot; IPs without tags are left out', async () => {
      expect((await repo().readIpTags('aks-none')).size).toBe(0);
      const head = await commitTags(repo(), 'aks-a', new Map([['10.0.0.1', []]]), 1);
      expect(await repo().readIpTags('aks-a')).toEqual(new Map());
      expect(await repo().readSnapshot('aks-a', head)).toEqual(new Map());
    });

    it('keeps clusters and generations apart', async () => {
      await commitTags(repo(), 'aks-a', new Map([['10.0.0.1', ['a']]]), 1);
      await commitTags(repo(), 'aks-b', new Map([['10.0.0.1', ['b']]]), 1);
      const head = await commitTags(repo(), 'aks-a', new Map([['10.0.0.1', ['a2']]]), 2);
      expect((await repo().readIpTags('aks-a')).get('10.0.0.1')).toEqual(['a2']);
      expect((await repo().readIpTagsFor('aks-b', ['10.0.0.1'])).get('10.0.0.1')).toEqual(['b']);
      const first = await repo().writeSnapshot('aks-a', 1, new Map([['10.0.0.1', ['a']]]));
      const old = await repo().readSnapshot('aks-a', { ...head, snapshot: 1, digest: first.digest });
      expect(old?.get('10.0.0.1')).toEqual(['a']);
    });

    it('round-trips a snapshot of several entities, hostile tags and one IP with 5,000 tags', async () => {
      const tags = new Map<string, readonly string[]>();
      for (let i = 0; i < 10_000; i++) tags.set(`10.${i >> 8}.${i & 255}.9`, [`aks.c.${noise(i, 120)}`]);
      tags.set('fd00::1', ['a"b', 'back\\slash', 'ctl\u0001', 'emoji 🦜', 'lone \ud800', '</xml>&']);
      tags.set(
        '10.99.0.1',
        Array.from({ length: 5000 }, (_, i) => `aks.c.t${i}.${noise(i, 110)}`),
      );
      const written = await repo().writeSnapshot('aks-a', 1, tags);
      await commitTags(repo(), 'aks-a', tags, 1);
      expect(written.entities).toBeGreaterThan(1);
      const read = await repo().readIpTags('aks-a');
      expect(read.size).toBe(tags.size);
      for (const [ip, list] of tags) expect(read.get(ip)).toEqual([...list].sort());
    });
  });
}

function describeFences(repo: () => ClusterStateRepository): void {
  describe('lease fences', () => {
    it('lets the owner of a fence write and prune', async () => {
      await repo().createFence('aks-a', 'host-1/abc');
      await repo().createFence('aks-a', 'host-1/abc');
      const tags = new Map(ipv4s(150).map((ip) => [ip, ['t']]));
      await repo().writeSnapshot('aks-a', 1, tags, { fence: 'host-1/abc' });
      await commitTags(repo(), 'aks-a', tags, 1);
      await repo().pruneSnapshots('aks-a', { current: 1 }, { fence: 'host-1/abc' });
      expect((await repo().readIpTags('aks-a')).size).toBe(150);
    });

    it('fails a fenced write after dropFence with LeaseLostError; the snapshot is never complete', async () => {
      await repo().createFence('aks-a', 'old/1');
      const head = await commitTags(repo(), 'aks-a', new Map([['10.0.0.1', ['a']]]), 1);
      await repo().dropFence('aks-a', 'old/1');
      const err = await rejectionOf(
        repo().writeSnapshot('aks-a', 2, new Map([['10.0.0.2', ['b']]]), { fence: 'old/1' }),
      );
      const prune = await rejectionOf(repo().pruneSnapshots('aks-a', { current: 2 }, { fence: 'old/1' }));
      expect(err).toBeInstanceOf(LeaseLostError);
      expect(prune).toBeInstanceOf(LeaseLostError);
      expect(await repo().readSnapshot('aks-a', { ...head, snapshot: 2 })).toBeUndefined();
      expect([...(await repo().readIpTags('aks-a'))]).toEqual([['10.0.0.1', ['a']]]);
    });

    it('fails a fenced write of an owner that never had a fence, and one whose beforeBatch throws', async () => {
      const head = await commitTags(repo(), 'aks-a', new Map(), 1);
      const err = await rejectionOf(
        repo().writeSnapshot('aks-a', 2, new Map([['10.0.0.1', ['a']]]), { fence: 'nobody/1' }),
      );
      const stop = () => {
        throw new Error('budget spent');
      };
      const stopped = await rejectionOf(
        repo().writeSnapshot('aks-a', 3, new Map([['10.0.0.1', ['a']]]), { beforeBatch: stop }),
      );
      expect(err).toBeInstanceOf(LeaseLostError);
      expect((stopped as Error).message).toBe('budget spent');
      expect(await repo().readSnapshot('aks-a', { ...head, snapshot: 2 })).toBeUndefined();
      expect(await repo().readSnapshot('aks-a', { ...head, snapshot: 3 })).toBeUndefined();
    });

    it("drops fences idempotently and only the named owner's", async () => {
      await repo().createFence('aks-a', 'a/1');
      await repo().createFence('aks-a', 'b/1');
      await repo().dropFence('aks-a', 'a/1');
      await repo().dropFence('aks-a', 'a/1');
      await repo().dropFence('aks-a', 'never/1');
      await repo().writeSnapshot('aks-a', 1, new Map([['10.0.0.1', ['b']]]), { fence: 'b/1' });
      expect(await rejectionOf(repo().writeSnapshot('aks-a', 2, new Map(), { fence: 'a/1' }))).toBeInstanceOf(
        LeaseLostError,
      );
    });
  });
}

function describePrune(subject: () => ContractSubject): void {
  describe('pruning', () => {
    it('keeps the current and the previous snapshot and every newer one; deletes the rest', async () => {
      const { repo } = subject();
      const heads: ClusterHead[] = [];
      for (let g = 1; g <= 5; g++)
        heads.push(await commitTags(repo, 'aks-a', new Map([['10.0.0.1', [`g${g}`]]]), g));
      const pruned = await repo.pruneSnapshots('aks-a', { current: 4, previous: 2 });
      const present = [];
      for (const h of heads) if (await repo.readSnapshot('aks-a', h)) present.push(h.snapshot);
      expect(present).toEqual([2, 4, 5]);
      expect(pruned).toEqual({ snapshotEntities: 2, legacyRows: 0 });
      expect(await repo.pruneSnapshots('aks-a', { current: 4, previous: 2 })).toEqual({
        snapshotEntities: 0,
        legacyRows: 0,
      });
      expect((await repo.readIpTags('aks-a')).get('10.0.0.1')).toEqual(['g5']);
    });
  });
}

function describeLegacyRows(subject: () => ContractSubject): void {
  describe('the 0.1.0 layout (one row per IP)', () => {
    it('is the state of a head without a snapshot, without its bookkeeping rows, until a prune deletes it', async () => {
      const { repo, writeLegacyRows } = subject();
      await repo.createHead(newHead('aks-a', { generation: 7, pendingGeneration: 7 }));
      await repo.createFence('aks-a', 'owner/1');
      const long = Array.from(
        { length: 400 },
        (_, i) => `aks.aks-a.svc.k${String(i).padStart(3, '0')}.${'x'.repeat(100)}`,
      );
      const rows = new Map<string, readonly string[]>([
        ...ipv4s(15).map((ip): [string, string[]] => [ip, ['t']]),
        ['fd00::1', ['v6']],
        ['10.0.0.1', long],
      ]);
      await writeLegacyRows('aks-a', rows);
      const read = await repo.readIpTags('aks-a');
      expect([...read.keys()].sort()).toEqual([...rows.keys()].sort());
      expect(read.get('10.0.0.1')).toEqual(long);
      expect((await repo.readIpTagsFor('aks-a', ['fd00::1'])).get('fd00::1')).toEqual(['v6']);

      await commitTags(repo, 'aks-a', read, 8);
      const pruned = await repo.pruneSnapshots('aks-a', { current: 8 }, { fence: 'owner/1' });
      expect(pruned).toEqual({ snapshotEntities: 0, legacyRows: rows.size });
      const head = await repo.getHead('aks-a');
      expect(await repo.readSnapshot('aks-a', { ...(head as ClusterHead), snapshot: undefined })).toEqual(
        new Map(),
      );
      expect(await repo.readIpTags('aks-a')).toEqual(read);
    });
  });
}

function describeMovingState(repo: () => ClusterStateRepository): void {
  describe('reading while commits move on', () => {
    it('re-reads the head when the snapshot it pointed at was removed in between, never reading it as empty', async () => {
      await commitTags(repo(), 'aks-a', new Map([['10.0.0.1', ['g1']]]), 1);
      let moved = false;
      const reader = {
        readSnapshot: repo().readSnapshot.bind(repo()),
        getHead: async (cluster: string) => {
          const head = await repo().getHead(cluster);
          if (!moved) {
            moved = true;
            await commitTags(repo(), cluster, new Map([['10.0.0.1', ['g2']]]), 2);
            await commitTags(repo(), cluster, new Map([['10.0.0.2', ['g3']]]), 3);
            await repo().pruneSnapshots(cluster, { current: 3, previous: 2 });
          }
          return head;
        },
      };
      const read = await readCommittedState(reader, 'aks-a');
      expect(read.head?.snapshot).toBe(3);
      expect([...read.tags]).toEqual([['10.0.0.2', ['g3']]]);
    });

    it('reads a head pointing at a snapshot that does not exist as corrupt (permanent), never as empty', async () => {
      const head = await commitTags(repo(), 'aks-a', new Map([['10.0.0.1', ['t']]]), 1);
      await repo().replaceHead({ ...head, snapshot: 9 });
      const err = await rejectionOf(repo().readIpTags('aks-a'));
      expect(err).toBeInstanceOf(MissingSnapshotError);
      expect(classify(err)).toBe(FailureKind.permanent);
      expect((err as Error).message).toMatch(/head of aks-a points at state snapshot 9, which is missing/);
    });
  });
}
