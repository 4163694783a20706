import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { Settings } from '../config/localSettings.js';

/**
 * The service's Azure identity: `DefaultAzureCredential` (environment, workload identity, managed
 * identity; developer tools locally), with `AZURE_CLIENT_ID` selecting a user-assigned managed
 * identity. Used for ARM and for the AKS Entra ID token.
 */
export function createAzureCredential(env: Settings = process.env): TokenCredential {
  const clientId = env.AZURE_CLIENT_ID?.trim();
  return new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
}
