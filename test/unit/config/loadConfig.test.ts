import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkNcrontab, checkServiceUrl, loadConfig } from '../../../shared/config/loadConfig.js';
import { effectiveSettings, readLocalSettings } from '../../../shared/config/localSettings.js';
import { ConfigError } from '../../../shared/errors.js';
import { redact } from '../../../shared/logger.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const base = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  PANORAMA_URL: 'https://panorama.example.net',
  PANORAMA_API_KEY: 'key-123456',
  CLUSTERS: JSON.stringify([
    {
      name: 'aks-prod-1',
      subscriptionId: SUB,
      resourceGroup: 'rg-prod',
      nodeResourceGroup: 'MC_rg-prod_aks-prod-1_westeurope',
    },
  ]),
};

function problemsOf(settings: Record<string, string | undefined>): string[] {
  try {
    loadConfig(settings);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('parses a minimal valid configuration with defaults', () => {
    const config = loadConfig(base);
    expect(config.panorama).toMatchObject({
      url: 'https://panorama.example.net',
      chunkSize: 1000,
      concurrency: 4,
      timeoutMs: 30000,
    });
    expect(config.reconcileSchedule).toBe('0 */5 * * * *');
    expect(config.clusters).toHaveLength(1);
    expect(config.clusters[0]).toMatchObject({
      name: 'aks-prod-1',
      auth: { type: 'azureAd' },
      deviceGroups: [],
      labelSelectors: [],
      resourceId: `/subscriptions/${SUB}/resourceGroups/rg-prod/providers/Microsoft.ContainerService/managedClusters/aks-prod-1`,
    });
    expect(config.storage).toEqual({
      kind: 'connectionString',
      connectionString: 'UseDevelopmentStorage=true',
    });
  });

  it('reports every bad setting in one error', () => {
    const problems = problemsOf({
      PANORAMA_URL: 'ftp://panorama',
      PANORAMA_CHUNK_SIZE: 'lots',
      RECONCILE_SCHEDULE: '*/5 * * * *',
      CLUSTERS: '[{"name": "bad name!"}]',
    });
    const joined = problems.join('\n');
    expect(joined).toContain('AzureWebJobsStorage');
    expect(joined).toContain('PANORAMA_URL');
    expect(joined).toContain('PANORAMA_API_KEY');
    expect(joined).toContain('PANORAMA_CHUNK_SIZE');
    expect(joined).toContain('RECONCILE_SCHEDULE');
    expect(joined).toContain('CLUSTERS[0]');
    expect(problems.length).toBeGreaterThanOrEqual(6);
  });

  it.each([
    [
      'http for a public host',
      { PANORAMA_URL: 'http://panorama.example.net' },
      'PANORAMA_URL: http:// is only allowed for loopback',
    ],
    [
      'credentials in the URL',
      { PANORAMA_URL: 'https://admin:pw@panorama.example.net' },
      'must not contain credentials',
    ],
    ['username without password', { PANORAMA_API_KEY: '', PANORAMA_USERNAME: 'admin' }, 'PANORAMA_API_KEY'],
    ['CLUSTERS not JSON', { CLUSTERS: '[{' }, 'CLUSTERS: not valid JSON'],
    ['CLUSTERS not an array', { CLUSTERS: '{}' }, 'CLUSTERS: expected a JSON array'],
    [
      'token auth without server',
      { CLUSTERS: '[{"name":"a","auth":{"type":"token","token":"t"}}]' },
      'server: required with auth type "token"',
    ],
    [
      'azureAd without ARM coordinates',
      { CLUSTERS: '[{"name":"a"}]' },
      'needs "subscriptionId" and "resourceGroup"',
    ],
    [
      'unknown cluster field',
      { CLUSTERS: `[{"name":"a","subscriptionId":"${SUB}","resourceGroup":"r","colour":"red"}]` },
      'colour',
    ],
    ['vsys', { PANORAMA_VSYS: 'shared' }, 'PANORAMA_VSYS'],
    ['CA not PEM', { PANORAMA_CA_CERT: 'abc' }, 'PANORAMA_CA_CERT'],
    ['discovery half set', { DISCOVERY_TAG: 'panorama' }, 'DISCOVERY_SUBSCRIPTIONS/DISCOVERY_TAG'],
    [
      'discovery bad subscription',
      { DISCOVERY_TAG: 'p', DISCOVERY_SUBSCRIPTIONS: 'nope' },
      '"nope" is not a subscription GUID',
    ],
    [
      'tokenSetting not set',
      { CLUSTERS: '[{"name":"a","server":"https://k","auth":{"type":"token","tokenSetting":"AKS_TOKEN"}}]' },
      'AKS_TOKEN is not set',
    ],
  ])('rejects %s', (_name, override, expected) => {
    expect(problemsOf({ ...base, ...override }).join('\n')).toContain(expected);
  });

  it('rejects two clusters with the same name and names both resource IDs', () => {
    const other = '00000000-0000-0000-0000-000000000002';
    const problems = problemsOf({
      ...base,
      CLUSTERS: JSON.stringify([
        { name: 'aks-prod-1', subscriptionId: SUB, resourceGroup: 'rg-a' },
        { name: 'AKS-PROD-1', subscriptionId: other, resourceGroup: 'rg-b' },
      ]),
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`/subscriptions/${SUB}/resourceGroups/rg-a/`);
    expect(problems[0]).toContain(`/subscriptions/${other}/resourceGroups/rg-b/`);
  });

  it('names an invalid label selector', () => {
    const problems = problemsOf({
      ...base,
      CLUSTERS: JSON.stringify([
        {
          name: 'a',
          subscriptionId: SUB,
          resourceGroup: 'r',
          labelSelectors: [{ name: 'web', selector: 'app in (web' }],
        },
      ]),
    });
    expect(problems.join('\n')).toContain('labelSelectors "web": invalid selector "app in (web"');
  });

  it('resolves a token from another app setting and masks it in logs', () => {
    const config = loadConfig({
      ...base,
      AKS_TOKEN: 'sa-token-abcdef',
      CLUSTERS:
        '[{"name":"a","server":"https://10.0.0.1:443","auth":{"type":"token","tokenSetting":"AKS_TOKEN"}}]',
    });
    expect(config.clusters[0]?.auth).toEqual({ type: 'token', token: 'sa-token-abcdef' });
    expect(redact('token sa-token-abcdef and key key-123456')).toBe('token *** and key ***');
  });

  it('accepts identity-based storage settings', () => {
    const { AzureWebJobsStorage: _omit, ...rest } = base;
    const config = loadConfig({
      ...rest,
      AzureWebJobsStorage__accountName: 'stsync',
      AzureWebJobsStorage__clientId: 'cid',
    });
    expect(config.storage).toEqual({
      kind: 'identity',
      queueServiceUri: 'https://stsync.queue.core.windows.net',
      tableServiceUri: 'https://stsync.table.core.windows.net',
      clientId: 'cid',
    });
  });
});

describe('checkServiceUrl', () => {
  it.each([
    ['https://p.example.net', undefined],
    ['http://127.0.0.1:8443', undefined],
    ['http://localhost', undefined],
    ['http://[::1]:80', undefined],
    ['http://10.0.0.5', 'X: http:// is only allowed for loopback hosts; use https://'],
    ['http://[::ffff:127.0.0.1]:80', 'X: http:// is only allowed for loopback hosts; use https://'],
    ['http://[::ffff:7f00:1]', 'X: http:// is only allowed for loopback hosts; use https://'],
    ['http://[0:0:0:0:0:ffff:7f00:1]', 'X: http:// is only allowed for loopback hosts; use https://'],
    ['http://127.0.0.1.nip.io', 'X: http:// is only allowed for loopback hosts; use https://'],
    ['https://u:p@p.example.net', 'X: must not contain credentials'],
    ['not a url', 'X: not a URL ("not a url")'],
  ])('%s', (url, expected) => {
    expect(checkServiceUrl('X', url)).toBe(expected);
  });
});

describe('checkNcrontab', () => {
  it.each([
    ['0 */5 * * * *', true],
    ['*/30 * * * * *', true],
    ['0 0 9-17 * * MON-FRI', true],
    ['*/5 * * * *', false],
    ['0 */5 * * * * *', false],
    ['0 ? * * * *', false],
  ])('%s valid=%s', (expr, valid) => {
    expect(checkNcrontab(expr) === undefined).toBe(valid);
  });
});

describe('local.settings.json', () => {
  it('reads Values and lets the environment win', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aps-'));
    writeFileSync(
      join(dir, 'local.settings.json'),
      JSON.stringify({ IsEncrypted: false, Values: { A: 'file', B: 'file' } }),
    );
    expect(readLocalSettings(dir)).toEqual({ A: 'file', B: 'file' });
    expect(effectiveSettings({ B: 'env' }, dir)).toMatchObject({ A: 'file', B: 'env' });
  });

  it('reports a broken file clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aps-'));
    writeFileSync(join(dir, 'local.settings.json'), '{ nope');
    expect(() => readLocalSettings(dir)).toThrow(/local.settings.json: not valid JSON/);
  });

  it('is optional', () => {
    expect(readLocalSettings(mkdtempSync(join(tmpdir(), 'aps-')))).toEqual({});
  });
});

describe('loadConfig: tag budget, label filters, namespace tags', () => {
  const entry = { name: 'aks-prod-1', subscriptionId: SUB, resourceGroup: 'rg-prod' };
  const withCluster = (extra: Record<string, unknown>, settings: Record<string, string> = {}) => ({
    ...base,
    ...settings,
    CLUSTERS: JSON.stringify([{ ...entry, ...extra }]),
  });

  it('defaults to a budget of 32 per IP, every label and no namespace tags', () => {
    const config = loadConfig(base);
    expect(config.maxTagsPerIp).toBe(32);
    expect(config.clusters[0]).toMatchObject({ maxTagsPerIp: 32, namespaceTags: false });
    expect(config.clusters[0]).not.toHaveProperty('labelTags');
  });

  it('gives clusters MAX_TAGS_PER_IP unless their entry sets maxTagsPerIp', () => {
    const config = loadConfig({
      ...base,
      MAX_TAGS_PER_IP: '16',
      CLUSTERS: JSON.stringify([entry, { ...entry, name: 'aks-2', resourceGroup: 'rg-2', maxTagsPerIp: 8 }]),
    });
    expect(config.maxTagsPerIp).toBe(16);
    expect(config.clusters.map((c) => c.maxTagsPerIp)).toEqual([16, 8]);
  });

  it('reads labelTags and namespaceTags', () => {
    const labelTags = { include: ['app', 'app.kubernetes.io/*'], exclude: ['app.kubernetes.io/version'] };
    const config = loadConfig(withCluster({ labelTags, namespaceTags: true }));
    expect(config.clusters[0]).toMatchObject({ labelTags, namespaceTags: true });
  });

  it.each([
    ['0', 'MAX_TAGS_PER_IP: expected an integer from 1 to 32, got "0"'],
    ['33', 'MAX_TAGS_PER_IP: expected an integer from 1 to 32, got "33"'],
    ['1.5', 'MAX_TAGS_PER_IP: expected an integer from 1 to 32, got "1.5"'],
    ['lots', 'MAX_TAGS_PER_IP: expected an integer from 1 to 32, got "lots"'],
  ])('rejects MAX_TAGS_PER_IP=%j', (value, problem) => {
    expect(problemsOf({ ...base, MAX_TAGS_PER_IP: value })).toEqual([problem]);
  });

  const BUDGET = 'expected an integer from 1 to 32 (PAN-OS holds at most 32 tags per IP)';
  it.each<[string, Record<string, unknown>, string]>([
    ['a budget of 0', { maxTagsPerIp: 0 }, `CLUSTERS[0] (aks-prod-1).maxTagsPerIp: ${BUDGET}`],
    ['a budget of 33', { maxTagsPerIp: 33 }, `CLUSTERS[0] (aks-prod-1).maxTagsPerIp: ${BUDGET}`],
    ['a fractional budget', { maxTagsPerIp: 2.5 }, `CLUSTERS[0] (aks-prod-1).maxTagsPerIp: ${BUDGET}`],
    ['a budget as a string', { maxTagsPerIp: '16' }, `CLUSTERS[0] (aks-prod-1).maxTagsPerIp: ${BUDGET}`],
    [
      'an empty glob',
      { labelTags: { include: ['app', ''] } },
      'CLUSTERS[0] (aks-prod-1).labelTags.include.1: glob "" is empty; expected a glob of letters, digits, "-", "_", ".", "/" (the characters of label keys) and "*" (any run of characters)',
    ],
    [
      'a glob with a space',
      { labelTags: { exclude: ['helm.sh/chart app'] } },
      'CLUSTERS[0] (aks-prod-1).labelTags.exclude.0: glob "helm.sh/chart app" contains " ", which no label key holds',
    ],
    [
      'a glob that is not a string',
      { labelTags: { exclude: [7] } },
      'CLUSTERS[0] (aks-prod-1).labelTags.exclude.0:',
    ],
    [
      'a misspelt labelTags field',
      { labelTags: { includes: ['app'] } },
      'CLUSTERS[0] (aks-prod-1).labelTags: ',
    ],
    ['labelTags as an array', { labelTags: ['app'] }, 'CLUSTERS[0] (aks-prod-1).labelTags: '],
    ['namespaceTags as a string', { namespaceTags: 'yes' }, 'CLUSTERS[0] (aks-prod-1).namespaceTags: '],
    [
      'an empty selector',
      { labelSelectors: [{ name: 'all', selector: '' }] },
      'CLUSTERS[0] (aks-prod-1).labelSelectors "all": the selector "" is empty and would match every Service; give at least one requirement, e.g. "app=web"',
    ],
    [
      'a blank selector',
      { labelSelectors: [{ name: 'all', selector: '  ' }] },
      'CLUSTERS[0] (aks-prod-1).labelSelectors "all": the selector "  " is empty and would match every Service',
    ],
    [
      'an empty selector in an entry with another problem',
      { colour: 'red', labelSelectors: [{ name: 'all', selector: '' }] },
      'CLUSTERS[0] (aks-prod-1).labelSelectors "all": the selector "" is empty',
    ],
    [
      'a > selector with a non-integer',
      { labelSelectors: [{ name: 'big', selector: 'replicas>many' }] },
      'CLUSTERS[0] (aks-prod-1).labelSelectors "big": invalid selector "replicas>many": the value of \\"replicas>\\" must be a 64-bit decimal integer',
    ],
  ])('rejects %s, naming the cluster and the entry', (_name, extra, problem) => {
    expect(problemsOf(withCluster(extra)).join('\n')).toContain(problem);
  });

  it('accepts > and < selectors', () => {
    const config = loadConfig(
      withCluster({ labelSelectors: [{ name: 'mid', selector: 'replicas>3,replicas<10' }] }),
    );
    expect(config.clusters[0]?.labelSelectors[0]?.selector.requirements.map((r) => r.operator)).toEqual([
      '>',
      '<',
    ]);
  });
});
