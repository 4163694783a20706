import { ArmHttpError } from './ArmHttpError.js';

const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

/**
 * Returns the request's `api-version`, or throws ARM's 400: `MissingApiVersionParameter` without
 * one, `NoRegisteredProviderFound` when it is not in `accepted` (default: any `YYYY-MM-DD[-preview]`).
 */
export function checkArmApiVersion(
  apiVersion: string | null,
  accepted: readonly string[] | undefined,
): string {
  if (!apiVersion) {
    throw new ArmHttpError(
      400,
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.',
    );
  }
  const known = accepted ? accepted.includes(apiVersion) : API_VERSION.test(apiVersion);
  if (!known) {
    throw new ArmHttpError(
      400,
      'NoRegisteredProviderFound',
      `No registered resource provider found for location 'westeurope' and API version '${apiVersion}' for type 'managedClusters'. The supported api-versions are '${(accepted ?? ['2026-04-01']).join(', ')}'.`,
    );
  }
  return apiVersion;
}
