import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostSettingsFromJson, loadHostSettings, parseTimeSpan } from '../../../host/loadHostSettings.js';
import { ConfigError } from '../../../shared/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'host-json-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('parseTimeSpan', () => {
  it.each([
    ['00:00:30', 30_000],
    ['00:10:00', 600_000],
    ['01:00:00', 3_600_000],
    ['00:00:00.100', 100],
    ['1.02:00:00', 93_600_000],
    ['00:05', 300_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseTimeSpan(text)).toBe(ms);
  });

  it.each(['30s', '', '00:60:00', 'abc', '1:2:3:4'])('rejects %j', (text) => {
    expect(parseTimeSpan(text)).toBeUndefined();
  });
});

describe('loadHostSettings', () => {
  it('reads the repository host.json: at most 4 deltas in flight, 5 attempts, 30 s between attempts', () => {
    const settings = loadHostSettings(join(import.meta.dirname, '..', '..', '..', 'host.json'));
    expect(settings.queues).toEqual({
      batchSize: 2,
      newBatchThreshold: 2,
      maxPollingIntervalMs: 2000,
      visibilityTimeoutMs: 30_000,
      maxDequeueCount: 5,
      messageEncoding: 'base64',
    });
    expect(settings.queues.batchSize + settings.queues.newBatchThreshold).toBeLessThanOrEqual(4);
    expect(settings.functionTimeoutMs).toBe(600_000);
  });

  it('fills in the host defaults when host.json has no queue settings', () => {
    const path = write('bare.json', '{ "version": "2.0" }');
    expect(loadHostSettings(path).queues).toEqual({
      batchSize: 16,
      newBatchThreshold: 8,
      maxPollingIntervalMs: 2000,
      visibilityTimeoutMs: 0,
      maxDequeueCount: 5,
      messageEncoding: 'base64',
    });
    expect(loadHostSettings(path, { development: false }).queues.maxPollingIntervalMs).toBe(60_000);
    expect(loadHostSettings(path).functionTimeoutMs).toBe(30 * 60_000);
  });

  it('derives newBatchThreshold from batchSize (integer half, times the processor count)', () => {
    const json = { version: '2.0', extensions: { queues: { batchSize: 5 } } };
    expect(hostSettingsFromJson(json).queues.newBatchThreshold).toBe(2);
    expect(hostSettingsFromJson(json, { processorCount: 4 }).queues.newBatchThreshold).toBe(8);
  });

  it('returns the defaults when the file does not exist', () => {
    expect(loadHostSettings(join(dir, 'missing.json')).queues.batchSize).toBe(16);
  });

  it('reads keys case-insensitively, as the host configuration does', () => {
    const json = { Version: '2.0', Extensions: { Queues: { BatchSize: 3, MessageEncoding: 'None' } } };
    const settings = hostSettingsFromJson(json);
    expect(settings.queues.batchSize).toBe(3);
    expect(settings.queues.messageEncoding).toBe('none');
  });

  it('reports every invalid value in one ConfigError', () => {
    const json = {
      version: '2.0',
      extensions: {
        queues: {
          batchSize: 64,
          maxDequeueCount: 0,
          visibilityTimeout: '30 seconds',
          messageEncoding: 'utf8',
        },
      },
    };
    let error: unknown;
    try {
      hostSettingsFromJson(json);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/batchSize/);
    expect(problems).toMatch(/maxDequeueCount/);
    expect(problems).toMatch(/visibilityTimeout/);
    expect(problems).toMatch(/messageEncoding/);
  });

  it('rejects a host.json without version 2.0 and one that is not JSON', () => {
    expect(() => loadHostSettings(write('v1.json', '{ "version": "1.0" }'))).toThrow(/version/);
    expect(() => loadHostSettings(write('broken.json', '{ "version": '))).toThrow(/not valid JSON/);
  });

  it('refuses a maxPollingInterval below the 100 ms minimum', () => {
    const json = { version: '2.0', extensions: { queues: { maxPollingInterval: '00:00:00.050' } } };
    expect(() => hostSettingsFromJson(json)).toThrow(/at least/);
  });
});
