import { checkServiceUrl } from './checkServiceUrl.js';

/** `PANORAMA_URL` read as one Panorama or the two peers of an HA pair. */
export interface PanoramaUrls {
  /** One URL, or two (an HA pair) in the order given; trailing slashes removed. */
  urls: string[];
  /** One line per problem, each starting with `PANORAMA_URL`; empty when the value is good. */
  problems: string[];
}

/**
 * Splits `PANORAMA_URL` on commas: one URL (a single Panorama) or two (the peers of a Panorama HA
 * pair). Each must pass {@link checkServiceUrl}; more than two, an empty item, or
 * the same peer twice is a problem.
 *
 * @example parsePanoramaUrls('https://pano-a.example.net, https://pano-b.example.net/').urls
 * // ['https://pano-a.example.net', 'https://pano-b.example.net']
 */
export function parsePanoramaUrls(raw: string): PanoramaUrls {
  const items = raw.split(',').map((s) => s.trim().replace(/\/+$/, ''));
  if (items.length === 1 && items[0] === '') {
    return { urls: [], problems: ['PANORAMA_URL: missing; e.g. https://panorama.example.net'] };
  }
  const problems: string[] = [];
  if (items.length > 2) {
    problems.push(`PANORAMA_URL: expected one URL or the two peers of an HA pair, got ${items.length}`);
  }
  if (items.some((i) => i === '')) problems.push('PANORAMA_URL: an empty item between commas');
  for (const item of items.filter((i) => i !== '')) {
    const problem = checkServiceUrl('PANORAMA_URL', item);
    if (problem) problems.push(problem);
  }
  const [a, b] = items;
  if (items.length === 2 && a && b && sameOrigin(a, b)) {
    problems.push('PANORAMA_URL: both HA peers name the same Panorama');
  }
  return { urls: items.filter((i) => i !== ''), problems };
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return a === b;
  }
}
