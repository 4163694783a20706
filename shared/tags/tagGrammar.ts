/**
 * The tag grammar, in one place: the owned prefixes, the four tag forms, how a tag is read back
 * to the cluster that owns it, the rule for cluster and selector names, the length budget that
 * `shared/tags/shortenTag.ts` and the configuration check (`shared/config/loadConfig.ts`) share,
 * and the per-IP tag budget.
 *
 * - `aks.<cluster>.<service>`: every eligible Service;
 * - `aks.<cluster>.ns.<namespace>`: the Service's namespace, when the cluster enables `namespaceTags`;
 * - `aks.<cluster>.svc.<label>.<value>`: one per label of the Service (as the label filter allows);
 * - `aks_<selector>.<cluster>.<service>`: one per configured selector the Service matches.
 *
 * Cluster and selector names contain no dots, so the owner segment of a tag is exact; Service names
 * contain no dots either, so `aks.<cluster>.ns.…` and `aks.<cluster>.svc.…` never name a Service.
 */

const SERVICE_PREFIX = 'aks.';
const SELECTOR_PREFIX = 'aks_';
const LABEL_MARK = 'svc.';
const NAMESPACE_MARK = 'ns.';

/** The owned-tag prefixes: the service only ever unregisters tags starting with one of these. */
export const OWNED_TAG_PREFIXES = [SERVICE_PREFIX, SELECTOR_PREFIX] as const;

/** The longest tag PAN-OS accepts. */
export const MAX_TAG_LENGTH = 127;

/** Length of the suffix a shortened tag ends with: `-` and 8 hex digits. */
export const TAG_HASH_SUFFIX_LENGTH = 9;

/** How many leading characters of a tag longer than {@link MAX_TAG_LENGTH} are kept (118). */
export const KEPT_TAG_LENGTH = MAX_TAG_LENGTH - TAG_HASH_SUFFIX_LENGTH;

/** The most tags PAN-OS holds for one registered IP, and the default tag budget per IP. */
export const MAX_TAGS_PER_IP = 32;

/** The rule for a tag budget, for messages. */
export const TAG_BUDGET_RULE = `an integer from 1 to ${MAX_TAGS_PER_IP}`;

/** Whether `n` may be a tag budget per IP: an integer from 1 to {@link MAX_TAGS_PER_IP}. */
export function isTagBudget(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_TAGS_PER_IP;
}

/** `aks.<cluster>.<service>`: every eligible Service. Parts are concatenated as they are. */
export function serviceTag(cluster: string, service: string): string {
  return `${SERVICE_PREFIX}${cluster}.${service}`;
}

/** `aks.<cluster>.ns.<namespace>`: the namespace of the Service, when the cluster enables it. */
export function namespaceTag(cluster: string, namespace: string): string {
  return `${SERVICE_PREFIX}${cluster}.${NAMESPACE_MARK}${namespace}`;
}

/** `aks.<cluster>.svc.<label>.<value>`: one per label of the Service. */
export function labelTag(cluster: string, key: string, value: string): string {
  return `${SERVICE_PREFIX}${cluster}.${LABEL_MARK}${key}.${value}`;
}

/** `aks_<selector>.<cluster>.<service>`: one per configured selector the Service matches. */
export function selectorTag(selector: string, cluster: string, service: string): string {
  return `${SELECTOR_PREFIX}${selector}.${cluster}.${service}`;
}

/** Which of the four forms a tag has. */
export type TagForm = 'service' | 'namespace' | 'label' | 'selector';

/** A tag read back by {@link parseTag}. */
export type ParsedTag =
  | { form: 'service' | 'namespace' | 'label'; cluster: string }
  | { form: 'selector'; selector: string; cluster: string };

/** The non-empty text from `start` up to the next dot, and the index after that dot. */
function segment(tag: string, start: number): { text: string; next: number } | undefined {
  const end = tag.indexOf('.', start);
  return end > start ? { text: tag.slice(start, end), next: end + 1 } : undefined;
}

/**
 * The form and owner cluster of `tag`, or undefined when it is not one of ours. The owner segment
 * must be followed by a dot (`aks.c` has no owner). Shortened tags parse like their full form as
 * long as the owner survived the cut, which {@link selectorBudgetProblem} guarantees. A Service
 * name holds no dot, so `aks.<cluster>.svc.…` is always a label tag and `aks.<cluster>.ns.…`
 * always a namespace tag.
 *
 * @example parseTag('aks_web.aks-a.checkout') // { form: 'selector', selector: 'web', cluster: 'aks-a' }
 */
export function parseTag(tag: string): ParsedTag | undefined {
  if (tag.startsWith(SERVICE_PREFIX)) {
    const owner = segment(tag, SERVICE_PREFIX.length);
    if (owner === undefined) return undefined;
    const form = tag.startsWith(LABEL_MARK, owner.next)
      ? 'label'
      : tag.startsWith(NAMESPACE_MARK, owner.next)
        ? 'namespace'
        : 'service';
    return { form, cluster: owner.text };
  }
  if (!tag.startsWith(SELECTOR_PREFIX)) return undefined;
  const selector = segment(tag, SELECTOR_PREFIX.length);
  const owner = selector && segment(tag, selector.next);
  return owner ? { form: 'selector', selector: selector.text, cluster: owner.text } : undefined;
}

/** The cluster `tag` belongs to (as written in the tag), or undefined when the tag is not one of ours. */
export function ownerClusterOfTag(tag: string): string | undefined {
  return parseTag(tag)?.cluster;
}

/** True when `tag` is one of ours and belongs to one of `managed` (lower-case cluster names). */
export function isOwnedBy(tag: string, managed: ReadonlySet<string>): boolean {
  const owner = ownerClusterOfTag(tag);
  return owner !== undefined && managed.has(owner.toLowerCase());
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const NAME_RULE = '1-63 letters, digits, "-" or "_", starting with a letter or digit';

/** Whether `name` may name a cluster in tags: 1–63 letters, digits, `-` or `_`, starting with a letter or digit. */
export function isClusterName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

/** Whether `name` may name a selector in tags (the same rule as {@link isClusterName}). */
export function isSelectorName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

/** The message for a name refused by {@link isClusterName}; `shown` is the name, already quoted. */
export function invalidClusterNameMessage(shown: string): string {
  return `invalid cluster name ${shown}: expected ${NAME_RULE}`;
}

/**
 * The message for a name refused by {@link isSelectorName}; `shown` is the name, already quoted,
 * and `noun` how the caller calls it (the CLI says `--selector name`).
 */
export function invalidSelectorNameMessage(shown: string, noun = 'selector name'): string {
  return `invalid ${noun} ${shown}: expected ${NAME_RULE}`;
}

/**
 * Why selector tags of `selector` in `cluster` would lose their owner when shortened (the owner
 * segment and its dot must fit in the {@link KEPT_TAG_LENGTH} kept characters), or undefined when
 * they keep it. Service, namespace and label tags always keep it: their owner ends by character 68.
 */
export function selectorBudgetProblem(selector: string, cluster: string): string | undefined {
  if (selectorTag(selector, cluster, '').length <= KEPT_TAG_LENGTH) return undefined;
  const names = KEPT_TAG_LENGTH - selectorTag('', '', '').length;
  return `selector and cluster names together exceed ${names} characters, so shortened tags would lose the cluster name`;
}
