import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../../shared/pipeline/collectStatus.js';
import {
  baseEnv,
  describeRun,
  ROOT,
  requireBuild,
  runCli,
  STACK_LINE,
  secretFragments,
  tempCwd,
  worldSecrets,
  worldSettings,
} from '../../helpers/cliKit.js';
import {
  internalService,
  type PipelineWorld,
  registeredObject,
  startPipelineWorld,
  type WorldCluster,
} from '../../helpers/pipelineWorld.js';

/** The command line's contract for usage and configuration (README: configuration and command line), run as the compiled bin. */

const COMMANDS = ['tags', 'reconcile', 'replay-poison', 'status', 'explain', 'dag', 'dev'];
const API_KEY = 'LUFRPT1-not-a-real-key-0123456789abcdef==';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.service-account-token-for-tests';
const PASSWORD = 'correct horse battery staple';

describe('usage', { timeout: 180_000 }, () => {
  beforeAll(() => requireBuild());

  it('--help and -h print the usage with every command on stdout and exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await runCli([flag], { env: baseEnv() });
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stdout).toMatch(/^Usage: aks-panorama-sync <command>/);
      for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^ {2}${c}\\b`, 'm'));
      expect(r.stdout).toContain('--dry-run');
      expect(r.stderr).toBe('');
    }
  });

  it('no command prints the usage on stderr and exits 2', async () => {
    const r = await runCli([], { env: baseEnv() });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toMatch(/^Usage: aks-panorama-sync/);
    expect(r.stdout).toBe('');
  });

  it('an unknown command exits 2 with its name and the usage', async () => {
    const r = await runCli(['reconcle', '--dry-run'], { env: baseEnv() });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toContain('unknown command "reconcle"');
    expect(r.stderr).toContain('Usage: aks-panorama-sync <command>');
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout).toBe('');
  });

  it('an unknown option or a bad value exits 2 with one line and no stack trace', async () => {
    for (const args of [
      ['reconcile', '--bogus'],
      ['status', '--verbose-ish'],
      ['replay-poison', 'extra-positional', '--nope'],
      ['dev', '--port', 'seventy'],
    ]) {
      const r = await runCli(args, { env: baseEnv() });
      expect(r.code, `${args.join(' ')}\n${describeRun(r)}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^aks-panorama-sync ${args[0]}: `));
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(r.stdout).toBe('');
    }
  });

  it('tags reads a ServiceList on stdin and prints the tags of its internal load-balancer IPs', async () => {
    const list = readFileSync(join(ROOT, 'test', 'fixtures', 'services', 'mixed-servicelist.json'), 'utf8');
    const r = await runCli(['tags', '--cluster', 'aks-prod-1', '--selector', 'web=app=web'], {
      env: baseEnv(),
      stdin: list,
    });
    expect(r.code, describeRun(r)).toBe(0);
    const tags = JSON.parse(r.stdout) as Record<string, string[]>;
    expect(Object.keys(tags).length).toBeGreaterThan(0);
    for (const list of Object.values(tags)) {
      expect(list).toEqual([...list].sort());
      for (const t of list) expect(t).toMatch(/^aks(\.aks-prod-1\.|_web\.aks-prod-1\.)/);
    }
  });
});

describe('bad configuration', { timeout: 180_000 }, () => {
  beforeAll(() => requireBuild());

  it('nothing configured: every command that needs configuration exits 2 listing every missing setting', async () => {
    for (const command of ['reconcile', 'status', 'replay-poison']) {
      const r = await runCli([command], { env: baseEnv() });
      expect(r.code, `${command}\n${describeRun(r)}`).toBe(2);
      expect(r.stderr).toContain(`aks-panorama-sync ${command}: Invalid configuration:`);
      for (const setting of ['AzureWebJobsStorage', 'PANORAMA_URL', 'PANORAMA_API_KEY', 'CLUSTERS']) {
        expect(r.stderr).toMatch(new RegExp(`^ {2}- ${setting}: missing`, 'm'));
      }
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(r.stdout).toBe('');
    }
  });

  it('several bad settings: one error lists each of them, naming the setting, without any secret', async () => {
    const env = baseEnv({
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      PANORAMA_URL: 'http://panorama.example.net',
      PANORAMA_API_KEY: API_KEY,
      PANORAMA_PASSWORD: PASSWORD,
      PANORAMA_CONCURRENCY: '0',
      RECONCILE_SCHEDULE: '*/5 * * * *',
      CLUSTERS: JSON.stringify([
        { name: 'aks ok?', server: 'https://10.0.0.1', auth: { type: 'token', token: TOKEN } },
        {
          name: 'aks-prod-1',
          server: 'https://10.0.0.2',
          auth: { type: 'token', token: TOKEN },
          labelSelectors: [{ name: 'web', selector: 'app in (web' }],
        },
      ]),
    });
    for (const command of ['reconcile', 'status', 'replay-poison']) {
      const r = await runCli([command], { env, secrets: [API_KEY, TOKEN, PASSWORD] });
      expect(r.code, describeRun(r)).toBe(2);
      const problems = r.stderr.split('\n').filter((l) => l.startsWith('  - '));
      expect(
        problems.some((p) => p.startsWith('  - PANORAMA_URL: http:// is only allowed for loopback')),
      ).toBe(true);
      expect(problems.some((p) => p.startsWith('  - PANORAMA_CONCURRENCY: '))).toBe(true);
      expect(problems.some((p) => p.startsWith('  - RECONCILE_SCHEDULE: expected six fields'))).toBe(true);
      expect(problems.some((p) => p.startsWith('  - CLUSTERS[0] ("aks ok?").name'))).toBe(true);
      expect(problems.some((p) => p.startsWith('  - CLUSTERS[1] (aks-prod-1).labelSelectors "web"'))).toBe(
        true,
      );
      expect(problems.length).toBe(5);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });

  it('CLUSTERS that is not valid JSON is reported without echoing its text (it holds tokens)', async () => {
    // A trailing comma, the most common hand-editing slip; V8's JSON error quotes the text near it.
    const clusters = `[{"name":"aks-prod-1","server":"https://10.0.0.2","auth":{"type":"token","token":"${TOKEN}"}},]`;
    const r = await runCli(['status'], {
      env: baseEnv({
        AzureWebJobsStorage: 'UseDevelopmentStorage=true',
        PANORAMA_URL: 'https://panorama.example.net',
        PANORAMA_API_KEY: API_KEY,
        CLUSTERS: clusters,
      }),
      secrets: [API_KEY, ...secretFragments(TOKEN, 6)],
    });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toMatch(/^ {2}- CLUSTERS: not valid JSON/m);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('a local.settings.json that is not valid JSON is named, without echoing its text (it holds the API key)', async () => {
    // An unquoted value: V8's message would quote the text around it.
    const cwd = tempCwd(`{ "IsEncrypted": false, "Values": { "PANORAMA_API_KEY": ${API_KEY} } }`);
    try {
      for (const command of ['reconcile', 'status', 'replay-poison']) {
        const r = await runCli([command], {
          env: baseEnv(),
          cwd: cwd.dir,
          secrets: secretFragments(API_KEY),
        });
        expect(r.code, describeRun(r)).toBe(2);
        expect(r.stderr).toMatch(/local\.settings\.json: not valid JSON/);
        expect(r.stderr).not.toMatch(STACK_LINE);
      }
    } finally {
      cwd.remove();
    }
  });
});

describe('settings from local.settings.json and the environment', { timeout: 180_000 }, () => {
  const CLUSTERS: WorldCluster[] = [
    { name: 'aks-file', services: [internalService('shop', 'checkout', ['10.7.0.4'], { app: 'web' })] },
  ];
  let world: PipelineWorld;
  let settings: Record<string, string>;
  let secrets: string[];

  beforeAll(async () => {
    requireBuild();
    world = await startPipelineWorld({ clusters: CLUSTERS });
    settings = worldSettings(world, CLUSTERS);
    secrets = worldSecrets(world);
  });
  afterAll(async () => world?.stop());

  it('on a storage account never used before, status and replay-poison work and report nothing', async () => {
    const env = baseEnv(settings);
    const st = await runCli(['status'], { env, secrets });
    expect(st.code, describeRun(st)).toBe(0);
    expect(st.stdout).toMatch(
      /^queues: cluster-recompute=0 {2}tag-deltas=0 {2}cluster-recompute-poison=0 {2}tag-deltas-poison=0$/m,
    );
    expect(st.stdout).toMatch(/^cluster aks-file: generation 0, 0 IPs, 0 tags, never recomputed$/m);
    const replay = await runCli(['replay-poison'], { env, secrets });
    expect(replay.code, describeRun(replay)).toBe(0);
    expect(replay.stdout).toContain('tag-deltas-poison: moved 0 messages back to tag-deltas');
    expect(replay.stdout).toContain('cluster-recompute-poison: moved 0 messages back to cluster-recompute');
  });

  it('a local.settings.json in the working directory is enough (as with Core Tools)', async () => {
    const cwd = tempCwd(settings);
    try {
      const st = await runCli(['status', '--json'], { env: baseEnv(), cwd: cwd.dir, secrets });
      expect(st.code, describeRun(st)).toBe(0);
      const report = JSON.parse(st.stdout) as StatusReport;
      expect(report.clusters.map((c) => [c.cluster, c.monitored])).toEqual([['aks-file', true]]);

      const r = await runCli(['reconcile', '--json'], { env: baseEnv(), cwd: cwd.dir, secrets });
      expect(r.code, describeRun(r)).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        clusters: [{ cluster: 'aks-file', status: 'changed', ips: 1, registered: 2 }],
        pushes: { messages: 1, registered: 2, poisoned: 0, leftQueued: 0 },
        audits: [{ target: 'panorama', status: 'audited' }],
      });
      expect(registeredObject(world.panorama)['10.7.0.4']).toEqual([
        'aks.aks-file.checkout',
        'aks.aks-file.svc.app.web',
      ]);
    } finally {
      cwd.remove();
    }
  });

  it('the environment wins over local.settings.json, setting by setting', async () => {
    // The file points at a dead Panorama with a wrong key and names another cluster; it alone
    // provides the storage connection. The environment overrides Panorama and CLUSTERS.
    const cwd = tempCwd({
      AzureWebJobsStorage: settings.AzureWebJobsStorage,
      PANORAMA_URL: 'http://127.0.0.1:9',
      PANORAMA_API_KEY: 'wrong-key-from-the-file',
      CLUSTERS: JSON.stringify([
        { name: 'aks-only-in-file', server: 'https://127.0.0.1:9', auth: { type: 'token', token: 'x-file' } },
      ]),
    });
    const env = baseEnv({
      PANORAMA_URL: settings.PANORAMA_URL,
      PANORAMA_API_KEY: settings.PANORAMA_API_KEY,
      PANORAMA_TIMEOUT_MS: '5000',
      CLUSTERS: settings.CLUSTERS,
    });
    try {
      world.kube.get('aks-file')?.addService(internalService('shop', 'cart', ['10.7.0.5']));
      const r = await runCli(['reconcile'], { env, cwd: cwd.dir, secrets });
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stdout).toMatch(/cluster aks-file: changed/);
      expect(r.stdout).not.toContain('aks-only-in-file');
      expect(registeredObject(world.panorama)['10.7.0.5']).toEqual(['aks.aks-file.cart']);

      const st = await runCli(['status', '--json'], { env, cwd: cwd.dir, secrets });
      expect(st.code, describeRun(st)).toBe(0);
      const report = JSON.parse(st.stdout) as StatusReport;
      expect(report.clusters.filter((c) => c.monitored).map((c) => c.cluster)).toEqual(['aks-file']);
    } finally {
      cwd.remove();
    }
  });

  it('a bad value in the environment is reported even when the file has a good one', async () => {
    const cwd = tempCwd(settings);
    try {
      const r = await runCli(['status'], {
        env: baseEnv({ PANORAMA_URL: 'ftp://panorama.example.net' }),
        cwd: cwd.dir,
        secrets,
      });
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr).toMatch(/^ {2}- PANORAMA_URL: expected an https:\/\/ URL/m);
    } finally {
      cwd.remove();
    }
  });
});
