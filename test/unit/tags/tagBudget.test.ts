import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutToBudget, type LabelOrigin } from '../../../shared/tags/tagBudget.js';
import { labelTag, namespaceTag, selectorTag, serviceTag } from '../../../shared/tags/tagGrammar.js';

const C = 'c1';

/** Label tags of `labels` with their origins. */
function labelled(labels: [string, string][]): {
  tags: string[];
  origin: (t: string) => LabelOrigin | undefined;
} {
  const origins = new Map(labels.map(([key, value]) => [labelTag(C, key, value), { key, value }]));
  return { tags: [...origins.keys()], origin: (t) => origins.get(t) };
}

const none = () => undefined;

describe('cutToBudget', () => {
  it('leaves tags within the budget alone', () => {
    const tags = ['aks.c1.svc.a.1', 'aks.c1.web'];
    expect(cutToBudget(tags, 2, none)).toEqual({ kept: tags, dropped: [] });
    expect(cutToBudget(tags, 32, none)).toEqual({ kept: tags, dropped: [] });
  });

  it('keeps Service, then namespace, then selector, then label tags', () => {
    const { tags: labels, origin } = labelled([['app', 'web']]);
    const tags = [
      ...labels,
      selectorTag('web', C, 'web'),
      namespaceTag(C, 'shop'),
      serviceTag(C, 'web'),
    ].sort();
    const keep = (n: number) => cutToBudget(tags, n, origin).kept;
    expect(keep(1)).toEqual(['aks.c1.web']);
    expect(keep(2)).toEqual(['aks.c1.ns.shop', 'aks.c1.web']);
    expect(keep(3)).toEqual(['aks.c1.ns.shop', 'aks.c1.web', 'aks_web.c1.web']);
    expect(cutToBudget(tags, 3, origin).dropped).toEqual(['aks.c1.svc.app.web']);
  });

  it('keeps Service tags in code-unit order when even they exceed the budget', () => {
    const tags = ['aks.c1.b', 'aks.c1.a', 'aks.c1.C'].sort();
    expect(cutToBudget(tags, 2, none)).toEqual({ kept: ['aks.c1.C', 'aks.c1.a'], dropped: ['aks.c1.b'] });
  });

  it.each<[string, [string, string][], [string, string][]]>([
    [
      'by key before value, though the tag text sorts the other way ("a.b.c" < "a.z")',
      [
        ['a', 'z'],
        ['a.b', 'c'],
      ],
      [['a', 'z']],
    ],
    [
      'by key before value, though "-" sorts before "." in the tag text',
      [
        ['a-b', 'x'],
        ['a', 'x'],
      ],
      [['a', 'x']],
    ],
    [
      'by value within one key',
      [
        ['tier', 'front'],
        ['tier', 'back'],
      ],
      [['tier', 'back']],
    ],
    [
      'keys in code-unit order (upper case first)',
      [
        ['b', '1'],
        ['Z', '1'],
        ['a', '1'],
      ],
      [
        ['Z', '1'],
        ['a', '1'],
      ],
    ],
  ])('orders label tags %s', (_name, labels, kept) => {
    const { tags, origin } = labelled(labels);
    const budget = kept.length;
    const result = cutToBudget(tags.sort(), budget, origin);
    expect(result.kept).toEqual(kept.map(([k, v]) => labelTag(C, k, v)).sort());
    expect(result.dropped).toHaveLength(labels.length - budget);
  });

  const entry = (tag: string, origin?: LabelOrigin) => ({ tag, origin });
  const PART = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,6}$/);
  const TAGS = fc
    .uniqueArray(
      fc.oneof(
        PART.map((s) => entry(serviceTag(C, s.replaceAll('.', '-')))),
        PART.map((ns) => entry(namespaceTag(C, ns.replaceAll('.', '-')))),
        fc.tuple(PART, PART).map(([sel, s]) => entry(selectorTag(sel.replaceAll('.', '-'), C, s))),
        fc.tuple(PART, PART).map(([key, value]) => entry(labelTag(C, key, value), { key, value })),
      ),
      { selector: (t) => t.tag, maxLength: 40 },
    )
    .map((entries) => ({
      tags: entries.map((e) => e.tag).sort(),
      origin: (t: string) => entries.find((e) => e.tag === t)?.origin,
    }));
  const priority = (t: string) => {
    if (t.startsWith('aks_')) return 2;
    if (t.startsWith('aks.c1.svc.')) return 3;
    return t.startsWith('aks.c1.ns.') ? 1 : 0;
  };

  it('never keeps more than the budget, loses no tag, and never drops a tag of higher priority than one kept', () => {
    fc.assert(
      fc.property(TAGS, fc.integer({ min: 1, max: 32 }), ({ tags, origin }, budget) => {
        const { kept, dropped } = cutToBudget(tags, budget, origin);
        expect(kept.length).toBe(Math.min(budget, tags.length));
        expect([...kept, ...dropped].sort()).toEqual(tags);
        expect(dropped).toEqual([...dropped].sort());
        expect(kept).toEqual(tags.filter((t) => kept.includes(t)));
        const worstKept = Math.max(...kept.map(priority));
        for (const d of dropped) expect(priority(d)).toBeGreaterThanOrEqual(worstKept);
      }),
      { numRuns: 300 },
    );
  });

  it('cuts the same way whatever the order of the tags it is given', () => {
    fc.assert(
      fc.property(
        TAGS.chain(({ tags, origin }) =>
          fc
            .shuffledSubarray(tags, { minLength: tags.length, maxLength: tags.length })
            .map((shuffled) => ({ tags, shuffled, origin })),
        ),
        fc.integer({ min: 1, max: 32 }),
        ({ tags, shuffled, origin }, budget) => {
          const sorted = cutToBudget(tags, budget, origin);
          const other = cutToBudget(shuffled, budget, origin);
          expect([...other.kept].sort()).toEqual(sorted.kept);
          expect(other.dropped).toEqual(sorted.dropped);
        },
      ),
      { numRuns: 200 },
    );
  });
});
