import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, describeRun, requireBuild, runCli, STACK_LINE } from '../../helpers/cliKit.js';

/** The first-hour errors of the command line: a taken port, asking for help. */
describe('first-hour errors of the command line', () => {
  let taken: Server;
  let port: number;

  beforeAll(async () => {
    requireBuild();
    taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => taken.close(() => r()));
  });

  it('dev on a taken port names the port and --port, before starting Azurite or the demo', async () => {
    // act
    const r = await runCli(['dev', '--port', String(port)], { env: baseEnv(), timeoutMs: 30_000 });

    // assess
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toContain(`port ${port} is already in use`);
    expect(r.stderr).toContain('--port N');
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout).not.toContain('demo');
    expect(r.stderr).not.toMatch(/Azurite started/);
  });

  it.each([
    ['dev', ['--port N', '--demo', '--verbose']],
    ['status', ['--json', '--check']],
    ['reconcile', ['--cluster NAME', '--dry-run', '--no-audit', '--allow-removals', '--json', '--verbose']],
    ['replay-poison', ['--dry-run']],
  ])('%s --help lists every option and exits 0', async (command, options) => {
    // act
    const r = await runCli([command, '--help'], { env: baseEnv(), timeoutMs: 30_000 });

    // assess
    expect(r.code, describeRun(r)).toBe(0);
    for (const option of options) expect(r.stdout).toContain(option);
  });
});
