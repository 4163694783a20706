import type http from 'node:http';
import type tls from 'node:tls';
import { HttpsProxyAgent, type HttpsProxyAgentOptions } from 'https-proxy-agent';

type ConnectOpts = Parameters<HttpsProxyAgent<string>['connect']>[1];

/**
 * An HTTP CONNECT tunnel whose endpoint TLS sessions verify like a direct connection.
 * `HttpsProxyAgent` applies its constructor's TLS options to the proxy connection only (it resets
 * `this.options`), so the endpoint's session would miss the CA and client certificate: this agent
 * adds `endpointTls` to every connection it opens through the tunnel. Used for Panorama
 * (`shared/panorama/proxyAgent.ts`) and the Kubernetes API (`shared/kubernetes/createKubeAgent.ts`).
 */
export class TlsTunnelAgent extends HttpsProxyAgent<string> {
  readonly #tls: tls.ConnectionOptions;

  constructor(proxy: string, endpointTls: tls.ConnectionOptions, options: HttpsProxyAgentOptions<string>) {
    super(proxy, options);
    this.#tls = endpointTls;
  }

  override connect(
    req: http.ClientRequest,
    opts: ConnectOpts,
  ): ReturnType<HttpsProxyAgent<string>['connect']> {
    return super.connect(req, { ...opts, ...this.#tls } as ConnectOpts);
  }
}
