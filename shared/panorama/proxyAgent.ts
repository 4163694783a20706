import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { getProxyForUrl } from 'proxy-from-env';
import { registerSecret } from '../logger.js';
import { TlsTunnelAgent } from '../net/TlsTunnelAgent.js';

/** The agent of one HTTPS endpoint and the proxy it goes through (for logs: no credentials). */
export interface EndpointAgent {
  agent: http.Agent;
  /** `http://proxy.example.net:3128` without user info, when the endpoint is reached through a proxy. */
  proxy?: string;
}

/**
 * The proxy for an `https://` URL from the process environment, as every SDK of this service reads
 * it: `HTTPS_PROXY` (or `https_proxy`, then `ALL_PROXY`) unless `NO_PROXY` matches the host
 * (`proxy-from-env` rules: comma- or space-separated hosts, `.suffix` / `*.suffix`, optional `:port`,
 * `*` = never). `http://` URLs (loopback only in this service) are never proxied. A proxy URL
 * without a scheme is taken as `http://`. Its credentials are registered as secrets.
 */
export function proxyForUrl(url: string): string | undefined {
  if (!url.startsWith('https:')) return undefined;
  const raw = getProxyForUrl(url);
  if (!raw) return undefined;
  const proxy = raw.includes('://') ? raw : `http://${raw}`;
  registerProxySecrets(proxy);
  return proxy;
}

/**
 * Registers the credentials of a proxy URL for redaction: the password as written and decoded,
 * `user:password` decoded, and the `Proxy-Authorization` Basic token built from them.
 */
export function registerProxySecrets(proxy: string): void {
  let url: URL;
  try {
    url = new URL(proxy);
  } catch {
    registerSecret(proxy);
    return;
  }
  if (!url.password) return;
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  registerSecret(url.password);
  registerSecret(password);
  registerSecret(`${user}:${password}`);
  registerSecret(Buffer.from(`${user}:${password}`).toString('base64'));
}

/** A proxy URL for logs and messages: scheme, host and port only. */
export function describeProxy(proxy: string): string {
  try {
    const url = new URL(proxy);
    return `${url.protocol}//${url.host}`;
  } catch {
    return 'an unparsable proxy URL';
  }
}

/**
 * The keep-alive agent for one endpoint: TLS always verified against the system roots plus `caCert`
 * (when given); through an HTTP CONNECT tunnel when {@link proxyForUrl} names a proxy, the TLS
 * session (and its verification) still ending at the endpoint itself.
 */
export function createEndpointAgent(url: string, caCert?: string): EndpointAgent {
  if (!url.startsWith('https:')) return { agent: new http.Agent({ keepAlive: true }) };
  const tlsOptions = {
    rejectUnauthorized: true,
    ...(caCert ? { ca: [...tls.rootCertificates, caCert] } : {}),
  };
  const proxy = proxyForUrl(url);
  if (!proxy) return { agent: new https.Agent({ keepAlive: true, ...tlsOptions }) };
  return {
    agent: new TlsTunnelAgent(proxy, tlsOptions, { keepAlive: true, ...tlsOptions }),
    proxy: describeProxy(proxy),
  };
}
