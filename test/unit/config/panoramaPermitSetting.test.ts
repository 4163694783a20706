import { describe, expect, it } from 'vitest';
import { KNOWN_SETTINGS, loadConfig } from '../../../shared/config/loadConfig.js';
import { defaultPermitSeconds, panoramaPermitSeconds } from '../../../shared/config/panoramaPermitSetting.js';
import { ConfigError } from '../../../shared/errors.js';
import { silentLogger } from '../../../shared/logger.js';
import { SharedCallLimit } from '../../../shared/panorama/SharedCallLimit.js';
import { createCallPermits } from '../../../shared/runtime/createCallPermits.js';
import { createStorageClients } from '../../../shared/runtime/storageClients.js';

const base = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  PANORAMA_URL: 'https://panorama.example.net',
  PANORAMA_API_KEY: 'key-123456',
  CLUSTERS: JSON.stringify([
    { name: 'aks-1', server: 'https://aks-1.example.net', auth: { type: 'token', token: 't' } },
  ]),
};

describe('PANORAMA_PERMIT_SECONDS', () => {
  it.each([
    { raw: undefined, timeoutMs: 30_000, want: 90, problem: false },
    { raw: '', timeoutMs: 30_000, want: 90, problem: false },
    { raw: undefined, timeoutMs: 5_000, want: 40, problem: false },
    { raw: undefined, timeoutMs: 1_500, want: 33, problem: false },
    { raw: '0', timeoutMs: 30_000, want: 0, problem: false },
    { raw: '31', timeoutMs: 30_000, want: 31, problem: false },
    { raw: '30', timeoutMs: 30_000, want: 90, problem: true },
    { raw: '3600', timeoutMs: 30_000, want: 3600, problem: false },
    { raw: '3601', timeoutMs: 30_000, want: 90, problem: true },
    { raw: '-1', timeoutMs: 30_000, want: 90, problem: true },
    { raw: '1.5', timeoutMs: 1_000, want: 32, problem: true },
    { raw: 'off', timeoutMs: 30_000, want: 90, problem: true },
  ])(
    '"$raw" with a $timeoutMs ms timeout gives $want (problem: $problem)',
    ({ raw, timeoutMs, want, problem }) => {
      const problems: string[] = [];
      expect(panoramaPermitSeconds({ PANORAMA_PERMIT_SECONDS: raw }, timeoutMs, problems)).toBe(want);
      expect(problems.length > 0).toBe(problem);
      if (problem) expect(problems[0]).toMatch(/^PANORAMA_PERMIT_SECONDS: expected 0 \(no limit shared/);
    },
  );

  it('defaults to twice the timeout plus 30 s', () => {
    expect(defaultPermitSeconds(30_000)).toBe(90);
    expect(defaultPermitSeconds(600_000)).toBe(1230);
  });

  it('is a known setting, read by loadConfig and reported with the others', () => {
    expect(KNOWN_SETTINGS).toContain('PANORAMA_PERMIT_SECONDS');
    expect(loadConfig(base).panoramaPermitSeconds).toBe(90);
    expect(loadConfig({ ...base, PANORAMA_PERMIT_SECONDS: '0' }).panoramaPermitSeconds).toBe(0);
    let error: unknown;
    try {
      loadConfig({ ...base, PANORAMA_PERMIT_SECONDS: '10', PANORAMA_CONCURRENCY: '0' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.split(':')[0]);
    expect(problems).toEqual(expect.arrayContaining(['PANORAMA_PERMIT_SECONDS', 'PANORAMA_CONCURRENCY']));
  });

  it('wires a shared limit unless it is 0', () => {
    const on = loadConfig(base);
    const storage = createStorageClients(on.storage);
    expect(createCallPermits(on, storage, silentLogger)).toBeInstanceOf(SharedCallLimit);
    const off = loadConfig({ ...base, PANORAMA_PERMIT_SECONDS: '0' });
    expect(createCallPermits(off, storage, silentLogger)).toBeUndefined();
  });
});
