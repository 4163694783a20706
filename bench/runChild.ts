import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Runs `dist/bench/<script>` in a child Node process (`--expose-gc`) with `env` added, and resolves
 * with the JSON of its `RESULT {…}` line; killed after `timeoutMs`. `BENCH_DEBUG=1` shows its stderr.
 */
export function runChild<T>(
  script: string,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', join(here, script), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', process.env.BENCH_DEBUG ? 'inherit' : 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice('RESULT '.length)) as T);
      else reject(new Error(`${script} exited ${signal ?? code}: ${err.trim().slice(0, 2000)}`));
    });
  });
}
