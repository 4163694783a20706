import { errorAnswer, type SimAnswer, xmlResponse } from './PanoramaModel.js';
import type { PanoramaSimulatorState } from './PanoramaSimulatorState.js';
import { answerHaCall } from './panoramaHa.js';
import { INVALID_CREDENTIAL_BODY } from './panoramaResponseBodies.js';
import type { PanoramaRequest } from './readPanoramaRequest.js';
import type { SimCall } from './startPanoramaSimulator.js';

/**
 * Runs an API call on the model by its `type`: `keygen` (checks the credentials), then, with a
 * valid key, `user-id` and `op`; notes the entries or command on `call`.
 */
export function dispatchPanoramaCommand(
  state: PanoramaSimulatorState,
  request: PanoramaRequest,
  call: SimCall,
): SimAnswer {
  const { params, type, target, vsys } = request;
  if (type === 'keygen') {
    return params.get('user') === state.username && params.get('password') === state.password
      ? { status: 200, body: xmlResponse('success', { result: { key: state.apiKey } }) }
      : { status: 403, body: INVALID_CREDENTIAL_BODY };
  }
  if (request.presented !== state.apiKey) return { status: 403, body: INVALID_CREDENTIAL_BODY };
  const ha = answerHaCall(state.ha, request, Date.now());
  if (ha) {
    if (type === 'op') call.cmd = params.get('cmd') ?? '';
    return ha;
  }
  if (type === 'user-id') {
    const { answer, request: uid } = state.model.userId(params.get('cmd') ?? undefined, target, vsys);
    if (uid) {
      call.register = uid.register;
      call.unregister = uid.unregister;
    }
    return answer;
  }
  if (type === 'op') {
    call.cmd = params.get('cmd') ?? '';
    return state.model.op(params.get('cmd') ?? undefined, target, vsys);
  }
  return errorAnswer(`Illegal value for parameter "type" [${type}].`, 400, 400);
}
