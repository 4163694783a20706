import { xmlResponse } from './PanoramaModel.js';

/** The exact body PAN-OS sends with HTTP 403 for bad credentials or a bad key (97 bytes). */
export const INVALID_CREDENTIAL_BODY =
  "<response status = 'error' code = '403'><result><msg>Invalid Credential</msg></result></response>";

/** The body the simulator sends for {@link SimFault} `session-timeout`. */
export const SESSION_TIMED_OUT_BODY = xmlResponse('error', { msg: { line: 'Session timed out' } }, 22);

/** The HTML page the simulator sends with HTTP 200 for {@link SimFault} `maintenance-page`. */
export const MAINTENANCE_PAGE_BODY =
  '<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>Panorama is undergoing maintenance</h1><p>Please try again later.</p></body></html>';
