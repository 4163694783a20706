import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzuriteServer, startAzurite } from '../../../host/azurite.js';
import type * as HostModule from '../../../host/startLocalHost.js';
import type * as LoggerModule from '../../../shared/logger.js';
import type * as RuntimeModule from '../../../shared/runtime/createRuntime.js';
import { expectNoSecrets, ROOT, requireBuild } from '../../helpers/cliKit.js';

/**
 * `/api/status` of the compiled functions on the local host when the app's settings are invalid:
 * the functions build their runtime from the settings themselves (no runtime installed), so status
 * answers what the Functions host would: 500 with every problem, never a secret.
 */

const API_KEY = 'pan-api-key-that-must-never-show-1234';
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

const dist = async <T>(path: string): Promise<T> =>
  (await import(pathToFileURL(join(ROOT, 'dist', path)).href)) as T;

describe('status with an invalid configuration (local host, dist/functions)', { timeout: 120_000 }, () => {
  let azurite: AzuriteServer;
  let host: HostModule.LocalHost;
  let runtime: typeof RuntimeModule;
  const envBefore = { ...process.env };
  const url = () => `${host.url}/api/status?code=${encodeURIComponent(host.functionKey)}`;

  beforeAll(async () => {
    requireBuild();
    azurite = await startAzurite();
    const { startLocalHost } = await dist<typeof HostModule>('host/startLocalHost.js');
    const logger = await dist<typeof LoggerModule>('shared/logger.js');
    runtime = await dist<typeof RuntimeModule>('shared/runtime/createRuntime.js');
    runtime.setRuntime(undefined);
    host = await startLocalHost({
      functionsDir: join(ROOT, 'dist', 'functions'),
      hostJsonPath: join(ROOT, 'host.json'),
      settings: {
        AzureWebJobsStorage: azurite.connectionString,
        PANORAMA_URL: 'https://panorama.invalid',
        PANORAMA_API_KEY: API_KEY,
        CLUSTERS: '[{"name": "aks-1",',
        SYNC_POLICY: 'sometimes',
        RECONCILE_SCHEDULE: '0 0 0 1 1 *',
      },
      port: 0,
      logger: logger.memoryLogger('info'),
      exportSettingsToEnv: true,
    });
  });

  afterAll(async () => {
    await host?.stop();
    runtime?.setRuntime(undefined);
    await azurite?.stop();
    for (const k of Object.keys(process.env)) if (!(k in envBefore)) delete process.env[k];
    Object.assign(process.env, envBefore);
  });

  it('answers 500 with every problem as JSON to an API client', async () => {
    const res = await fetch(url());
    expect(res.status).toBe(500);
    const body = await res.text();
    expectNoSecrets({ 'GET /api/status': body }, [API_KEY]);
    const json = JSON.parse(body) as { error: string; problems: string[] };
    expect(json.error).toBe('Invalid configuration');
    expect(json.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^CLUSTERS: not valid JSON/),
        expect.stringMatching(/^SYNC_POLICY: /),
      ]),
    );
  });

  it('shows the same problems on the page to a browser, and refuses the DAG tester the same way', async () => {
    const res = await fetch(url(), { headers: { accept: BROWSER } });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    const page = await res.text();
    expectNoSecrets({ 'status page': page }, [API_KEY, host.functionKey]);
    expect(page).toContain('The configuration is invalid');
    expect(page).toMatch(/<li>CLUSTERS: not valid JSON/);
    const post = await fetch(url(), {
      method: 'POST',
      headers: { accept: BROWSER, 'content-type': 'application/x-www-form-urlencoded' },
      body: "dag='a'",
    });
    expect(post.status).toBe(500);
    expect(await post.text()).toMatch(/<li>SYNC_POLICY: /);
  });
});
