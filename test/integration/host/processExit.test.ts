import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { uniqueQueueName } from './hostTestKit.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const out = mkdtempSync(join(tmpdir(), 'local-host-build-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Transpiles host/ and shared/ to plain ESM JavaScript so the host runs under Node's own loader, not vitest's. */
function buildForNode(): void {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? walk(join(dir, e.name))
        : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')
          ? [join(dir, e.name)]
          : [],
    );
  for (const file of [...walk(join(ROOT, 'host')), ...walk(join(ROOT, 'shared'))]) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
      fileName: file,
    });
    const target = join(out, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }');
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
}

function runNode(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: out,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the local host under plain Node', () => {
  it('loads compiled function modules, runs them, and lets the process exit by itself after stop()', async () => {
    buildForNode();
    const queueName = uniqueQueueName('exit');
    mkdirSync(join(out, 'functions'));
    writeFileSync(
      join(out, 'functions', 'echo.js'),
      `import { defineQueueFunction, defineHttpFunction } from '../shared/functionSpecs.js';
       export const echo = defineQueueFunction({ name: 'echo', queueName: process.env.TEST_QUEUE,
         handler: async (m) => { console.log('echo ' + JSON.stringify(m)); } });
       export const hello = defineHttpFunction({ name: 'hello', route: 'hello/{who}', methods: ['GET'],
         authLevel: 'function', handler: async (req) => ({ jsonBody: { hi: req.params.who } }) });`,
    );
    const script = `
      import { QueueClient } from '@azure/storage-queue';
      import { startLocalHost } from './host/startLocalHost.js';
      import { silentLogger } from './shared/logger.js';
      const host = await startLocalHost({ functionsDir: 'functions', port: 0, logger: silentLogger,
        settings: { AzureWebJobsStorage: process.env.AZ, LOCAL_FUNCTION_KEY: 'test-key-1' }, hostJsonPath: '${join(ROOT, 'host.json')}' });
      const queue = new QueueClient(process.env.AZ, process.env.TEST_QUEUE);
      await queue.createIfNotExists();
      await queue.sendMessage(Buffer.from(JSON.stringify({ n: 1 })).toString('base64'));
      host.nudge(process.env.TEST_QUEUE);
      const res = await fetch(host.url + '/api/hello/node?code=test-key-1');
      console.log('http ' + res.status + ' ' + (await res.text()));
      while (host.invocations.byFunction.echo?.succeeded !== 1) await new Promise((r) => setTimeout(r, 50));
      await host.stop();
      console.log('stopped');
    `;
    const result = await runNode(script, { AZ: inject('azuriteConnectionString'), TEST_QUEUE: queueName });

    expect(result.stderr).not.toMatch(
      /Failed to detect the Azure Functions runtime|Skipping call to register/,
    );
    expect(result.stdout).toContain('http 200 {"hi":"node"}');
    expect(result.stdout).toContain('echo {"n":1}');
    expect(result.stdout).toContain('stopped');
    expect(result.code, result.stderr).toBe(0);
  }, 60_000);
});
