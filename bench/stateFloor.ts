import { TableClient } from '@azure/data-tables';
import {
  decodeSnapshot,
  encodeSnapshot,
  joinSnapshot,
  splitSnapshot,
} from '../shared/state/snapshotCodec.js';
import type { IpTagMap } from '../shared/tags/IpTagMap.js';
import { elapsedMs } from './BenchSection.js';

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
 * **The state floor**: the `{ip → tags}` map encoded and split exactly as the store does
 * (`shared/state/snapshotCodec.ts`: canonical JSON, gzip, 64 KiB binary properties, the same entities),
 * written with `@azure/data-tables` directly (no store, no head, no ETags, no transaction) and read
 * back. `writeMs`/`readMs` are the Table calls alone; encode/decode are timed apart.
 */
export async function stateFloor(connectionString: string, tags: IpTagMap): Promise<StateFloor> {
  const table = TableClient.fromConnectionString(connectionString, TABLE, { allowInsecureConnection: true });
  await table.createTable();
  const encodeStarted = process.hrtime.bigint();
  const encoded = encodeSnapshot(tags);
  const split = splitSnapshot(encoded.gz);
  const encodeMs = elapsedMs(encodeStarted);
  const entities = split.map((chunks, n) => {
    const entity: Record<string, unknown> = { partitionKey: 'floor', rowKey: String(n) };
    chunks.forEach((chunk, c) => {
      entity[`d${c}`] = chunk;
    });
    return entity as { partitionKey: string; rowKey: string };
  });
  const writeStarted = process.hrtime.bigint();
  for (const e of entities) await table.upsertEntity(e, 'Replace');
  const writeMs = elapsedMs(writeStarted);
  const readStarted = process.hrtime.bigint();
  const parts: Uint8Array[][] = [];
  for (let n = 0; n < entities.length; n++) {
    const e = await table.getEntity<Record<string, Uint8Array>>('floor', String(n));
    const chunks: Uint8Array[] = [];
    for (let c = 0; e[`d${c}`] !== undefined; c++) chunks.push(e[`d${c}`] as Uint8Array);
    parts.push(chunks);
  }
  const readMs = elapsedMs(readStarted);
  const decodeStarted = process.hrtime.bigint();
  const back = decodeSnapshot(joinSnapshot(parts), encoded.digest);
  const decodeMs = elapsedMs(decodeStarted);
  if (back.size !== tags.size) throw new Error(`state floor: read back ${back.size} of ${tags.size} IPs`);
  return { snapshotBytes: encoded.gz.length, entities: entities.length, encodeMs, writeMs, readMs, decodeMs };
}
