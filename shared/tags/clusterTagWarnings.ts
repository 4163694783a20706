import type { NamedSelector } from '../config/loadConfig.js';
import { quoteForMessage as q, quoteList } from './quoteForMessage.js';
import type { TagIssue } from './TagIssue.js';
import { serviceTag } from './tagGrammar.js';

/** What the warnings about a whole cluster read of a tag run (`shared/tags/computeIpTags.ts`). */
export interface ClusterTagFacts {
  cluster: string;
  /** `in cluster <cluster>`, for messages. */
  where: string;
  namespaceTags: boolean;
  selectors: readonly NamedSelector[];
  /** Per selector (same index), whether it matched a Service. */
  matched: readonly boolean[];
  /** How many Services the selectors were checked against (those tagged with usable labels). */
  checked: number;
  /** Service name → its namespaces, for the names whose Service tag was produced in several. */
  sharedNames: ReadonlyMap<string, ReadonlySet<string>>;
  /** Full tag → shortened tag. */
  shortened: ReadonlyMap<string, string>;
}

/**
 * One warning per Service tag `aks.<cluster>.<service>` that stands for Services of several
 * namespaces (a policy matching it matches them all), naming the namespaces and the fix; whatever
 * `namespaceTags` is, by Service name.
 */
export function sharedServiceTagWarnings(facts: ClusterTagFacts): TagIssue[] {
  const { cluster } = facts;
  const fix = facts.namespaceTags
    ? `match it together with aks.${cluster}.ns.<namespace>, or give the Services distinct names`
    : `enable namespaceTags for the cluster and match it together with aks.${cluster}.ns.<namespace>, or give the Services distinct names`;
  return [...facts.sharedNames.keys()].sort().map((name) => {
    const full = serviceTag(cluster, name);
    const namespaces = [...(facts.sharedNames.get(name) ?? [])].sort();
    return {
      severity: 'warning',
      kind: 'shared-service-tag',
      cluster,
      message: `tag ${q(facts.shortened.get(full) ?? full)} ${facts.where} stands for the Services ${q(name)} of ${namespaces.length} namespaces (${quoteList(namespaces, 20)}), so a policy matching it matches all of them; ${fix}`,
    };
  });
}

/**
 * One warning per configured selector that matched none of the Services it was checked against,
 * when there was at least one (a cluster without eligible Services proves nothing about its
 * selectors), in configuration order.
 */
export function unmatchedSelectorWarnings(facts: ClusterTagFacts): TagIssue[] {
  const { cluster, checked } = facts;
  if (checked === 0) return [];
  const services = `${checked} Service${checked === 1 ? '' : 's'}`;
  return facts.selectors
    .filter((_, i) => !facts.matched[i])
    .map((s) => ({
      severity: 'warning',
      kind: 'unmatched-selector',
      cluster,
      selector: s.name,
      message: `selector ${q(s.name)} (${q(s.source)}) ${facts.where} matches none of the ${services} it was checked against, so no aks_${s.name}.${cluster}.* tag is produced; check its keys and values against the Services' labels`,
    }));
}
