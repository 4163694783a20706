import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import {
  baseEnv,
  CLI,
  exitWithin,
  isAlive,
  pollUntil,
  requireBuild,
  STACK_LINE,
  startDev,
  tempCwd,
} from '../../helpers/cliKit.js';

/**
 * User journey 1: `npm start` (= `aks-panorama-sync dev`) with no configuration at all runs the
 * embedded demo — Azurite, simulated AKS and Panorama — shows tags arriving on the firewalls, and
 * Ctrl-C stops everything it started.
 */
describe('npm start with no configuration: the embedded demo', () => {
  const cwd = tempCwd();
  const leftovers: number[] = [];
  afterAll(() => {
    // Never leave a process behind, even when an assertion failed.
    for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    cwd.remove();
  });

  it('shows tags on the firewalls, follows a posted event, and exits 0 on SIGINT leaving no Azurite behind', async () => {
    const dev = startDev(cwd.dir, leftovers);
    const { child, output } = dev;
    try {
      const azuritePid = Number(
        (
          await pollUntil(
            'Azurite pid on dev.stderr()',
            () => /Azurite started\s+pid=(\d+)/.exec(dev.stderr()),
            {
              timeoutMs: 60_000,
            },
          )
        )[1],
      );
      leftovers.push(azuritePid);
      expect(isAlive(azuritePid)).toBe(true);

      expect(dev.stdout()).toContain('no configuration found');
      // The sample cluster's tags arrive on both firewalls of the device group, in plain words.
      await pollUntil(
        'tags on the firewalls',
        () =>
          /Tags on the firewalls now:\n {2}firewall 007051000123456: [1-9]\d* IPs\n(?: {4}.*\n)*? {4}10\.240\.0\.10 +.*aks\.aks-demo\.checkout/.test(
            dev.stdout(),
          ),
        { timeoutMs: 60_000 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${output()}`);
      });
      await pollUntil('tags on the second firewall', () =>
        /firewall 007051000654321: [1-9]\d* IPs\n(?: {4}.*\n)*? {4}10\.240\.0\.10 +aks\.aks-demo\.checkout/.test(
          dev.stdout(),
        ),
      );
      // The person's tag on the first firewall is left alone.
      expect(dev.stdout()).toMatch(/10\.240\.0\.10 +.*owner\.netsec-team/);
      // The story posts an event for a new Service; its tags follow.
      await pollUntil(
        'the new Service search.shop on the firewalls',
        () => /10\.240\.0\.20 +aks\.aks-demo\.search/.test(dev.stdout()),
        {
          timeoutMs: 60_000,
        },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${output()}`);
      });

      child.kill('SIGINT');
      const exit = await exitWithin(child, 30_000);
      expect(exit, `did not exit within 30 s after SIGINT\n${output()}`).toEqual({ code: 0, signal: null });
      expect(dev.stdout()).toContain('Stopping…');
      expect(dev.stderr()).not.toMatch(STACK_LINE);
      // Azurite, started by the demo, is gone too.
      await pollUntil('Azurite to be gone', () => !isAlive(azuritePid), { timeoutMs: 10_000 }).catch(() => {
        throw new Error(`Azurite (pid ${azuritePid}) is still running after the demo exited`);
      });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 180_000);

  it('Ctrl-C while it is still starting (Azurite up, host not yet) stops cleanly and leaves no Azurite behind', async () => {
    requireBuild();
    const child = spawn(process.execPath, [CLI, 'dev', '--port', '0'], {
      cwd: cwd.dir,
      env: baseEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid) leftovers.push(child.pid);
    let stderr = '';
    let azuritePid: number | undefined;
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /Azurite started\s+pid=(\d+)/.exec(stderr);
      if (m && azuritePid === undefined) {
        azuritePid = Number(m[1]);
        leftovers.push(azuritePid);
        // At once: the local host is still loading the functions.
        child.kill('SIGINT');
      }
    });
    try {
      const exit = await exitWithin(child, 60_000);
      expect(azuritePid, stderr).toBeDefined();
      expect(exit, `did not exit within 60 s after SIGINT\n${stderr}`).toEqual({ code: 0, signal: null });
      const pid = azuritePid as number;
      await pollUntil('Azurite to be gone', () => !isAlive(pid), { timeoutMs: 10_000 }).catch(() => {
        throw new Error(`Azurite (pid ${pid}) is still running after the demo exited`);
      });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 120_000);

  it('dev with a partial configuration exits 2 listing every problem, and stops the Azurite it started', async () => {
    const dev = startDev(cwd.dir, leftovers, baseEnv({ PANORAMA_URL: 'http://panorama.example.net' }));
    const { child } = dev;
    try {
      const exit = await exitWithin(child, 60_000);
      expect(exit, dev.stderr()).toEqual({ code: 2, signal: null });
      // Configured (PANORAMA_URL is set), so no demo: the configuration is validated instead.
      expect(dev.stdout()).not.toContain('demo');
      expect(dev.stderr()).toContain('aks-panorama-sync dev: Invalid configuration:');
      expect(dev.stderr()).toMatch(/^ {2}- PANORAMA_URL: http:\/\/ is only allowed for loopback hosts/m);
      expect(dev.stderr()).toMatch(/^ {2}- PANORAMA_API_KEY: missing/m);
      expect(dev.stderr()).toMatch(/^ {2}- CLUSTERS: missing/m);
      expect(dev.stderr()).not.toMatch(STACK_LINE);
      const started = /Azurite started\s+pid=(\d+)/.exec(dev.stderr());
      if (started) {
        const pid = Number(started[1]);
        leftovers.push(pid);
        await pollUntil('Azurite to be gone', () => !isAlive(pid), { timeoutMs: 10_000 }).catch(() => {
          throw new Error(`Azurite (pid ${pid}) is still running after dev exited`);
        });
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
