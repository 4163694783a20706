import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../shared/errors.js';
import { type FunctionSpec, isFunctionSpec } from '../shared/functionSpecs.js';

const TEST_MODE_WARNINGS = [
  'WARNING: Failed to detect the Azure Functions runtime.',
  'WARNING: Skipping call to register function',
];

/**
 * Runs `fn` with the `@azure/functions` "test mode" warnings filtered out of `console.warn`. Outside the
 * Functions host every `app.*` registration prints one; under the local host they are noise. Other
 * warnings pass through unchanged. When `fn` returns a promise, the filter stays until it settles.
 */
export function withRegistrationWarningsSilenced<T>(fn: () => T): T {
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    const first = args[0];
    if (typeof first === 'string' && TEST_MODE_WARNINGS.some((w) => first.startsWith(w))) return;
    original.apply(console, args);
  };
  let result: T;
  try {
    result = fn();
  } catch (err) {
    console.warn = original;
    throw err;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      console.warn = original;
    }) as T;
  }
  console.warn = original;
  return result;
}

/** Throws a {@link ConfigError} when two specs share a name (the host refuses duplicate function names). */
export function assertUniqueNames(specs: readonly FunctionSpec[]): void {
  const seen = new Set<string>();
  const dupes = new Set<string>();
  for (const s of specs) {
    const key = s.name.toLowerCase();
    if (seen.has(key)) dupes.add(s.name);
    seen.add(key);
  }
  if (dupes.size > 0) {
    throw new ConfigError([...dupes].map((n) => `function "${n}" is defined more than once`));
  }
}

/**
 * Collects the function specs to run: either the given list, or every spec exported by the `*.js`
 * modules of a directory (the compiled `dist/functions/`), imported in name order with the
 * registration warnings silenced. Function names must be unique (case-insensitively, as in the host).
 */
export async function loadFunctionSpecs(source: string | readonly FunctionSpec[]): Promise<FunctionSpec[]> {
  if (typeof source !== 'string') {
    const specs = [...source];
    assertUniqueNames(specs);
    return specs;
  }
  const dir = resolve(source);
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .sort();
  } catch (err) {
    throw new ConfigError([`functions directory ${dir} cannot be read (${(err as Error).message})`]);
  }
  const specs: FunctionSpec[] = [];
  await withRegistrationWarningsSilenced(async () => {
    for (const file of files) {
      const mod = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
      for (const value of Object.values(mod)) {
        if (isFunctionSpec(value) && !specs.includes(value)) specs.push(value);
      }
    }
  });
  assertUniqueNames(specs);
  return specs;
}
