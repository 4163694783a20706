/**
 * Kubernetes label syntax, as `k8s.io/apimachinery/pkg/util/validation` checks it:
 *
 * - key: `[prefix/]name`; `name` is 1–63 characters of `[A-Za-z0-9._-]` starting and ending with an
 *   alphanumeric; the optional `prefix` is a DNS-1123 subdomain (≤253, lower-case).
 * - value: empty, or 1–63 characters like `name`.
 */

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;
const NAME_RULE =
  "1-63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

/** Why `name` is not a valid label name (the part after the prefix), or `undefined` when it is. */
function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the name part must not be empty';
  if (name.length > 63) return `the name part is ${name.length} characters long, at most 63 are allowed`;
  if (!NAME.test(name)) return `the name part must be ${NAME_RULE}`;
  return undefined;
}

/**
 * Why `key` is not a valid Kubernetes label key, or `undefined` when it is.
 *
 * @example checkLabelKey('app.kubernetes.io/name') // undefined
 * @example checkLabelKey('-app') // "the name part must be …"
 */
export function checkLabelKey(key: string): string | undefined {
  const slash = key.indexOf('/');
  if (slash === -1) return nameProblem(key);
  const prefix = key.slice(0, slash);
  const name = key.slice(slash + 1);
  if (prefix.length === 0) return 'the prefix before "/" must not be empty';
  if (prefix.length > 253) return `the prefix is ${prefix.length} characters long, at most 253 are allowed`;
  if (!DNS_SUBDOMAIN.test(prefix))
    return 'the prefix must be a DNS subdomain: lower-case letters, digits, "-" and ".", each part starting and ending with a letter or digit';
  return nameProblem(name);
}

/** Why `value` is not a valid Kubernetes label value, or `undefined` when it is (empty is valid). */
export function checkLabelValue(value: string): string | undefined {
  if (value.length === 0) return undefined;
  if (value.length > 63) return `the value is ${value.length} characters long, at most 63 are allowed`;
  if (!NAME.test(value)) return `the value must be empty or ${NAME_RULE}`;
  return undefined;
}
