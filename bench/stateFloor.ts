import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { TableClient } from '@azure/data-tables';
import type { IpTagMap } from '../shared/tags/IpTagMap.js';
import { elapsedMs } from './BenchSection.js';

const gz = promisify(gzip);
const gunz = promisify(gunzip);
/**
 * Table Storage: a binary property holds ≤ 64 KiB, an entity ≤ 1 MiB; Azurite counts the request's
 * base64 text, so 11 chunks (704 KiB, ~940 KiB as base64) per entity.
 */
const CHUNK = 64 * 1024;
const CHUNKS_PER_ENTITY = 11;
const TABLE = 'benchstatefloor';

/** What the floor measured: the snapshot's bytes, and the bare Table write and read of them. */
export interface StateFloor {
  snapshotBytes: number;
  entities: number;
  encodeMs: number;
  writeMs: number;
  readMs: number;
  decodeMs: number;
}

/**
 * **The state floor**: the `{ip → tags}` map as gzip'd JSON, written as binary properties of one
 * or two entities with `@azure/data-tables` directly (no store, no head, no ETags) and read back.
 * `writeMs`/`readMs` are the Table calls alone; encode/decode (JSON + gzip) are timed apart.
 */
export async function stateFloor(connectionString: string, tags: IpTagMap): Promise<StateFloor> {
  const table = TableClient.fromConnectionString(connectionString, TABLE, { allowInsecureConnection: true });
  await table.createTable();
  const encodeStarted = process.hrtime.bigint();
  const bytes = await gz(Buffer.from(JSON.stringify([...tags])));
  const encodeMs = elapsedMs(encodeStarted);
  const entities: Record<string, unknown>[] = [];
  for (let at = 0, n = 0; at < bytes.length; n++) {
    const entity: Record<string, unknown> = { partitionKey: 'floor', rowKey: String(n) };
    for (let c = 0; c < CHUNKS_PER_ENTITY && at < bytes.length; c++, at += CHUNK) {
      entity[`d${c}`] = new Uint8Array(bytes.subarray(at, at + CHUNK));
    }
    entities.push(entity);
  }
  const writeStarted = process.hrtime.bigint();
  for (const e of entities)
    await table.upsertEntity(e as { partitionKey: string; rowKey: string }, 'Replace');
  const writeMs = elapsedMs(writeStarted);
  const readStarted = process.hrtime.bigint();
  const parts: Uint8Array[] = [];
  for (let n = 0; n < entities.length; n++) {
    const e = await table.getEntity<Record<string, Uint8Array>>('floor', String(n));
    for (let c = 0; e[`d${c}`] !== undefined; c++) parts.push(e[`d${c}`] as Uint8Array);
  }
  const readMs = elapsedMs(readStarted);
  const decodeStarted = process.hrtime.bigint();
  const back = new Map(
    JSON.parse((await gunz(Buffer.concat(parts))).toString('utf8')) as [string, string[]][],
  );
  const decodeMs = elapsedMs(decodeStarted);
  if (back.size !== tags.size) throw new Error(`state floor: read back ${back.size} of ${tags.size} IPs`);
  return { snapshotBytes: bytes.length, entities: entities.length, encodeMs, writeMs, readMs, decodeMs };
}
