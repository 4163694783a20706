import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLabelKey, checkLabelValue } from '../../../shared/selectors/checkLabelSyntax.js';
import { shortenTag } from '../../../shared/tags/shortenTag.js';
import {
  invalidClusterNameMessage,
  invalidSelectorNameMessage,
  isClusterName,
  isOwnedBy,
  isSelectorName,
  isTagBudget,
  KEPT_TAG_LENGTH,
  labelTag,
  MAX_TAG_LENGTH,
  MAX_TAGS_PER_IP,
  namespaceTag,
  OWNED_TAG_PREFIXES,
  ownerClusterOfTag,
  type ParsedTag,
  parseTag,
  selectorBudgetProblem,
  selectorTag,
  serviceTag,
  TAG_HASH_SUFFIX_LENGTH,
} from '../../../shared/tags/tagGrammar.js';

describe('length budget and prefixes', () => {
  it('allows 127 characters and keeps 118 before "-" and 8 hex digits', () => {
    expect(MAX_TAG_LENGTH).toBe(127);
    expect(KEPT_TAG_LENGTH).toBe(118);
    expect(TAG_HASH_SUFFIX_LENGTH).toBe(9);
    expect(OWNED_TAG_PREFIXES).toEqual(['aks.', 'aks_']);
  });

  it('allows 32 tags per IP (PAN-OS registered-ip limit) and budgets of 1 to 32', () => {
    expect(MAX_TAGS_PER_IP).toBe(32);
    for (const ok of [1, 2, 16, 32]) expect(isTagBudget(ok)).toBe(true);
    for (const bad of [0, -1, 33, 1.5, Number.NaN, '8', null, undefined])
      expect(isTagBudget(bad)).toBe(false);
  });
});

describe('namespaceTag', () => {
  it('formats aks.<cluster>.ns.<namespace>', () => {
    expect(namespaceTag('aks-a', 'shop')).toBe('aks.aks-a.ns.shop');
  });
});

describe('parseTag', () => {
  it.each<[string, ParsedTag | undefined]>([
    ['aks.aks-a.web', { form: 'service', cluster: 'aks-a' }],
    ['aks.aks-a.svc', { form: 'service', cluster: 'aks-a' }],
    ['aks.aks-a.svc-x', { form: 'service', cluster: 'aks-a' }],
    ['aks.aks-a.svc.app.web', { form: 'label', cluster: 'aks-a' }],
    ['aks.aks-a.svc.app.kubernetes.io/name.v1.2', { form: 'label', cluster: 'aks-a' }],
    ['aks.aks-a.svc.empty.', { form: 'label', cluster: 'aks-a' }],
    ['aks.aks-a.ns.shop', { form: 'namespace', cluster: 'aks-a' }],
    ['aks.aks-a.ns.svc', { form: 'namespace', cluster: 'aks-a' }],
    ['aks.aks-a.ns.', { form: 'namespace', cluster: 'aks-a' }],
    ['aks.aks-a.ns', { form: 'service', cluster: 'aks-a' }],
    ['aks.aks-a.ns-web', { form: 'service', cluster: 'aks-a' }],
    ['aks.aks-a.nsx.y', { form: 'service', cluster: 'aks-a' }],
    ['aks.AKS-A.web', { form: 'service', cluster: 'AKS-A' }],
    ['aks_web.aks-a.checkout', { form: 'selector', selector: 'web', cluster: 'aks-a' }],
    ['aks_aks-b.aks-a.checkout', { form: 'selector', selector: 'aks-b', cluster: 'aks-a' }],
    ['aks.aks-a.', { form: 'service', cluster: 'aks-a' }],
    ['aks.', undefined],
    ['aks.aks-a', undefined],
    ['aks..x', undefined],
    ['aks_web', undefined],
    ['aks_web.aks-a', undefined],
    ['aks_web..x', undefined],
    ['aks_.aks-a.x', undefined],
    ['azure.vm-name.x', undefined],
    ['aksx.a.b', undefined],
    ['AKS.a.b', undefined],
    ['', undefined],
  ])('%j → %j', (tag, parsed) => {
    expect(parseTag(tag)).toEqual(parsed);
    expect(ownerClusterOfTag(tag)).toBe(parsed?.cluster);
  });
});

describe('isOwnedBy', () => {
  it.each([
    ['aks.a.web', ['a'], true],
    ['aks.A.web', ['a'], true],
    ['aks.a-b.web', ['a'], false],
    ['aks.a.web', ['a-b'], false],
    ['aks_a.a-b.web', ['a'], false],
    ['aks_a-b.a.web', ['a'], true],
    ['aks.a', ['a'], false],
    ['owner.a.web', ['a'], false],
    ['aks.a.web', [], false],
  ])('%j owned by %j: %s', (tag, managed, owned) => {
    expect(isOwnedBy(tag, new Set(managed))).toBe(owned);
  });
});

describe('name rules', () => {
  it.each(['a', 'A', '0', 'aks-prod-1', 'aks_prod', 'a-', 'x'.repeat(63)])('accepts %j', (name) => {
    expect(isClusterName(name)).toBe(true);
    expect(isSelectorName(name)).toBe(true);
  });

  it.each(['', '-a', '_a', 'a.b', 'a b', "w'", 'a/b', 'ä', 'x'.repeat(64), 42, undefined, null])(
    'refuses %j',
    (name) => {
      expect(isClusterName(name)).toBe(false);
      expect(isSelectorName(name)).toBe(false);
    },
  );

  it('says the rule in one message per kind of name', () => {
    const rule = '1-63 letters, digits, "-" or "_", starting with a letter or digit';
    expect(invalidClusterNameMessage('"a b"')).toBe(`invalid cluster name "a b": expected ${rule}`);
    expect(invalidSelectorNameMessage('"a.b"')).toBe(`invalid selector name "a.b": expected ${rule}`);
    expect(invalidSelectorNameMessage('"a.b"', '--selector name')).toBe(
      `invalid --selector name "a.b": expected ${rule}`,
    );
  });
});

describe('selectorBudgetProblem', () => {
  it.each([
    ['s', 'c', undefined],
    ['s'.repeat(56), 'c'.repeat(56), undefined],
    ['s'.repeat(56), 'c'.repeat(57), 'exceed 112 characters'],
    ['s'.repeat(63), 'c'.repeat(63), 'exceed 112 characters'],
  ])('%j in %j: %s', (selector, cluster, problem) => {
    const got = selectorBudgetProblem(selector, cluster);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });
});

const NAME = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/);
/** Names of 49–63 characters: a selector and a cluster of these straddle the 112-character budget. */
const LONG_NAME = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{48,62}$/);
const SERVICE = fc.stringMatching(/^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/);
const LABEL_PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const DNS_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?){0,8}$/;
const LABEL_KEY = fc
  .tuple(fc.option(fc.stringMatching(DNS_PREFIX), { nil: undefined }), fc.stringMatching(LABEL_PART))
  .map(([prefix, name]) => (prefix === undefined ? name : `${prefix}/${name}`))
  .filter((key) => checkLabelKey(key) === undefined);
const LABEL_VALUE = fc
  .oneof(fc.constant(''), fc.stringMatching(LABEL_PART))
  .filter((v) => checkLabelValue(v) === undefined);

/** A tag of any form of `cluster`, with the parse it must give. */
function anyTagOf(cluster: string): fc.Arbitrary<{ tag: string; parsed: ParsedTag }> {
  return fc.oneof(
    SERVICE.map((s) => ({ tag: serviceTag(cluster, s), parsed: { form: 'service', cluster } as const })),
    SERVICE.map((ns) => ({
      tag: namespaceTag(cluster, ns),
      parsed: { form: 'namespace', cluster } as const,
    })),
    fc.tuple(LABEL_KEY, LABEL_VALUE).map(([k, v]) => ({
      tag: labelTag(cluster, k, v),
      parsed: { form: 'label', cluster } as const,
    })),
    fc
      .tuple(NAME, SERVICE)
      .filter(([sel]) => selectorBudgetProblem(sel, cluster) === undefined)
      .map(([sel, s]) => ({
        tag: selectorTag(sel, cluster, s),
        parsed: { form: 'selector', selector: sel, cluster } as const,
      })),
  );
}

/** Two clusters whose lower-case names differ, often one a prefix of the other (`a` and `a-b`). */
const TAIL = fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/);
const TWO_CLUSTERS: fc.Arbitrary<[string, string]> = fc
  .oneof(
    fc.tuple(NAME, NAME),
    fc.tuple(NAME, TAIL).map(([a, tail]): [string, string] => [a, `${a}${tail}`.slice(0, 63)]),
    fc.tuple(NAME, TAIL).map(([a, tail]): [string, string] => [`${a}${tail}`.slice(0, 63), a]),
  )
  .filter(([a, b]) => a.toLowerCase() !== b.toLowerCase());

describe('tag grammar properties', () => {
  it('format → parse gives back the cluster and form, also after shortening', () => {
    fc.assert(
      fc.property(
        NAME.chain((c) => anyTagOf(c)),
        ({ tag, parsed }) => {
          expect(parseTag(tag)).toEqual(parsed);
          expect(parseTag(shortenTag(tag))).toEqual(parsed);
          expect(isOwnedBy(shortenTag(tag), new Set([parsed.cluster.toLowerCase()]))).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never attributes a tag of one cluster to another', () => {
    fc.assert(
      fc.property(
        TWO_CLUSTERS.chain(([mine, other]) => anyTagOf(other).map((t) => ({ mine, tag: t.tag }))),
        ({ mine, tag }) => {
          for (const t of [tag, shortenTag(tag)]) {
            expect(ownerClusterOfTag(t)?.toLowerCase()).not.toBe(mine.toLowerCase());
            expect(isOwnedBy(t, new Set([mine.toLowerCase()]))).toBe(false);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('the config budget is exactly the one shortening keeps the owner within', () => {
    fc.assert(
      fc.property(
        fc.oneof(NAME, LONG_NAME),
        fc.oneof(NAME, LONG_NAME),
        SERVICE,
        (selector, cluster, service) => {
          const long = selectorTag(selector, cluster, `${service}${'x'.repeat(MAX_TAG_LENGTH)}`);
          const keepsOwner = parseTag(shortenTag(long))?.cluster === cluster;
          expect(selectorBudgetProblem(selector, cluster) === undefined).toBe(keepsOwner);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
