import type http from 'node:http';
import type { PanoramaSimulatorState } from './PanoramaSimulatorState.js';
import type { PanoramaRequest } from './readPanoramaRequest.js';
import type { SimCall } from './startPanoramaSimulator.js';

/** Numbers a call, counts it in the stats and (when recording) keeps it; returns its record. */
export function recordPanoramaCall(
  state: PanoramaSimulatorState,
  req: http.IncomingMessage,
  request: PanoramaRequest,
): SimCall {
  const { type, target, vsys } = request;
  const call: SimCall = {
    seq: ++state.seq,
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    type,
    ...(target === undefined ? {} : { target }),
    ...(vsys === undefined ? {} : { vsys }),
    keyVia: request.keyVia,
    bytes: request.bytes,
    status: 0,
  };
  const { stats } = state;
  stats.calls += 1;
  stats.bytesIn += request.bytes;
  stats.byType[type] = (stats.byType[type] ?? 0) + 1;
  if (state.recordCalls) state.calls.push(call);
  return call;
}
