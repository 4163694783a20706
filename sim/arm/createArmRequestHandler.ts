import type http from 'node:http';
import { ArmHttpError } from './ArmHttpError.js';
import type { ArmSimulatorState } from './ArmSimulatorState.js';
import { armFaultError } from './armFaultError.js';
import { checkArmBearer } from './checkArmBearer.js';
import { routeArmRequest } from './routeArmRequest.js';
import { sendArmJson } from './sendArmJson.js';
import type { RecordedArmRequest } from './startArmSimulator.js';

/**
 * The simulator's request listener: records the request, and once its body has been read checks the
 * bearer token, applies a queued fault, or routes it; any error becomes an ARM `{ error }` answer.
 */
export function createArmRequestHandler(state: ArmSimulatorState): http.RequestListener {
  return (req, res) => {
    const parsed = new URL(req.url ?? '/', 'https://simulator');
    const record: RecordedArmRequest = {
      method: req.method ?? 'GET',
      path: parsed.pathname,
      apiVersion: parsed.searchParams.get('api-version') ?? undefined,
      status: 0,
    };
    state.requests.push(record);
    req.resume();
    req.on('end', () => answer(state, req, res, record, parsed));
  };
}

function answer(
  state: ArmSimulatorState,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  record: RecordedArmRequest,
  parsed: URL,
): void {
  try {
    checkArmBearer(req.headers.authorization, state.token, state.tenantId);
    const path = parsed.pathname.toLowerCase();
    const fault = state.faults.take((f) => !f.pathContains || path.includes(f.pathContains.toLowerCase()));
    if (fault) throw armFaultError(fault);
    sendArmJson(
      res,
      record,
      200,
      routeArmRequest(state, record.method, parsed.pathname, parsed.searchParams),
    );
  } catch (err) {
    if (err instanceof ArmHttpError) {
      sendArmJson(res, record, err.status, { error: { code: err.code, message: err.message } }, err.headers);
    } else {
      sendArmJson(res, record, 500, { error: { code: 'InternalServerError', message: String(err) } });
    }
  }
}
