import type http from 'node:http';
import { KubeHttpError } from './KubeHttpError.js';
import type { KubernetesSimulatorState } from './KubernetesSimulatorState.js';
import { kubeStatusBody } from './kubeStatusBody.js';
import type { KubernetesFault } from './startKubernetesSimulator.js';

/** One request being answered: serve it normally, or send an answer. */
export interface KubeExchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  serve(): void;
  send(status: number, body: unknown, headers?: Record<string, string>): void;
}

const STATUS_FAULTS: Record<number, [string, string]> = {
  429: ['TooManyRequests', 'Too many requests, please try again later.'],
  500: ['InternalError', 'Internal error occurred: injected by the simulator'],
  502: ['InternalError', 'Internal error occurred: bad gateway'],
  503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
  504: ['Timeout', 'Timeout: request did not complete within the allowed duration'],
};

/** Answers a request the way `fault` says: reset, delayed, after expiring continue tokens, or an error `Status`. */
export function applyKubeFault(
  state: KubernetesSimulatorState,
  fault: KubernetesFault,
  exchange: KubeExchange,
): void {
  switch (fault.type) {
    case 'reset':
      exchange.req.socket.destroy();
      return;
    case 'latency': {
      const timer = setTimeout(() => {
        state.timers.delete(timer);
        if (!exchange.res.destroyed) exchange.serve();
      }, fault.ms);
      state.timers.add(timer);
      return;
    }
    case 'expireContinue':
      state.snapshots.clear();
      exchange.serve();
      return;
    case 'status':
      sendStatusFault(fault, exchange);
      return;
  }
}

function sendStatusFault(fault: Extract<KubernetesFault, { type: 'status' }>, exchange: KubeExchange): void {
  const [reason, message] = STATUS_FAULTS[fault.code] ?? ['InternalError', 'Internal error occurred'];
  const retryAfter = fault.retryAfterSeconds ?? (fault.code === 429 ? 1 : undefined);
  const details = retryAfter === undefined ? undefined : { retryAfterSeconds: retryAfter };
  exchange.send(
    fault.code,
    kubeStatusBody(new KubeHttpError(fault.code, reason, message, details)),
    retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) },
  );
}
