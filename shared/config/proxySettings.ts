import { registerProxySecrets } from '../panorama/proxyAgent.js';

/** The proxy settings every outbound client honours (Panorama, Kubernetes, Azure SDKs). */
export const PROXY_SETTINGS = ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY'] as const;

/**
 * Checks `HTTPS_PROXY` / `HTTP_PROXY` (and their lower-case spellings): each must be an `http://` or
 * `https://` URL (a bare `host:port` is taken as `http://`). Their credentials are registered as
 * secrets first; a problem names the setting and never repeats its value.
 */
export function checkProxySettings(settings: Readonly<Record<string, string | undefined>>): string[] {
  const problems: string[] = [];
  for (const key of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) {
    const raw = settings[key]?.trim();
    if (!raw) continue;
    const value = raw.includes('://') ? raw : `http://${raw}`;
    registerProxySecrets(value);
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || url.hostname === '') problems.push(`${key}: not a URL (expected http://host:port)`);
    else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push(`${key}: expected an http:// or https:// proxy URL, got "${url.protocol}"`);
    }
  }
  return problems;
}
