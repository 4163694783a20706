import http from 'node:http';
import https from 'node:https';
import type tls from 'node:tls';
import type { Cluster } from '@kubernetes/client-node';
import { FailureKind, KubernetesError } from '../errors.js';
import { TlsTunnelAgent } from '../net/TlsTunnelAgent.js';

/**
 * The keep-alive agent of one cluster, built like client-node 1.4's own (`KubeConfig` `createAgent`)
 * from the TLS options `KubeConfig.applyToHTTPSOptions` produced (CA, client certificate,
 * `rejectUnauthorized: false` only for `insecure-skip-tls-verify`, `servername`): through an HTTP
 * CONNECT tunnel when the kubeconfig names a `proxy-url`, plain HTTP only for an `http://` server
 * the kubeconfig marks `insecure-skip-tls-verify`, else HTTPS. Sockets are kept alive and reused
 * across the pages of a list. SOCKS proxies are refused with a {@link KubernetesError}.
 */
export function createKubeAgent(cluster: Cluster, tlsOptions: tls.ConnectionOptions): http.Agent {
  const where = `Kubernetes API of cluster "${cluster.name}" (${cluster.server})`;
  if (cluster.proxyUrl) {
    if (!/^https?:\/\//i.test(cluster.proxyUrl)) {
      throw new KubernetesError(
        `${where}: only http:// and https:// proxies (HTTP CONNECT) are supported; set HTTPS_PROXY to one`,
        { kind: FailureKind.permanent, details: { cluster: cluster.name } },
      );
    }
    return new TlsTunnelAgent(cluster.proxyUrl, tlsOptions, { keepAlive: true, scheduling: 'lifo' });
  }
  if (cluster.server.startsWith('http:')) {
    if (!cluster.skipTLSVerify) {
      throw new KubernetesError(`${where}: plain HTTP is only allowed with insecure-skip-tls-verify`, {
        kind: FailureKind.permanent,
        details: { cluster: cluster.name },
      });
    }
    return new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  }
  return new https.Agent({ keepAlive: true, scheduling: 'lifo', ...tlsOptions });
}
