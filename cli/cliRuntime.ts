import { loadConfig } from '../shared/config/loadConfig.js';
import { cliSettings } from '../shared/config/localSettings.js';
import { prettyLogger } from '../shared/logger.js';
import { createRuntime, type Runtime } from '../shared/runtime/createRuntime.js';
import type { CliIo } from './CliIo.js';

/**
 * The environment of a command as one map: the environment, `local.settings.json` of `io.cwd`
 * and, when those configure nothing, the running demo's settings file (`cliSettings` in
 * `shared/config/localSettings.ts`). The note of where the settings came from goes to stderr.
 */
export function cliIoWithSettings(io: CliIo): CliIo {
  const { settings, note } = cliSettings(io.env, io.cwd);
  if (note) io.stderr(`note: ${note}\n`);
  return { ...io, env: settings };
}

/** Builds the runtime for a command from {@link cliIoWithSettings}. */
export function cliRuntime(io: CliIo, options: { verbose?: boolean } = {}): Runtime {
  const config = loadConfig(cliIoWithSettings(io).env);
  return createRuntime(config, { logger: prettyLogger(options.verbose ? 'debug' : 'info', io.stderr) });
}
