import type { KubeExchange } from './applyKubeFault.js';
import { KubeHttpError } from './KubeHttpError.js';
import type { KubernetesSimulatorState } from './KubernetesSimulatorState.js';
import { kubeStatusBody } from './kubeStatusBody.js';
import { readKubeRequestBody } from './readKubeRequestBody.js';
import { routeKubeWrite } from './routeKubeWrite.js';

/** Reads the body of a write, answers it with {@link routeKubeWrite}, errors as `Status` bodies. */
export function serveKubeWrite(
  state: KubernetesSimulatorState,
  method: string,
  url: URL,
  exchange: KubeExchange,
): void {
  readKubeRequestBody(exchange.req)
    .then((body) => {
      const answer = routeKubeWrite(state, method, url.pathname, body);
      exchange.send(answer.status, answer.body);
    })
    .catch((err: unknown) => {
      const kubeErr =
        err instanceof KubeHttpError
          ? err
          : new KubeHttpError(500, 'InternalError', `Internal error occurred: ${String(err)}`);
      if (!exchange.res.headersSent) exchange.send(kubeErr.code, kubeStatusBody(kubeErr));
    });
}
