import { tokensEqual } from '../tokensEqual.js';
import { ArmHttpError } from './ArmHttpError.js';

/** Throws ARM's 401 (with `WWW-Authenticate`) unless `authorization` is `Bearer <token>`. */
export function checkArmBearer(authorization: string | undefined, token: string, tenantId: string): void {
  const authorizationUri = `https://login.microsoftonline.com/${tenantId}`;
  if (!authorization) {
    throw new ArmHttpError(
      401,
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is missing.",
      {
        'WWW-Authenticate': `Bearer authorization_uri="${authorizationUri}", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`,
      },
    );
  }
  const presented = authorization.startsWith('Bearer ') ? authorization.slice('Bearer '.length).trim() : '';
  if (!tokensEqual(presented, token)) {
    throw new ArmHttpError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', {
      'WWW-Authenticate': `Bearer authorization_uri="${authorizationUri}", error="invalid_token", error_description="The access token is invalid."`,
    });
  }
}
