import { isIPv4 } from 'node:net';

/** Rules of {@link checkServiceUrl}. */
export interface ServiceUrlRules {
  /**
   * Accept `http://` for loopback hosts (default true: local simulators and emulators). Pass false
   * for URLs a remote party supplies, such as API servers named by ARM.
   */
  loopbackHttp?: boolean;
  /** Quote a value that does not parse in the problem (default true; false when it may hold secrets). */
  echoValue?: boolean;
}

/**
 * Whether `hostname` (bare or in URL brackets) is `localhost`, `::1` or in `127.0.0.0/8`.
 * IPv4-mapped IPv6 (`::ffff:127.0.0.1`, which URLs spell `::ffff:7f00:1`) is not loopback here:
 * the exception for plain HTTP stays limited to the usual spellings.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIPv4(h) && h.startsWith('127.');
}

/**
 * Checks a service URL: it must parse, carry no credentials and use `https://` (or `http://` for
 * loopback hosts, unless `rules.loopbackHttp` is false). Returns a one-line problem starting with
 * `key`, or undefined. Problems never contain credentials.
 */
export function checkServiceUrl(key: string, raw: string, rules: ServiceUrlRules = {}): string | undefined {
  const { loopbackHttp = true, echoValue = true } = rules;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return echoValue ? `${key}: not a URL ("${raw}")` : `${key}: not a URL`;
  }
  if (url.username || url.password) return `${key}: must not contain credentials`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return `${key}: expected an https:// URL, got "${url.protocol}"`;
  if (!loopbackHttp) return `${key}: http:// is not allowed; use https://`;
  if (isLoopbackHost(url.hostname)) return undefined;
  return `${key}: http:// is only allowed for loopback hosts; use https://`;
}
