import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseEnv,
  describeRun,
  requireBuild,
  runCli,
  STACK_LINE,
  worldSecrets,
  worldSettings,
} from '../../helpers/cliKit.js';
import {
  internalService,
  type PipelineWorld,
  startPipelineWorld,
  type WorldCluster,
} from '../../helpers/pipelineWorld.js';

/**
 * An app setting that still holds `@Microsoft.KeyVault(...)` (the secret is missing, or the identity
 * may not read it) is refused by the compiled command line before anything is called: the reference
 * text never reaches Panorama as a key.
 */

const REFERENCE =
  '@Microsoft.KeyVault(SecretUri=https://kv-sync-test.vault.azure.net/secrets/panorama-api-key)';
const CLUSTERS: WorldCluster[] = [
  { name: 'aks-kv', services: [internalService('shop', 'checkout', ['10.9.0.4'], { app: 'web' })] },
];

describe('unresolved Key Vault reference', { timeout: 180_000 }, () => {
  let world: PipelineWorld;

  beforeAll(async () => {
    requireBuild();
    world = await startPipelineWorld({ clusters: CLUSTERS });
  });
  afterAll(async () => world?.stop());

  it('reconcile exits 2 naming PANORAMA_API_KEY and what to check, and Panorama sees no call', async () => {
    const env = baseEnv({ ...worldSettings(world, CLUSTERS), PANORAMA_API_KEY: REFERENCE });

    const r = await runCli(['reconcile'], { env, secrets: worldSecrets(world) });

    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toMatch(/^ {2}- PANORAMA_API_KEY: the Key Vault reference was not resolved/m);
    expect(r.stderr).toContain('"panorama-api-key" exists in the Key Vault "kv-sync-test"');
    expect(r.stderr).toContain('Key Vault Secrets User');
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(world.panorama.calls).toEqual([]);
  });

  it('a token setting that is an unresolved reference is refused the same way, before any cluster is read', async () => {
    const settings = worldSettings(world, CLUSTERS);
    const clusters = JSON.parse(settings.CLUSTERS ?? '[]') as Record<string, unknown>[];
    const withSetting = clusters.map((c) => ({
      ...c,
      auth: { type: 'token', tokenSetting: 'AKS_KV_TOKEN' },
    }));
    const env = baseEnv({
      ...settings,
      CLUSTERS: JSON.stringify(withSetting),
      AKS_KV_TOKEN: REFERENCE.replace('panorama-api-key', 'aks-kv-token'),
    });

    const r = await runCli(['reconcile'], { env, secrets: worldSecrets(world) });

    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toMatch(/^ {2}- AKS_KV_TOKEN: the Key Vault reference was not resolved/m);
    expect(r.stderr).toContain('"aks-kv-token"');
    expect(world.panorama.calls).toEqual([]);
  });
});
