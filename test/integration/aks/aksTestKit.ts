import type { AccessToken, TokenCredential } from '@azure/identity';
import type { ClusterConfig } from '../../../shared/config/loadConfig.js';
import { makeService } from '../../../sim/kubernetes/makeService.js';

export const SUB_A = '11111111-1111-1111-1111-111111111111';
export const SUB_B = '22222222-2222-2222-2222-222222222222';

/** A TokenCredential returning fixed tokens per scope and recording the scopes asked for. */
export function fakeCredential(
  tokens: { arm: string; aks: string },
  expiresInMs = 3_600_000,
  now: () => number = Date.now,
): TokenCredential & { scopes: string[]; aksToken: string } {
  const cred = {
    scopes: [] as string[],
    aksToken: tokens.aks,
    async getToken(scopes: string | string[]): Promise<AccessToken> {
      const scope = Array.isArray(scopes) ? (scopes[0] ?? '') : scopes;
      cred.scopes.push(scope);
      const token = scope.startsWith('6dae42f8-4368-4678-94ff-3960e28e3630') ? cred.aksToken : tokens.arm;
      return { token, expiresOnTimestamp: now() + expiresInMs };
    },
  };
  return cred;
}

/** A delay function that records the requested delays and does not sleep. */
export function recordingDelay(): ((ms: number) => Promise<void>) & { delays: number[] } {
  const delays: number[] = [];
  const fn = async (ms: number) => {
    delays.push(ms);
  };
  return Object.assign(fn, { delays });
}

/** `count` internal LoadBalancer Services spread over a few namespaces, each with its own IP. */
export function manyServices(count: number) {
  return Array.from({ length: count }, (_, i) =>
    makeService({
      name: `svc-${String(i).padStart(5, '0')}`,
      namespace: `ns-${i % 7}`,
      labels: { app: `app-${i % 13}` },
      ips: [`10.${Math.floor(i / 65_536) + 10}.${Math.floor(i / 256) % 256}.${i % 256}`],
    }),
  );
}

/** A token-auth cluster entry for a simulator. */
export function tokenCluster(
  name: string,
  sim: { url: string; caData?: string | undefined; token: string },
): ClusterConfig {
  return {
    name,
    server: sim.url,
    ...(sim.caData ? { caData: sim.caData } : {}),
    auth: { type: 'token', token: sim.token },
    labelSelectors: [],
    deviceGroups: [],
  };
}
