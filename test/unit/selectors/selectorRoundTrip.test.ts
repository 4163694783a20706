import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLabelSelector } from '../../../shared/selectors/formatLabelSelector.js';
import {
  type LabelSelector,
  parseLabelSelector,
  type SelectorRequirement,
} from '../../../shared/selectors/parseLabelSelector.js';

const namePart = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/),
  fc.constantFrom('in', 'notin', 'app', 'a'),
);
const prefix = fc.stringMatching(
  /^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?){0,3}$/,
);
const key = fc.tuple(fc.option(prefix, { nil: undefined }), namePart).map(([p, n]) => (p ? `${p}/${n}` : n));
const value = fc.oneof(fc.constant(''), namePart);
const sortedValues = fc.uniqueArray(value, { minLength: 1, maxLength: 4 }).map((v) => [...v].sort());
/** Non-negative 64-bit integers as label values may spell them, leading zeros included. */
const integerValue = fc
  .tuple(fc.nat(3), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }))
  .map(([zeros, n]) => `${'0'.repeat(zeros)}${n}`);

const requirement: fc.Arbitrary<SelectorRequirement> = fc.oneof(
  fc.record({ key, operator: fc.constantFrom('=' as const, '!=' as const), values: value.map((v) => [v]) }),
  fc.record({ key, operator: fc.constantFrom('in' as const, 'notin' as const), values: sortedValues }),
  fc.record({
    key,
    operator: fc.constantFrom('exists' as const, 'doesnotexist' as const),
    values: fc.constant<string[]>([]),
  }),
  fc.record({
    key,
    operator: fc.constantFrom('>' as const, '<' as const),
    values: integerValue.map((v) => [v]),
  }),
);

/** Canonical selectors: requirements stably sorted by key, as the parser returns them. */
const selector: fc.Arbitrary<LabelSelector> = fc
  .array(requirement, { maxLength: 6 })
  .map((rs) => ({ requirements: [...rs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) }));

const space = fc.constantFrom('', ' ', '  ', '\t', '\n');

/** A valid but untidy spelling of `r`: random whitespace, `==` for `=`, values in any order. */
function noisy(r: SelectorRequirement, s: string[], useDoubleEquals: boolean): string {
  const w = (i: number) => s[i % s.length] ?? '';
  switch (r.operator) {
    case 'exists':
      return `${w(0)}${r.key}${w(1)}`;
    case 'doesnotexist':
      return `${w(0)}!${w(1)}${r.key}${w(2)}`;
    case '=':
      return `${w(0)}${r.key}${w(1)}${useDoubleEquals ? '==' : '='}${w(2)}${r.values[0]}${w(3)}`;
    case '!=':
    case '>':
    case '<':
      return `${w(0)}${r.key}${w(1)}${r.operator}${w(2)}${r.values[0]}${w(3)}`;
    default:
      return `${w(0)}${r.key} ${w(1)}${r.operator}${w(2)}(${w(3)}${[...r.values].reverse().join(`${w(4)},${w(5)}`)}${w(6)})${w(7)}`;
  }
}

describe('label selector round trips', () => {
  it('parse(format(x)) equals x for generated selectors', () => {
    fc.assert(
      fc.property(selector, (x) => {
        expect(parseLabelSelector(formatLabelSelector(x))).toEqual(x);
      }),
      { numRuns: 500 },
    );
  });

  it('untidy spellings parse to the same selector as the canonical one', () => {
    fc.assert(
      fc.property(
        selector,
        fc.array(space, { minLength: 8, maxLength: 8 }),
        fc.boolean(),
        (x, spaces, dbl) => {
          const text = x.requirements.map((r) => noisy(r, spaces, dbl)).join(',');
          expect(parseLabelSelector(text)).toEqual(x);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('format is a fixed point: format(parse(format(x))) equals format(x)', () => {
    fc.assert(
      fc.property(selector, (x) => {
        const once = formatLabelSelector(x);
        expect(formatLabelSelector(parseLabelSelector(once))).toBe(once);
      }),
    );
  });
});
