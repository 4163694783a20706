import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliSettings, DEMO_SETTINGS_FILE, readDemoSettings } from '../../../shared/config/localSettings.js';
import { ConfigError } from '../../../shared/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dirWith(files: { demo?: unknown; local?: Record<string, string> }): string {
  const dir = mkdtempSync(join(tmpdir(), 'aps-cli-settings-'));
  dirs.push(dir);
  if (files.demo !== undefined) writeFileSync(join(dir, DEMO_SETTINGS_FILE), JSON.stringify(files.demo));
  if (files.local) writeFileSync(join(dir, 'local.settings.json'), JSON.stringify({ Values: files.local }));
  return dir;
}

const DEMO_VALUES = {
  PANORAMA_URL: 'http://127.0.0.1:1',
  CLUSTERS: '[]',
  AzureWebJobsStorage: 'demo-storage',
};
const running = { pid: process.pid, hostUrl: 'http://127.0.0.1:2', functionKey: 'k', Values: DEMO_VALUES };

describe('cliSettings: environment > local.settings.json > the running demo file', () => {
  it('uses the running demo file under the environment and local.settings.json, and says so', () => {
    const dir = dirWith({
      demo: running,
      local: { LOG_LEVEL: 'debug', AzureWebJobsStorage: 'local-storage' },
    });
    const { settings, note } = cliSettings({ MAX_TAGS_PER_IP: '8' }, dir);
    expect(settings).toMatchObject({
      PANORAMA_URL: 'http://127.0.0.1:1',
      AzureWebJobsStorage: 'local-storage',
      LOG_LEVEL: 'debug',
      MAX_TAGS_PER_IP: '8',
    });
    expect(note).toBe(`using the running demo (pid ${process.pid}, ${DEMO_SETTINGS_FILE})`);
  });

  it.each([
    ['the environment', { CLUSTERS: '[{"name":"real"}]' }, undefined],
    ['local.settings.json', {}, { PANORAMA_URL: 'https://panorama.example.net' }],
    ['DISCOVERY_TAG', { DISCOVERY_TAG: 'aks-sync' }, undefined],
  ])('ignores the demo file when %s configures the service, and says so', (_name, env, local) => {
    const dir = dirWith({ demo: running, ...(local ? { local } : {}) });
    const { settings, note } = cliSettings(env, dir);
    expect(settings.AzureWebJobsStorage).toBeUndefined();
    expect(note).toBe(
      `not using the running demo (pid ${process.pid}, ${DEMO_SETTINGS_FILE}): the environment or local.settings.json configures the app (PANORAMA_URL, CLUSTERS or DISCOVERY_TAG)`,
    );
  });

  it('ignores a file left by a demo that no longer runs, and says so', () => {
    const dir = dirWith({ demo: { ...running, pid: 2 ** 22 + 12_345 } });
    const { settings, note } = cliSettings({}, dir);
    expect(settings.PANORAMA_URL).toBeUndefined();
    expect(note).toBe(
      `${DEMO_SETTINGS_FILE} was left by a demo (pid ${2 ** 22 + 12_345}) that is no longer running; ignoring it`,
    );
  });

  it('has nothing to say without a demo file', () => {
    expect(cliSettings({ A: '1' }, dirWith({}))).toEqual({ settings: { A: '1' } });
  });

  it.each([
    ['not JSON', '{"pid": 1,', /not valid JSON/],
    ['no pid', { Values: {} }, /not a demo settings file/],
    ['no Values', { pid: process.pid }, /not a demo settings file/],
  ])('refuses a demo file with %s', (_name, demo, message) => {
    const dir = dirWith({});
    writeFileSync(join(dir, DEMO_SETTINGS_FILE), typeof demo === 'string' ? demo : JSON.stringify(demo));
    expect(() => readDemoSettings(dir)).toThrow(ConfigError);
    expect(() => readDemoSettings(dir)).toThrow(message);
  });
});
