import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  KNOWN_SETTINGS,
  loadConfig,
  MAX_TAG_TIMEOUT_MINUTES,
  tagTimeoutSetting,
} from '../../../shared/config/loadConfig.js';
import { ConfigError } from '../../../shared/errors.js';
import { MAX_TAG_TIMEOUT_SECONDS } from '../../../shared/panorama/buildUidMessages.js';
import { tagRefreshDue } from '../../../shared/pipeline/auditTargets.js';
import type { ClusterStatus, StatusReport } from '../../../shared/pipeline/collectStatus.js';
import { statusAttention } from '../../../shared/pipeline/statusAttention.js';
import { clusterStatus, statusReport } from '../../helpers/statusReports.js';

const base = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  PANORAMA_URL: 'https://panorama.example.net',
  PANORAMA_API_KEY: 'key-123456',
  CLUSTERS: JSON.stringify([
    { name: 'aks-1', server: 'https://aks-1.example.net', auth: { type: 'token', token: 't' } },
  ]),
};

function problemOf(settings: Record<string, string>): string {
  try {
    loadConfig({ ...base, ...settings });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
}

describe('TAG_TIMEOUT_MINUTES', () => {
  it('is a known setting, and its maximum is PAN-OS member@timeout maximum', () => {
    expect(KNOWN_SETTINGS).toContain('TAG_TIMEOUT_MINUTES');
    expect(MAX_TAG_TIMEOUT_MINUTES * 60).toBe(MAX_TAG_TIMEOUT_SECONDS);
  });

  it.each([
    { raw: undefined, audit: 15, want: undefined, problem: false },
    { raw: '', audit: 15, want: undefined, problem: false },
    { raw: '  ', audit: 15, want: undefined, problem: false },
    { raw: '30', audit: 15, want: 30, problem: false },
    { raw: '29', audit: 15, want: undefined, problem: true },
    { raw: '2', audit: 1, want: 2, problem: false },
    { raw: '1', audit: 1, want: undefined, problem: true },
    { raw: '43200', audit: 15, want: 43_200, problem: false },
    { raw: '43201', audit: 15, want: undefined, problem: true },
    { raw: '0', audit: 15, want: undefined, problem: true },
    { raw: '-60', audit: 15, want: undefined, problem: true },
    { raw: '60.5', audit: 15, want: undefined, problem: true },
    { raw: '1h', audit: 15, want: undefined, problem: true },
  ])('"$raw" with a $audit-minute audit gives $want (problem: $problem)', ({ raw, audit, want, problem }) => {
    const problems: string[] = [];
    expect(tagTimeoutSetting({ TAG_TIMEOUT_MINUTES: raw }, audit, problems)).toBe(want);
    expect(problems.length > 0).toBe(problem);
  });

  it('is absent by default: tags stay persistent and no register carries a timeout', () => {
    const config = loadConfig(base);
    expect(config.panorama.tagTimeoutMinutes).toBeUndefined();
  });

  it('reaches the Panorama settings when valid', () => {
    const config = loadConfig({ ...base, TAG_TIMEOUT_MINUTES: '120', AUDIT_INTERVAL_MINUTES: '30' });
    expect(config.panorama.tagTimeoutMinutes).toBe(120);
  });

  it('a timeout shorter than twice the audit interval is refused, naming both settings and the fix', () => {
    const message = problemOf({ TAG_TIMEOUT_MINUTES: '45', AUDIT_INTERVAL_MINUTES: '30' });
    expect(message).toContain('TAG_TIMEOUT_MINUTES: 45 is shorter than twice AUDIT_INTERVAL_MINUTES (30)');
    expect(message).toContain('at least 60');
  });

  it('the default audit interval (15) is what the check uses when AUDIT_INTERVAL_MINUTES is unset', () => {
    expect(problemOf({ TAG_TIMEOUT_MINUTES: '29' })).toContain('AUDIT_INTERVAL_MINUTES (15)');
    expect(problemOf({ TAG_TIMEOUT_MINUTES: '30' })).toBe('');
  });

  it('a value out of range says the range and that unset means persistent', () => {
    expect(problemOf({ TAG_TIMEOUT_MINUTES: '0' })).toMatch(
      /TAG_TIMEOUT_MINUTES: expected an integer from 1 to 43200 .*unset for persistent tags, got "0"/,
    );
  });
});

describe('tagRefreshDue', () => {
  const at = (minutes: number) => new Date(Date.UTC(2026, 11, 1) + minutes * 60_000);
  const deps = (now: number, timeout: number | undefined, interval = 15) => ({
    now: () => at(now),
    auditIntervalMinutes: interval,
    ...(timeout === undefined ? {} : { tagTimeoutMinutes: timeout }),
  });

  it.each([
    { last: undefined, now: 0, timeout: undefined, want: false, why: 'persistent tags are never refreshed' },
    {
      last: 0,
      now: 10_000,
      timeout: undefined,
      want: true,
      why: 'refreshed under a timeout: once more without',
    },
    { last: undefined, now: 0, timeout: 60, want: true, why: 'never refreshed' },
    { last: 0, now: 14, timeout: 60, want: false, why: '30 - 15 minutes not passed' },
    { last: 0, now: 15, timeout: 60, want: true, why: 'the next pass could come after half the timeout' },
    { last: 0, now: 0, timeout: 30, want: true, why: 'timeout = 2 × interval: every pass refreshes' },
    { last: 0, now: 200, timeout: 600, want: false, why: '300 - 15 minutes not passed' },
    { last: 0, now: 285, timeout: 600, want: true, why: '300 - 15 minutes passed' },
  ])('last $last, now $now, timeout $timeout → $want ($why)', ({ last, now, timeout, want }) => {
    expect(tagRefreshDue(last === undefined ? undefined : at(last).toISOString(), deps(now, timeout))).toBe(
      want,
    );
  });

  it('with passes at most one audit interval apart, the tags are always re-registered before half the timeout', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 2, max: 40 }),
        fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 60 }),
        (interval, factor, gaps) => {
          const timeout = interval * factor;
          let now = 0;
          let last = 0;
          for (const gap of gaps) {
            now += Math.min(gap, interval);
            if (tagRefreshDue(at(last).toISOString(), deps(now, timeout, interval))) last = now;
            expect(now - last).toBeLessThan(timeout / 2);
          }
        },
      ),
    );
  });
});

describe('statusAttention with TAG_TIMEOUT_MINUTES', () => {
  const cluster = (fields: Partial<ClusterStatus> = {}) =>
    clusterStatus({ currentTargets: ['0001'], ...fields });
  const report = (fields: Partial<StatusReport>) =>
    statusReport({ generatedAt: '2026-12-01T12:00:00.000Z', clusters: [cluster()], queues: [], ...fields });
  const audit = (lastRefreshAt?: string, target = '0001') => ({
    target,
    lastAuditAt: '2026-12-01T11:59:00.000Z',
    ...(lastRefreshAt ? { lastRefreshAt } : {}),
  });

  it.each([
    { why: 'persistent tags', timeout: undefined, audits: [audit()], want: 0 },
    {
      why: 'refreshed 29 minutes ago, timeout 60',
      timeout: 60,
      audits: [audit('2026-12-01T11:31:00.000Z')],
      want: 0,
    },
    { why: 'refreshed exactly half ago', timeout: 60, audits: [audit('2026-12-01T11:30:00.000Z')], want: 0 },
    {
      why: 'refreshed 31 minutes ago, timeout 60',
      timeout: 60,
      audits: [audit('2026-12-01T11:29:00.000Z')],
      want: 1,
    },
    { why: 'never refreshed', timeout: 60, audits: [audit()], want: 1 },
    { why: 'a target no cluster uses now', timeout: 60, audits: [audit(undefined, '0009')], want: 0 },
  ])('$why → $want line(s)', ({ timeout, audits, want }) => {
    const lines = statusAttention(report({ audits, ...(timeout ? { tagTimeoutMinutes: timeout } : {}) }));
    expect(lines).toHaveLength(want);
    if (want) expect(lines[0]).toMatch(/^audit 0001: tags last re-registered .*TAG_TIMEOUT_MINUTES \(60\)/);
  });

  it('a deleted or unmonitored cluster does not keep its old targets flagged', () => {
    for (const c of [cluster({ deletedAt: '2026-12-01T00:00:00.000Z' }), cluster({ monitored: false })]) {
      expect(statusAttention(report({ clusters: [c], audits: [audit()], tagTimeoutMinutes: 60 }))).toEqual(
        [],
      );
    }
  });
});
