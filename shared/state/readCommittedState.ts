import { AzureError, FailureKind } from '../errors.js';
import {
  type ClusterHead,
  type ClusterStateRepository,
  MissingSnapshotError,
} from './ClusterStateRepository.js';

/** The committed state of a cluster as one read saw it: the head and the state it points at. */
export interface CommittedState {
  /** Undefined when the cluster has no state yet. */
  head: ClusterHead | undefined;
  tags: Map<string, readonly string[]>;
}

/** Reads before a state that keeps moving under a reader is reported (retryable). */
const ATTEMPTS = 5;

function samePointer(a: ClusterHead | undefined, b: ClusterHead | undefined): boolean {
  return a?.snapshot === b?.snapshot && a?.digest === b?.digest;
}

/**
 * Reads the committed state of a cluster: the head (or `start`, a head the caller just read), then
 * the snapshot it points at. When that
 * snapshot is gone (a newer commit removed it in between) or the head pointed at the 0.1.0 rows and
 * has been migrated since, the head is read again and the read retried — a missing snapshot is never
 * read as an empty state.
 *
 * @throws {MissingSnapshotError} (permanent) when the head still points at a snapshot that is gone.
 */
export async function readCommittedState(
  repo: Pick<ClusterStateRepository, 'getHead' | 'readSnapshot'>,
  cluster: string,
  start?: ClusterHead,
): Promise<CommittedState> {
  let head = start ?? (await repo.getHead(cluster));
  for (let attempt = 1; head; attempt++) {
    const tags = await repo.readSnapshot(cluster, head);
    // A snapshot never changes; 0.1.0 rows may have been deleted while they were read.
    const again = tags && head.snapshot !== undefined ? head : await repo.getHead(cluster);
    if (samePointer(head, again)) {
      if (tags) return { head, tags };
      throw new MissingSnapshotError(head.cluster, head.snapshot ?? 0);
    }
    if (attempt >= ATTEMPTS)
      throw new AzureError(`Table storage: the state of ${cluster} kept changing while it was read`, {
        kind: FailureKind.retryable,
      });
    head = again;
  }
  return { head: undefined, tags: new Map() };
}

/** The entries of `tags` for the given IPs, in sorted IP order. */
export function tagsOfIps(
  tags: ReadonlyMap<string, readonly string[]>,
  ips: readonly string[],
): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const ip of [...new Set(ips)].sort()) {
    const list = tags.get(ip);
    if (list) out.set(ip, list);
  }
  return out;
}
