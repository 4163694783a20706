import type { Settings } from '../shared/config/localSettings.js';

/** What a command may touch: its streams, settings and working directory (injected for tests). */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Settings;
  cwd: string;
}

/** Exit codes: 0 success, 1 the work failed (left queued or poisoned), 2 bad usage or input. */
export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const;

/** A command: parses its own arguments and returns an exit code. */
export type Command = (args: string[], io: CliIo) => Promise<number>;

/** Reads a stream to the end as UTF-8 text. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
