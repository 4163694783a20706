// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const FORBIDDEN = /['"\u0000-\u001f\u007f-\uffff]| {2}| $/;

function codePoint(c: string): string {
  return `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Why PAN-OS would refuse `tag` (or why this service refuses to send it), or `undefined` when the
 * tag may be sent. Refused:
 *
 * - a single quote `'` or a double quote `"` (DAG match expressions quote tags with them),
 * - a control character (U+0000–U+001F, U+007F–U+009F),
 * - two consecutive spaces, or a trailing space,
 * - any other non-ASCII character: Kubernetes label keys and values are ASCII, so such a character
 *   means hostile or corrupted input, and the Azure plugin documents that PAN-OS tags must not
 *   carry non-ASCII special characters.
 *
 * XML metacharacters (`<`, `>`, `&`) are allowed: escaping them is the Panorama client's job.
 * Length is not checked here (long tags are shortened, see {@link shortenTag}).
 */
export function tagProblem(tag: string): string | undefined {
  const m = FORBIDDEN.exec(tag);
  if (!m) return undefined;
  const hit = m[0];
  const where = `at position ${m.index + 1}`;
  if (hit === "'") return `contains a single quote ${where}`;
  if (hit === '"') return `contains a double quote ${where}`;
  if (hit === '  ') return `contains two consecutive spaces ${where}`;
  if (hit === ' ') return 'ends with a space';
  const c = tag.codePointAt(m.index) ?? 0;
  if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
    return `contains the control character ${codePoint(hit)} ${where}`;
  return `contains the non-ASCII character ${codePoint(String.fromCodePoint(c))} ${where}`;
}
