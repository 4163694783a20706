import { ArmHttpError } from './ArmHttpError.js';

/** Actions denied at and below a scope, answered with ARM's 403 `AuthorizationFailed`. */
export class ArmDenials {
  readonly #denied: { action: string; scope: string }[] = [];

  /** Denies `action` at and below `scope` (`/` = everywhere). */
  deny(action: string, scope: string): void {
    this.#denied.push({ action, scope: scope === '/' ? '' : scope });
  }

  clear(): void {
    this.#denied.length = 0;
  }

  /** Throws 403 `AuthorizationFailed` when `action` is denied over `scope` (compared case-insensitively). */
  check(action: string, scope: string): void {
    const denied = this.#denied.find(
      (d) =>
        d.action.toLowerCase() === action.toLowerCase() &&
        scope.toLowerCase().startsWith(d.scope.toLowerCase()),
    );
    if (denied) {
      const oid = '00000000-0000-0000-0000-00000000c0de';
      throw new ArmHttpError(
        403,
        'AuthorizationFailed',
        `The client '${oid}' with object id '${oid}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      );
    }
  }
}
