import { AzureError, classify, FailureKind } from '../errors.js';

/** The HTTP status of a storage SDK error, when it has one. */
export function storageStatusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** Where a storage call went: the endpoint's host (never its query: a SAS token is a secret). */
function hostOf(url: string | undefined): string {
  if (!url) return 'the storage account';
  try {
    return new URL(url).host;
  } catch {
    return 'the storage account';
  }
}

/**
 * The error of a failed Table or Queue storage call, named by service, endpoint host and what was
 * tried. When the account could not be reached or refused the credentials, the message says which
 * setting to check (`AzureWebJobsStorage`, or its `__accountName` / `__*ServiceUri` forms).
 */
export function storageError(
  service: 'Table storage' | 'Queue storage',
  endpoint: string | undefined,
  what: string,
  err: unknown,
): AzureError {
  const kind = classify(err);
  const status = storageStatusOf(err);
  const cause = status ?? ((err as Error)?.message || 'error');
  const unreachable = status === undefined || kind === FailureKind.authentication;
  const hint =
    status === 403
      ? '; the identity needs Storage Table Data Contributor and Storage Queue Data Contributor on the account (docs/deploy.md, roles), or the connection string is wrong'
      : unreachable
        ? '; check the AzureWebJobsStorage setting (connection string or __accountName)'
        : '';
  return new AzureError(`${service} at ${hostOf(endpoint)}: ${what} failed (${cause})${hint}`, {
    kind,
    cause: err,
  });
}
