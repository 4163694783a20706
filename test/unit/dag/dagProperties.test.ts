import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DagExpression } from '../../../shared/dag/DagExpression.js';
import { dagTags } from '../../../shared/dag/dagTags.js';
import { formatDagExpression } from '../../../shared/dag/formatDagExpression.js';
import { matchesDagExpression } from '../../../shared/dag/matchesDagExpression.js';
import { parseDagExpression } from '../../../shared/dag/parseDagExpression.js';
import { selectDagMembers } from '../../../shared/dag/selectDagMembers.js';

/** Tags as PAN-OS allows them in a match: no quotes, no control characters, not a reserved word. */
const tagText = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'aks.aks-a.web', 'aks_web.aks-a.web', 'x y', 'Orange', 'a(b)', 'andy'),
  fc
    .stringMatching(/^[ -~]{1,20}$/)
    .filter((t) => !/['"]/.test(t) && !['and', 'or', 'not'].includes(t.toLowerCase())),
);

/** Any expression tree: n-ary `and` / `or` over two to four operands, as the parser builds them. */
const expression: fc.Arbitrary<DagExpression> = fc.letrec<{ node: DagExpression }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tagText.map((tag) => ({ kind: 'tag' as const, tag })),
    fc.record({
      kind: fc.constantFrom('and' as const, 'or' as const),
      operands: fc.array(tie('node'), { minLength: 2, maxLength: 4 }),
    }),
  ),
})).node;

/** The reference: a match as set algebra over the IPs carrying each tag. */
function referenceMembers(e: DagExpression, ipTags: ReadonlyMap<string, readonly string[]>): Set<string> {
  if (e.kind === 'tag')
    return new Set([...ipTags].filter(([, tags]) => tags.includes(e.tag)).map(([ip]) => ip));
  const sets = e.operands.map((operand) => referenceMembers(operand, ipTags));
  if (e.kind === 'or') return new Set(sets.flatMap((s) => [...s]));
  return new Set([...(sets[0] ?? [])].filter((ip) => sets.every((s) => s.has(ip))));
}

const ipTagMap = fc
  .dictionary(
    fc.ipV4(),
    fc.uniqueArray(fc.oneof(tagText, fc.constantFrom('a', 'b', 'c')), { maxLength: 6 }),
    { maxKeys: 12 },
  )
  .map((o) => new Map(Object.entries(o)));

describe('DAG match properties', () => {
  it('formatting any expression and parsing it back gives the same expression', () => {
    fc.assert(
      fc.property(expression, (e) => {
        const text = formatDagExpression(e);
        fc.pre(text.length <= 2047);
        expect(parseDagExpression(text)).toEqual(e);
      }),
      { numRuns: 500 },
    );
  });

  it('formatting is canonical: extra spaces, parentheses and operator case do not change it', () => {
    const noisy = (e: DagExpression, upper: boolean): string =>
      e.kind === 'tag'
        ? ` ('${e.tag}') `
        : e.operands
            .map((o) => `(${noisy(o, upper)})`)
            .join(upper ? `\t${e.kind.toUpperCase()}\n` : `  ${e.kind} `);
    fc.assert(
      fc.property(expression, fc.boolean(), (e, upper) => {
        const text = noisy(e, upper);
        fc.pre(text.length <= 2047);
        expect(formatDagExpression(parseDagExpression(text))).toBe(formatDagExpression(e));
      }),
      { numRuns: 300 },
    );
  });

  it('evaluation per IP agrees with set algebra over the tags', () => {
    fc.assert(
      fc.property(expression, ipTagMap, (e, ipTags) => {
        expect(selectDagMembers(e, ipTags)).toEqual([...referenceMembers(e, ipTags)].sort());
      }),
      { numRuns: 500 },
    );
  });

  it('an IP that carries every tag of the match is a member; one that carries none is not', () => {
    fc.assert(
      fc.property(expression, (e) => {
        expect(matchesDagExpression(e, new Set(dagTags(e)))).toBe(true);
        expect(matchesDagExpression(e, new Set())).toBe(false);
      }),
    );
  });
});
