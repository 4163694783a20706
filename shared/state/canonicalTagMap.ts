import { createHash } from 'node:crypto';
import type { IpTagMap } from '../tags/IpTagMap.js';

/**
 * The canonical JSON of a tag map: `{"<ip>":["<tag>",…],…}` with IPs and each IP's tags sorted in
 * code-unit order, duplicate tags dropped and IPs without tags left out. Equal states give equal
 * strings, whatever the order they were built in.
 */
export function canonicalTagMapJson(tags: IpTagMap): string {
  const parts: string[] = [];
  for (const ip of [...tags.keys()].sort()) {
    const list = [...new Set(tags.get(ip))].sort();
    if (list.length > 0) parts.push(`${JSON.stringify(ip)}:${JSON.stringify(list)}`);
  }
  return `{${parts.join(',')}}`;
}

/** The SHA-256 (hex) of a canonical tag map JSON (see {@link canonicalTagMapJson}). */
export function digestOfCanonicalJson(json: string): string {
  return createHash('sha256').update(json, 'utf8').digest('hex');
}

/** The digest of a tag map: the SHA-256 (hex) of its canonical JSON, as a cluster head stores it. */
export function tagMapDigest(tags: IpTagMap): string {
  return digestOfCanonicalJson(canonicalTagMapJson(tags));
}
