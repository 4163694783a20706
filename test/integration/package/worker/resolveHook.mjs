// Module resolve hook (node:module `register`): appends every URL the app's imports resolve to, one
// per line, to the file named by PACKAGE_TEST_RESOLUTIONS.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.PACKAGE_TEST_RESOLUTIONS, `${result.url}\n`);
  return result;
}
