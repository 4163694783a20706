import { loadConfig } from '../shared/config/loadConfig.js';
import { effectiveSettings } from '../shared/config/localSettings.js';
import { prettyLogger } from '../shared/logger.js';
import { createRuntime, type Runtime } from '../shared/runtime/createRuntime.js';
import type { CliIo } from './CliIo.js';

/** Builds the runtime for a command from the environment and `local.settings.json` of `io.cwd`. */
export function cliRuntime(io: CliIo, options: { verbose?: boolean } = {}): Runtime {
  const config = loadConfig(effectiveSettings(io.env, io.cwd));
  return createRuntime(config, { logger: prettyLogger(options.verbose ? 'debug' : 'info', io.stderr) });
}
