import { KubeConfig } from '@kubernetes/client-node';
import { InputError } from '../errors.js';

/** Where a kubeconfig's current cluster is and which CA it presents. */
export interface KubeconfigEndpoint {
  server: string;
  /** Base64 PEM (`certificate-authority-data`). */
  caData?: string;
  /** `tls-server-name`, when set. */
  tlsServerName?: string;
}

/**
 * Reads the API server URL and CA of a kubeconfig (YAML or JSON text, bytes, or base64 of either)
 * with `@kubernetes/client-node`'s own parser. Users (tokens, certificates, exec plugins) are
 * ignored and never echoed: errors say only that the kubeconfig is unusable.
 */
export function parseKubeconfigEndpoint(content: string | Uint8Array): KubeconfigEndpoint {
  let text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
  if (!/clusters\s*["']?\s*:/.test(text) && /^[A-Za-z0-9+/=\s]+$/.test(text)) {
    text = Buffer.from(text, 'base64').toString('utf8');
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch {
    throw new InputError('the kubeconfig is not valid YAML/JSON or lacks cluster names and servers');
  }
  const cluster = kc.getCurrentCluster() ?? kc.getClusters()[0];
  if (!cluster?.server) throw new InputError('the kubeconfig names no cluster server');
  return {
    server: cluster.server,
    ...(cluster.caData ? { caData: cluster.caData } : {}),
    ...(cluster.tlsServerName ? { tlsServerName: cluster.tlsServerName } : {}),
  };
}
