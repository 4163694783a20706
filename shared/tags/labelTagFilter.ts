/**
 * Which label keys of a cluster become label tags `aks.<cluster>.svc.<key>.<value>`, as globs on
 * label keys. Selectors still match on every label; the filter only decides which labels are tagged.
 */
export interface LabelTagFilter {
  /** A key must match one of these to be tagged; omitted = every key (`[]` = none). */
  include?: readonly string[];
  /** Keys matching one of these are not tagged, even when included. */
  exclude?: readonly string[];
}

const GLOB_CHARACTER = /[A-Za-z0-9._/*-]/;

/** What a glob may hold, for messages. */
export const LABEL_GLOB_RULE =
  'letters, digits, "-", "_", ".", "/" (the characters of label keys) and "*" (any run of characters)';

/**
 * Why `glob` cannot filter label keys, or `undefined` when it can: a glob is a non-empty string of
 * label-key characters and `*`, which matches any run of characters (`/` included, possibly none);
 * everything else is literal and case-sensitive, like label keys.
 *
 * @example labelGlobProblem('app.kubernetes.io/*') // undefined
 * @example labelGlobProblem('') // 'is empty; …'
 */
export function labelGlobProblem(glob: unknown): string | undefined {
  if (typeof glob !== 'string') return `is not a string; expected a glob of ${LABEL_GLOB_RULE}`;
  if (glob === '') return `is empty; expected a glob of ${LABEL_GLOB_RULE}`;
  for (const c of glob) {
    if (!GLOB_CHARACTER.test(c))
      return `contains ${JSON.stringify(c)}, which no label key holds; expected ${LABEL_GLOB_RULE}`;
  }
  return undefined;
}

/** One anchored expression matching any of `globs` (`*` = any run of characters, the rest literal). */
function globsToRegExp(globs: readonly string[]): RegExp {
  const alternatives = globs.map((g) =>
    g
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[\\s\\S]*'),
  );
  return new RegExp(`^(?:${alternatives.join('|')})$`);
}

/**
 * The test a label key must pass to be tagged under `filter` (included — every key when `include`
 * is omitted — and not excluded), or `undefined` when every key passes. Globs are expected valid
 * ({@link labelGlobProblem}).
 *
 * @example labelKeyFilter({ exclude: ['helm.sh/*'] })?.('helm.sh/chart') // false
 */
export function labelKeyFilter(filter: LabelTagFilter | undefined): ((key: string) => boolean) | undefined {
  const include = filter?.include;
  const exclude = filter?.exclude ?? [];
  if (include === undefined && exclude.length === 0) return undefined;
  const included = include === undefined ? undefined : include.length > 0 ? globsToRegExp(include) : null;
  const excluded = exclude.length > 0 ? globsToRegExp(exclude) : undefined;
  return (key) =>
    included !== null &&
    (included === undefined || included.test(key)) &&
    (excluded === undefined || !excluded.test(key));
}
