import { ArmHttpError } from './ArmHttpError.js';
import type { ArmFault } from './startArmSimulator.js';

/** The ARM error an injected fault answers: 429 `TooManyRequests` (`Retry-After` 1 s by default) or `InternalServerError`. */
export function armFaultError(fault: ArmFault): ArmHttpError {
  const throttled = fault.status === 429;
  const retryAfter = fault.retryAfterSeconds ?? (throttled ? 1 : undefined);
  return new ArmHttpError(
    fault.status,
    throttled ? 'TooManyRequests' : 'InternalServerError',
    throttled ? 'The request is being throttled.' : 'An internal server error occurred. Please retry later.',
    retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) },
  );
}
