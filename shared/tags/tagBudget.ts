import { quoteList } from './quoteForMessage.js';
import type { TagIssue } from './TagIssue.js';
import { MAX_TAGS_PER_IP, parseTag, type TagForm } from './tagGrammar.js';

/** The label a label tag was made of. */
export interface LabelOrigin {
  key: string;
  value: string;
}

/** Tags an IP would have had beyond its budget, left out by `computeIpTags`. */
export interface TagCut {
  ip: string;
  /** `namespace/name` of every eligible Service with this IP, in code-unit order. */
  services: string[];
  /** The tags left out, in code-unit order. */
  dropped: string[];
}

/** What {@link applyTagBudget} reads of a tag run (`shared/tags/computeIpTags.ts`). */
export interface BudgetFacts {
  cluster: string;
  /** `in cluster <cluster>`, for messages. */
  where: string;
  budget: number;
  /** Label key → value → fitted tag (other entries are refusals); `null` for a filtered key. */
  labelCache: ReadonlyMap<string, ReadonlyMap<string, unknown> | null>;
}

/** Keep priority of each tag form: lower is kept first. */
const FORM_PRIORITY: Record<TagForm, number> = { service: 0, namespace: 1, selector: 2, label: 3 };

interface Ranked {
  tag: string;
  priority: number;
  key: string;
  value: string;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function rank(tag: string, labelOrigin: (tag: string) => LabelOrigin | undefined): Ranked {
  const form = parseTag(tag)?.form;
  const origin = form === 'label' ? labelOrigin(tag) : undefined;
  return {
    tag,
    priority: form === undefined ? 4 : FORM_PRIORITY[form],
    key: origin?.key ?? '',
    value: origin?.value ?? '',
  };
}

function compareRanked(a: Ranked, b: Ranked): number {
  return (
    a.priority - b.priority ||
    compareText(a.key, b.key) ||
    compareText(a.value, b.value) ||
    compareText(a.tag, b.tag)
  );
}

/**
 * The tags of one IP cut to `budget`, keeping in this order: Service tags, namespace tags, selector
 * tags (each in code-unit order), then label tags by label key, then value (code-unit order;
 * `labelOrigin` gives the label of a label tag, since a key and a value may both hold dots). The
 * order depends on the tags alone, so the same tags always give the same cut. `kept` keeps the
 * order of `tags`; `dropped` is in code-unit order.
 *
 * @example cutToBudget(['aks.c.svc.a.1', 'aks.c.web', 'aks_s.c.web'], 2, origins) // kept: ['aks.c.web', 'aks_s.c.web']
 */
export function cutToBudget(
  tags: readonly string[],
  budget: number,
  labelOrigin: (tag: string) => LabelOrigin | undefined,
): { kept: string[]; dropped: string[] } {
  if (tags.length <= budget) return { kept: [...tags], dropped: [] };
  const ranked = tags.map((t) => rank(t, labelOrigin)).sort(compareRanked);
  const keep = new Set(ranked.slice(0, budget).map((r) => r.tag));
  return {
    kept: tags.filter((t) => keep.has(t)),
    dropped: tags.filter((t) => !keep.has(t)).sort(),
  };
}

/** Label tag → the label it was made of (the least key and value when several give one tag). */
function labelOrigins(facts: BudgetFacts): Map<string, LabelOrigin> {
  const origins = new Map<string, LabelOrigin>();
  for (const [key, byValue] of facts.labelCache) {
    for (const [value, tag] of byValue ?? []) {
      if (typeof tag !== 'string') continue;
      const seen = origins.get(tag);
      if (seen === undefined || key < seen.key || (key === seen.key && value < seen.value))
        origins.set(tag, { key, value });
    }
  }
  return origins;
}

/**
 * Cuts every IP of `byIp` (IP → sorted unique tags, replaced in place) with more tags than
 * `facts.budget` by {@link cutToBudget}; returns one {@link TagCut} per IP cut, by IP.
 * `servicesOn` gives the Services of the IPs cut (called once, only when some are).
 */
export function applyTagBudget(
  facts: BudgetFacts,
  byIp: Map<string, string[]>,
  servicesOn: (ips: ReadonlySet<string>) => ReadonlyMap<string, string[]>,
): TagCut[] {
  const over: string[] = [];
  for (const [ip, tags] of byIp) if (tags.length > facts.budget) over.push(ip);
  if (over.length === 0) return [];
  over.sort();
  const services = servicesOn(new Set(over));
  const origins = labelOrigins(facts);
  return over.map((ip) => {
    const { kept, dropped } = cutToBudget(byIp.get(ip) as string[], facts.budget, (t) => origins.get(t));
    byIp.set(ip, kept);
    return { ip, services: services.get(ip) ?? [], dropped };
  });
}

/** The warning for one {@link TagCut}: the IP, its Services and the tags not registered. */
export function cutWarning(facts: BudgetFacts, cut: TagCut): TagIssue {
  const { ip, services, dropped } = cut;
  const hint =
    facts.budget < MAX_TAGS_PER_IP
      ? `raise maxTagsPerIp or MAX_TAGS_PER_IP (at most ${MAX_TAGS_PER_IP}) or leave labels out with labelTags`
      : 'leave labels out with labelTags';
  const one = services.length === 1;
  return {
    severity: 'warning',
    kind: 'over-budget',
    cluster: facts.cluster,
    ip,
    ...(one ? { service: services[0] } : {}),
    message: `IP ${ip} of Service${one ? '' : 's'} ${quoteList(services, 10)} ${facts.where} has ${facts.budget + dropped.length} tags, more than its budget of ${facts.budget}; not registered: ${quoteList(dropped, 20)} (kept first: Service, namespace and selector tags, then label tags by key; ${hint})`,
  };
}
