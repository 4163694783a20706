import { dispatchPanoramaCommand } from './dispatchPanoramaCommand.js';
import { errorAnswer, type SimAnswer } from './PanoramaModel.js';
import type { PanoramaSimulatorState } from './PanoramaSimulatorState.js';
import {
  INVALID_CREDENTIAL_BODY,
  MAINTENANCE_PAGE_BODY,
  SESSION_TIMED_OUT_BODY,
} from './panoramaResponseBodies.js';
import type { PanoramaRequest } from './readPanoramaRequest.js';
import type { SimCall, SimFault } from './startPanoramaSimulator.js';

/** An answer and its content type. */
export interface PanoramaReply {
  answer: SimAnswer;
  contentType: string;
}

const XML = 'application/xml; charset=UTF-8';
const HTML = 'text/html';

/**
 * What a call is answered (the connection faults `hang` and `drop` are the caller's): 404 off the
 * API path, the page or body of an answering fault, 413 for a body too large, else the command's answer.
 */
export function answerPanoramaCall(
  state: PanoramaSimulatorState,
  request: PanoramaRequest,
  call: SimCall,
  fault: SimFault | undefined,
): PanoramaReply {
  if (!request.isApi) {
    return { answer: { status: 404, body: '<html><body>Not Found</body></html>' }, contentType: HTML };
  }
  if (fault?.startsWith('http-')) {
    const status = Number(fault.slice(5));
    const body = `<html><head><title>${status}</title></head><body>${status} Error</body></html>`;
    return { answer: { status, body }, contentType: HTML };
  }
  if (fault === 'maintenance-page') {
    return { answer: { status: 200, body: MAINTENANCE_PAGE_BODY }, contentType: HTML };
  }
  if (fault === 'key-refused') return xml({ status: 403, body: INVALID_CREDENTIAL_BODY });
  if (fault === 'session-timeout') return xml({ status: 200, body: SESSION_TIMED_OUT_BODY });
  if (request.tooLarge) {
    return xml(errorAnswer(`Request exceeds the maximum size of ${state.maxRequestBytes} bytes`, 400, 413));
  }
  return xml(dispatchPanoramaCommand(state, request, call));
}

function xml(answer: SimAnswer): PanoramaReply {
  return { answer, contentType: XML };
}
