/** One media range of an `Accept` header. */
interface MediaRange {
  type: string;
  quality: number;
}

const HTML_TYPES = ['text/html', 'application/xhtml+xml'];

/** `q` of a range: 1 when absent; 0 (not acceptable) when it is not a number from 0 to 1. */
function qualityOf(params: string[]): number {
  const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
  if (q === undefined) return 1;
  const value = q.slice(2).trim();
  return /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value) ? Number(value) : 0;
}

function parseAccept(accept: string): MediaRange[] {
  return accept
    .split(',')
    .map((part) => part.split(';'))
    .map(([type = '', ...params]) => ({ type: type.trim().toLowerCase(), quality: qualityOf(params) }))
    .filter((r) => r.type !== '');
}

/** The quality the most specific range matching `type` gives it (exact, `major/*`, `*\/*`); 0 if none. */
function qualityFor(ranges: readonly MediaRange[], type: string): number {
  const major = `${type.split('/')[0]}/*`;
  for (const candidate of [type, major, '*/*']) {
    const matching = ranges.filter((r) => r.type === candidate);
    if (matching.length > 0) return Math.max(...matching.map((r) => r.quality));
  }
  return 0;
}

/**
 * Whether a request's `Accept` header asks for the HTML page rather than JSON. HTML only when
 * `text/html` (or `application/xhtml+xml`) is named with a quality above the one JSON gets: a
 * browser's navigation (`text/html,…,*\/*;q=0.8`) gets the page; no header, `*\/*` (curl, fetch),
 * `text/*`, `application/json` and ties get JSON, the API's default.
 */
export function prefersHtml(accept: string | null | undefined): boolean {
  if (!accept) return false;
  const ranges = parseAccept(accept);
  const named = ranges.filter((r) => HTML_TYPES.includes(r.type));
  if (named.length === 0) return false;
  const htmlQuality = Math.max(...named.map((r) => r.quality));
  return htmlQuality > 0 && htmlQuality > qualityFor(ranges, 'application/json');
}
