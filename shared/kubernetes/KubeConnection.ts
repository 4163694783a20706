import type http from 'node:http';
import type https from 'node:https';
import type tls from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import { FailureKind, KubernetesError } from '../errors.js';
import { createKubeAgent } from './createKubeAgent.js';

/** What each request to the API server carries: client-node's headers (`Authorization`…) and basic auth. */
export interface KubeRequestAuth {
  headers: Record<string, string>;
  auth?: string;
}

/** One cluster's API server: its URL and the keep-alive agent every page of every list goes through. */
export interface KubeConnection {
  /** The server URL without a trailing `/` (a path prefix, as behind a proxy, is kept). */
  readonly server: string;
  readonly agent: http.Agent;
  /** The headers of the next requests, from client-node (so exec and auth-provider tokens refresh). */
  auth(): Promise<KubeRequestAuth>;
  /** Closes the kept-alive sockets. */
  close(): void;
}

/** client-node's request options for `kubeConfig` (its throw-away agent destroyed). */
async function clientNodeOptions(kubeConfig: KubeConfig): Promise<https.RequestOptions> {
  const opts: https.RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(opts);
  (opts.agent as http.Agent | undefined)?.destroy?.();
  return opts;
}

function tlsOptionsOf(opts: https.RequestOptions): tls.ConnectionOptions {
  const out: tls.ConnectionOptions = {};
  for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'rejectUnauthorized'] as const) {
    if (opts[k] !== undefined) Object.assign(out, { [k]: opts[k] });
  }
  return out;
}

function authOf(opts: https.RequestOptions): KubeRequestAuth {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return { headers, ...(opts.auth ? { auth: opts.auth } : {}) };
}

/**
 * Opens the {@link KubeConnection} of the current context of `kubeConfig`: authentication (bearer
 * token, exec and auth-provider plugins, client certificates) and TLS (CA, server name,
 * `insecure-skip-tls-verify`) come from client-node's `KubeConfig.applyToHTTPSOptions`; the agent
 * is ours, keep-alive ({@link createKubeAgent}).
 */
export async function createKubeConnection(kubeConfig: KubeConfig): Promise<KubeConnection> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    throw new KubernetesError('the kubeconfig of the cluster has no current cluster', {
      kind: FailureKind.permanent,
    });
  }
  const first = await clientNodeOptions(kubeConfig);
  const agent = createKubeAgent(cluster, tlsOptionsOf(first));
  let pending: KubeRequestAuth | undefined = authOf(first);
  return {
    server: cluster.server.replace(/\/+$/, ''),
    agent,
    async auth() {
      const ready = pending;
      pending = undefined;
      return ready ?? authOf(await clientNodeOptions(kubeConfig));
    },
    close: () => agent.destroy(),
  };
}
