import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * The azd hooks (scripts/azd-preprovision.sh, scripts/azd-postprovision.sh) run for real under sh,
 * with stand-ins for the two external CLIs they call (`az`, `azd`) on PATH that record their
 * arguments and answer like the real ones for the calls used.
 */

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SECRET = 'LUFRPT1-hook-test-key-0123456789==';

const FAKE_AZ = `#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_DIR/az.log"
case "$1 $2 $3" in
  "keyvault secret list") [ -n "\${FAKE_PRESENT:-}" ] && echo "$FAKE_PRESENT"; exit 0 ;;
  "keyvault secret set")
    while [ $# -gt 0 ]; do
      if [ "$1" = --file ]; then cp "$2" "$FAKE_DIR/written"; stat -c %a "$2" > "$FAKE_DIR/mode"; fi
      shift
    done
    exit 0 ;;
  "keyvault show-deleted --name") [ -n "\${FAKE_DELETED:-}" ] && { echo "$4"; exit 0; }; exit 3 ;;
  "keyvault list-deleted --resource-type") echo "\${FAKE_DELETED_BY_TAG:-}"; exit 0 ;;
  "functionapp restart --name") exit 0 ;;
esac
exit 0
`;
const FAKE_AZD = `#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_DIR/azd.log"
`;

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'azd-hooks-'));
  for (const [name, text] of [
    ['az', FAKE_AZ],
    ['azd', FAKE_AZD],
  ] as const) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o755);
  }
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'sh',
      [join(ROOT, 'scripts', script)],
      { env: { PATH: `${dir}:/usr/bin:/bin`, FAKE_DIR: dir, ...env }, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}
const read = (name: string) => {
  try {
    return readFileSync(join(dir, name), 'utf8');
  } catch {
    return '';
  }
};
const OUTPUTS = {
  KEY_VAULT_NAME: 'kv-test',
  PANORAMA_SECRET_NAME: 'panorama-api-key',
  AZURE_FUNCTION_APP_NAME: 'func-test',
  AZURE_RESOURCE_GROUP: 'rg-test',
};

describe('postprovision hook', () => {
  it('writes the API key from the azd environment through a private file, never on a command line', async () => {
    const r = await run('azd-postprovision.sh', { ...OUTPUTS, PANORAMA_API_KEY: SECRET });

    expect(r.code, r.stderr).toBe(0);
    expect(read('written')).toBe(SECRET);
    expect(read('mode').trim()).toBe('600');
    expect(read('az.log')).toContain(
      'keyvault secret set --vault-name kv-test --name panorama-api-key --file',
    );
    expect(read('az.log')).toContain('functionapp restart --name func-test --resource-group rg-test');
    expect(read('az.log')).not.toContain(SECRET);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('leaves a secret that exists alone when no new value is given', async () => {
    const r = await run('azd-postprovision.sh', { ...OUTPUTS, FAKE_PRESENT: 'panorama-api-key' });

    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('is in Key Vault kv-test');
    expect(read('az.log')).not.toContain('secret set');
  });

  it('fails naming the secret and the way out when it is missing and there is no terminal to ask', async () => {
    const r = await run('azd-postprovision.sh', { ...OUTPUTS });

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not in Key Vault kv-test and there is no terminal to ask for it');
    expect(r.stderr).toContain('azd env set PANORAMA_API_KEY');
    expect(read('az.log')).not.toContain('secret set');
  });

  it('writes the password, not an API key, when PANORAMA_USERNAME is set', async () => {
    const r = await run('azd-postprovision.sh', {
      ...OUTPUTS,
      PANORAMA_SECRET_NAME: 'panorama-password',
      PANORAMA_USERNAME: 'svc-sync',
      PANORAMA_PASSWORD: SECRET,
    });

    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('password of the Panorama administrator svc-sync');
    expect(read('az.log')).toContain('--name panorama-password --file');
    expect(read('written')).toBe(SECRET);
  });
});

describe('preprovision hook', () => {
  it.each([
    {
      name: 'a soft-deleted vault of this environment',
      env: { KEY_VAULT_NAME: 'kv-test', FAKE_DELETED: '1' },
      mode: 'recover',
    },
    { name: 'a live vault', env: { KEY_VAULT_NAME: 'kv-test' }, mode: 'default' },
    {
      name: 'a new azd environment, deleted vault found by tag',
      env: { FAKE_DELETED_BY_TAG: 'kv-old' },
      mode: 'recover',
    },
    { name: 'a first provision', env: {}, mode: 'default' },
  ] as { name: string; env: Record<string, string>; mode: string }[])(
    '$name: KEY_VAULT_CREATE_MODE=$mode',
    async ({ env, mode }) => {
      const r = await run('azd-preprovision.sh', {
        AZURE_ENV_NAME: 'prod',
        AZURE_LOCATION: 'westeurope',
        ...env,
      });

      expect(r.code, r.stderr).toBe(0);
      expect(read('azd.log').trim()).toBe(`env set KEY_VAULT_CREATE_MODE ${mode}`);
    },
  );
});
