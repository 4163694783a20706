import type http from 'node:http';
import { answerPanoramaCall } from './answerPanoramaCall.js';
import type { PanoramaSimulatorState } from './PanoramaSimulatorState.js';
import { type PanoramaRequest, readPanoramaRequest } from './readPanoramaRequest.js';
import { recordPanoramaCall } from './recordPanoramaCall.js';
import { sendPanoramaAnswer } from './sendPanoramaAnswer.js';
import type { SimCall } from './startPanoramaSimulator.js';
import { trackInFlight } from './trackInFlight.js';

/**
 * The simulator's request listener: reads and records the call, counts it in flight, waits the
 * standing latency, applies a fault, and answers; an unexpected error answers 500.
 */
export function createPanoramaListener(state: PanoramaSimulatorState): http.RequestListener {
  return (req, res) => {
    handleCall(state, req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      } else res.destroy();
    });
  };
}

async function handleCall(
  state: PanoramaSimulatorState,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const request = await readPanoramaRequest(req, state.maxRequestBytes);
  const call = recordPanoramaCall(state, req, request);
  trackInFlight(state.stats, request.target ?? '', req, res);
  await respond(state, { req, res, call, request });
}

async function respond(
  state: PanoramaSimulatorState,
  exchange: { req: http.IncomingMessage; res: http.ServerResponse; call: SimCall; request: PanoramaRequest },
): Promise<void> {
  const { req, res, call, request } = exchange;
  const latencyMs = state.faults.latencyMs;
  if (latencyMs) await new Promise((r) => setTimeout(r, latencyMs));
  const fault = request.isApi ? state.faults.pick(request.type, request.target) : undefined;
  if (fault) call.fault = fault;
  if (fault === 'hang') return;
  if (fault === 'drop') {
    req.socket.destroy();
    return;
  }
  const reply = answerPanoramaCall(state, request, call, fault);
  if (fault === 'drop-after-apply') {
    req.socket.destroy();
    return;
  }
  sendPanoramaAnswer(state.stats, res, call, reply);
}
