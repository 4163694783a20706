import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isKeyVaultReference,
  keyVaultReferenceTarget,
  unresolvedKeyVaultReferences,
} from '../../../shared/config/keyVaultReferences.js';
import { loadConfig } from '../../../shared/config/loadConfig.js';
import { ConfigError } from '../../../shared/errors.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const REFERENCE = '@Microsoft.KeyVault(SecretUri=https://kv-abc123.vault.azure.net/secrets/panorama-api-key)';
const base: Record<string, string> = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  PANORAMA_URL: 'https://panorama.example.net',
  PANORAMA_API_KEY: 'key-123456',
  CLUSTERS: JSON.stringify([{ name: 'aks-prod-1', subscriptionId: SUB, resourceGroup: 'rg-prod' }]),
};
const TOKEN_CLUSTERS = JSON.stringify([
  {
    name: 'aks-edge',
    server: 'https://aks-edge.example.net',
    auth: { type: 'token', tokenSetting: 'AKS_EDGE_TOKEN' },
  },
]);

function problemsOf(settings: Record<string, string | undefined>): string[] {
  try {
    loadConfig(settings);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('unresolved Key Vault references', () => {
  it.each([
    { setting: 'PANORAMA_API_KEY', settings: { PANORAMA_API_KEY: REFERENCE } },
    {
      setting: 'PANORAMA_PASSWORD',
      settings: { PANORAMA_API_KEY: undefined, PANORAMA_USERNAME: 'svc-sync', PANORAMA_PASSWORD: REFERENCE },
    },
    {
      setting: 'PANORAMA_USERNAME',
      settings: { PANORAMA_API_KEY: undefined, PANORAMA_USERNAME: REFERENCE, PANORAMA_PASSWORD: 'pw-123456' },
    },
    { setting: 'AzureWebJobsStorage', settings: { AzureWebJobsStorage: REFERENCE } },
    { setting: 'HTTPS_PROXY', settings: { HTTPS_PROXY: REFERENCE } },
    { setting: 'AKS_EDGE_TOKEN', settings: { CLUSTERS: TOKEN_CLUSTERS, AKS_EDGE_TOKEN: REFERENCE } },
  ])(
    'refuses $setting when it still holds the reference text, naming it and what to check',
    ({ setting, settings }) => {
      const problems = problemsOf({ ...base, ...settings });

      const problem = problems.find((p) =>
        p.startsWith(`${setting}: the Key Vault reference was not resolved`),
      );
      expect(problem, problems.join('\n')).toBeDefined();
      expect(problem).toContain('"panorama-api-key" exists in the Key Vault "kv-abc123"');
      expect(problem).toContain('Key Vault Secrets User');
      expect(problem).toContain('restart the app');
      expect(problem).toContain('never sent anywhere');
    },
  );

  it('reads the vault and secret of both reference syntaxes', () => {
    expect(keyVaultReferenceTarget(REFERENCE)).toEqual({ vault: 'kv-abc123', secret: 'panorama-api-key' });
    expect(
      keyVaultReferenceTarget(
        '@Microsoft.KeyVault(SecretUri=https://kv-x.vault.azure.net/secrets/pw/0123456789abcdef0123456789abcdef)',
      ),
    ).toEqual({ vault: 'kv-x', secret: 'pw' });
    expect(keyVaultReferenceTarget('@Microsoft.KeyVault(VaultName=kv-y;SecretName=token-1)')).toEqual({
      vault: 'kv-y',
      secret: 'token-1',
    });
    expect(keyVaultReferenceTarget('@Microsoft.KeyVault(garbage)')).toEqual({});
  });

  it('leaves settings alone that are resolved, and ones the app does not read', () => {
    expect(problemsOf(base)).toEqual([]);
    expect(problemsOf({ ...base, SOME_OTHER_APP_SETTING: REFERENCE })).toEqual([]);
    expect(
      unresolvedKeyVaultReferences({ PANORAMA_API_KEY: 'LUFRPT1-@Microsoft.KeyVault(' }, [
        'PANORAMA_API_KEY',
      ]),
    ).toEqual([]);
  });

  it('flags exactly the values that begin with the reference prefix, in any case and after blanks', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('@Microsoft.KeyVault(', '@microsoft.keyvault(', '@MICROSOFT.KEYVAULT('),
        fc.constantFrom('', ' ', '\t'),
        fc.string(),
        (prefix, blank, rest) => {
          expect(isKeyVaultReference(`${blank}${prefix}${rest}`)).toBe(true);
          expect(
            unresolvedKeyVaultReferences({ PANORAMA_API_KEY: `${blank}${prefix}${rest}` }, [
              'PANORAMA_API_KEY',
            ]),
          ).toHaveLength(1);
        },
      ),
    );
    fc.assert(
      fc.property(fc.string(), (value) => {
        fc.pre(!value.trimStart().toLowerCase().startsWith('@microsoft.keyvault('));
        expect(isKeyVaultReference(value)).toBe(false);
      }),
    );
  });

  it('never puts the reference itself in the problem, only the vault and secret names', () => {
    const problems = problemsOf({ ...base, PANORAMA_API_KEY: REFERENCE });

    expect(problems.join('\n')).not.toContain('@Microsoft.KeyVault(');
  });

  it.each([
    ['PANORAMA_URL', { PANORAMA_URL: REFERENCE }],
    ['AzureWebJobsStorage', { AzureWebJobsStorage: REFERENCE }],
    ['CLUSTERS', { CLUSTERS: REFERENCE }],
    ['HTTPS_PROXY', { HTTPS_PROXY: REFERENCE }],
    ['https_proxy', { https_proxy: REFERENCE }],
  ])('%s: one problem, the reference, and no second problem echoing its text', (setting, settings) => {
    const problems = problemsOf({ ...base, ...settings });

    expect(problems.filter((p) => p.startsWith(`${setting}:`))).toEqual([
      expect.stringContaining(`${setting}: the Key Vault reference was not resolved`),
    ]);
    expect(problems.join('\n')).not.toContain('@Microsoft.KeyVault(');
  });
});
