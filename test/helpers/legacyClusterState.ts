import type { TableClient } from '@azure/data-tables';
import { clusterPartition } from '../../shared/state/ClusterStateRepository.js';
import type { IpTagMap } from '../../shared/tags/IpTagMap.js';

/** Characters of tag JSON per string property in 0.1.0 (`tags`, then `tags_1`, `tags_2`, …). */
const TAGS_PROPERTY_CHARS = 30_000;

/**
 * Writes IP rows exactly as 0.1.0's `ClusterStateStore.writeIpTags` did: one row per IP (RowKey =
 * IP) with its tags as JSON in `tags` (continued in `tags_1`, …) and the `generation` that wrote it,
 * in 100-entity transactions.
 */
export async function writeLegacyIpRows(
  table: TableClient,
  cluster: string,
  tags: IpTagMap,
  generation = 1,
): Promise<void> {
  await table.createTable().catch(() => undefined);
  const pk = clusterPartition(cluster);
  const rows = [...tags].map(([ip, list]) => {
    const json = JSON.stringify(list);
    const row: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
      partitionKey: pk,
      rowKey: ip,
      tags: json.slice(0, TAGS_PROPERTY_CHARS),
      generation,
    };
    for (let i = 1; i * TAGS_PROPERTY_CHARS < json.length; i++)
      row[`tags_${i}`] = json.slice(i * TAGS_PROPERTY_CHARS, (i + 1) * TAGS_PROPERTY_CHARS);
    return row;
  });
  for (let i = 0; i < rows.length; i += 100)
    await table.submitTransaction(rows.slice(i, i + 100).map((row) => ['upsert', row, 'Replace']));
}
