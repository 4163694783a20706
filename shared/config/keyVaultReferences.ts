import type { Settings } from './localSettings.js';

/** How every App Service / Functions Key Vault reference begins (`@Microsoft.KeyVault(SecretUri=…)`). */
export const KEY_VAULT_REFERENCE_PREFIX = '@Microsoft.KeyVault(';

/** True when `value` is still the text of a Key Vault reference, which the platform failed to resolve. */
export function isKeyVaultReference(value: string | undefined): boolean {
  return value?.trimStart().toLowerCase().startsWith(KEY_VAULT_REFERENCE_PREFIX.toLowerCase()) ?? false;
}

/** The vault and secret a reference names, in either syntax (`SecretUri=` or `VaultName=;SecretName=`). */
export function keyVaultReferenceTarget(reference: string): { vault?: string; secret?: string } {
  const uri = /SecretUri=https:\/\/([^./]+)\.[^/]+\/secrets\/([^/);]+)/i.exec(reference);
  if (uri) return { vault: uri[1], secret: uri[2] };
  const vault = /VaultName=([^;)]+)/i.exec(reference)?.[1];
  const secret = /SecretName=([^;)]+)/i.exec(reference)?.[1];
  return { ...(vault ? { vault } : {}), ...(secret ? { secret } : {}) };
}

/** The names of the app settings that `CLUSTERS` entries read their tokens from (`auth.tokenSetting`). */
export function tokenSettingNames(clusters: string | undefined): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(clusters ?? '[]');
  } catch {
    return []; // parseClusters reports the syntax
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((entry) => {
    const name = (entry as { auth?: { tokenSetting?: unknown } } | null)?.auth?.tokenSetting;
    return typeof name === 'string' && name !== '' ? [name] : [];
  });
}

/** The one-line problem for a setting whose Key Vault reference was not resolved. */
export function unresolvedReferenceProblem(setting: string, reference: string): string {
  const { vault, secret } = keyVaultReferenceTarget(reference);
  const where = secret
    ? `the secret "${secret}"${vault ? ` exists in the Key Vault "${vault}"` : ' exists'}`
    : 'the secret exists';
  return (
    `${setting}: the Key Vault reference was not resolved (the app sees its text, not the secret), so it is never sent anywhere. ` +
    `Check that ${where}, that the app's identity has "Key Vault Secrets User" on the vault (keyVaultReferenceIdentity names it), ` +
    'then restart the app (docs/deploy.md, "Verify the deployment")'
  );
}

/**
 * Every setting among `names` (and every `auth.tokenSetting` of `CLUSTERS`) whose value is still an
 * unresolved `@Microsoft.KeyVault(...)` reference, as one problem per setting naming it and what to
 * check. The platform hands the reference text to the app when the secret is missing or the
 * identity may not read it; used as a credential it would fail, retry and poison every message.
 */
export function unresolvedKeyVaultReferences(settings: Settings, names: readonly string[]): string[] {
  const all = [...new Set([...names, ...tokenSettingNames(settings.CLUSTERS)])];
  return all.flatMap((name) => {
    const value = settings[name];
    return value !== undefined && isKeyVaultReference(value) ? [unresolvedReferenceProblem(name, value)] : [];
  });
}

const REFERENCE_PROBLEM = /^([^:\s]+): the Key Vault reference was not resolved/;

/**
 * `problems` without the ones that only repeat, for a setting whose Key Vault reference was not
 * resolved, that its value is not valid (`PANORAMA_URL: not a URL ("@Microsoft.KeyVault(…")`): the
 * reference's own problem already says what to do, and the others would echo its text.
 */
export function withoutReferenceEchoes(problems: readonly string[]): string[] {
  const unresolved = problems.flatMap((p) => REFERENCE_PROBLEM.exec(p)?.[1] ?? []);
  return problems.filter(
    (p) =>
      REFERENCE_PROBLEM.test(p) ||
      !unresolved.some((name) => p.startsWith(`${name}:`) || p.startsWith(`${name} `)),
  );
}
