import { createHash } from 'node:crypto';
import { KEPT_TAG_LENGTH, MAX_TAG_LENGTH, TAG_HASH_SUFFIX_LENGTH } from './tagGrammar.js';

/**
 * Shortens a tag longer than {@link MAX_TAG_LENGTH} deterministically to exactly 127 characters:
 * its first {@link KEPT_TAG_LENGTH} (118) characters, `-`, and the first 8 hex digits of the
 * SHA-256 of the full tag (UTF-8). Shorter tags are returned unchanged. Lengths count UTF-16 code
 * units; tags reaching Panorama are ASCII (see {@link tagProblem}), where code units and characters
 * coincide.
 *
 * @example shortenTag(`aks.c.svc.note.${'x'.repeat(200)}`) // 'aks.c.svc.note.xxx…x-' + 8 hex digits
 */
export function shortenTag(tag: string): string {
  if (tag.length <= MAX_TAG_LENGTH) return tag;
  const hash = createHash('sha256').update(tag, 'utf8').digest('hex');
  return `${tag.slice(0, KEPT_TAG_LENGTH)}-${hash.slice(0, TAG_HASH_SUFFIX_LENGTH - 1)}`;
}
