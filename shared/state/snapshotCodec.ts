import { gunzipSync, gzipSync } from 'node:zlib';
import { AzureError, FailureKind } from '../errors.js';
import type { IpTagMap } from '../tags/IpTagMap.js';
import { canonicalTagMapJson, digestOfCanonicalJson } from './canonicalTagMap.js';

/** Bytes of one binary property of a snapshot entity (`Edm.Binary` holds at most 64 KiB). */
export const SNAPSHOT_PROPERTY_BYTES = 64 * 1024;

/**
 * Binary properties per snapshot entity: 9 × 64 KiB = 576 KiB, 768 KiB as base64 — inside the 1 MiB
 * entity limit however it is counted (Azurite 3.35 counts the base64 and refused 12 × 64 KiB), with
 * room for keys, property names and the bookkeeping properties.
 */
export const SNAPSHOT_PROPERTIES_PER_ENTITY = 9;

/** A tag map encoded as a snapshot: gzip of its canonical JSON, and what the head records of it. */
export interface EncodedSnapshot {
  /** SHA-256 (hex) of the canonical JSON. */
  digest: string;
  gz: Uint8Array;
  ips: number;
  /** (ip, tag) pairs. */
  pairs: number;
}

/** Encodes a tag map as a snapshot (canonical JSON, gzip). Pure. */
export function encodeSnapshot(tags: IpTagMap): EncodedSnapshot {
  const json = canonicalTagMapJson(tags);
  let ips = 0;
  let pairs = 0;
  for (const list of tags.values()) {
    const n = new Set(list).size;
    if (n > 0) ips++;
    pairs += n;
  }
  return { digest: digestOfCanonicalJson(json), gz: gzipSync(json), ips, pairs };
}

/** A snapshot that cannot be decoded, or whose content does not match the digest its head records. */
export class SnapshotCorruptError extends AzureError {
  constructor(what: string) {
    super(`Table storage: ${what}`, { kind: FailureKind.permanent });
    this.name = 'SnapshotCorruptError';
  }
}

/**
 * Decodes a snapshot and checks it against the digest its head records.
 *
 * @throws {SnapshotCorruptError} when it is not gzip of a tag map JSON, or its digest differs.
 */
export function decodeSnapshot(gz: Uint8Array, digest: string): Map<string, readonly string[]> {
  let json: string;
  let parsed: unknown;
  try {
    json = gunzipSync(gz).toString('utf8');
    parsed = JSON.parse(json);
  } catch {
    throw new SnapshotCorruptError('a state snapshot is not gzip-compressed JSON');
  }
  if (digestOfCanonicalJson(json) !== digest)
    throw new SnapshotCorruptError(`a state snapshot does not match its digest ${digest.slice(0, 12)}…`);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new SnapshotCorruptError('a state snapshot is not an object of IP → tags');
  const out = new Map<string, readonly string[]>();
  for (const [ip, tags] of Object.entries(parsed)) {
    if (!Array.isArray(tags) || !tags.every((t): t is string => typeof t === 'string'))
      throw new SnapshotCorruptError(`a state snapshot holds something else than a tag list for ${ip}`);
    out.set(ip, tags);
  }
  return out;
}

/** Splits a snapshot into entities of {@link SNAPSHOT_PROPERTIES_PER_ENTITY} binary properties (at least one entity). */
export function splitSnapshot(gz: Uint8Array): Uint8Array[][] {
  const perEntity = SNAPSHOT_PROPERTY_BYTES * SNAPSHOT_PROPERTIES_PER_ENTITY;
  const entities: Uint8Array[][] = [];
  for (let at = 0; at < gz.length || entities.length === 0; at += perEntity) {
    const props: Uint8Array[] = [];
    const end = Math.min(gz.length, at + perEntity);
    for (let p = at; p < end; p += SNAPSHOT_PROPERTY_BYTES)
      props.push(gz.subarray(p, Math.min(end, p + SNAPSHOT_PROPERTY_BYTES)));
    entities.push(props);
  }
  return entities;
}

/** Joins what {@link splitSnapshot} split (entities in order). */
export function joinSnapshot(entities: readonly (readonly Uint8Array[])[]): Uint8Array {
  return Buffer.concat(entities.flat());
}
