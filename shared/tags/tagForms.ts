/**
 * The three tag forms (design §4). Parts are concatenated as they are; validity and length are
 * checked by {@link tagProblem} and {@link shortenTag}.
 */

/** The name rule of clusters and selectors: 1–63 letters, digits, `-` or `_`, starting with a letter or digit. */
export const TAG_NAME_PART = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** `aks.<cluster>.<service>`: every eligible Service. */
export function serviceTag(cluster: string, service: string): string {
  return `aks.${cluster}.${service}`;
}

/** `aks.<cluster>.svc.<label>.<value>`: one per label of the Service. */
export function labelTag(cluster: string, key: string, value: string): string {
  return `aks.${cluster}.svc.${key}.${value}`;
}

/** `aks_<selector>.<cluster>.<service>`: one per configured selector the Service matches. */
export function selectorTag(selector: string, cluster: string, service: string): string {
  return `aks_${selector}.${cluster}.${service}`;
}
