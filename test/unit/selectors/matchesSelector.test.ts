import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesSelector } from '../../../shared/selectors/matchesSelector.js';
import { parseLabelSelector } from '../../../shared/selectors/parseLabelSelector.js';

const web = { app: 'web', tier: 'front' };
const none = {};

describe('matchesSelector', () => {
  it.each<[string, Record<string, string> | undefined, boolean]>([
    ['', web, true],
    ['', none, true],
    ['', undefined, true],
    ['app=web', web, true],
    ['app=api', web, false],
    ['app=web', none, false],
    ['app==web', web, true],
    ['app=', { app: '' }, true],
    ['app=', none, false],
    ['app!=web', web, false],
    ['app!=api', web, true],
    ['app!=web', none, true],
    ['app!=web', undefined, true],
    ['app in (api,web)', web, true],
    ['app in (api,db)', web, false],
    ['app in (web)', none, false],
    ['app notin (api,web)', web, false],
    ['app notin (api,db)', web, true],
    ['app notin (web)', none, true],
    ['app', web, true],
    ['app', { app: '' }, true],
    ['app', none, false],
    ['!app', web, false],
    ['!app', none, true],
    ['!canary', web, true],
    ['app=web,tier=front', web, true],
    ['app=web,tier=back', web, false],
    ['app=web,tier in (front),!canary', web, true],
    ['App=web', web, false],
    ['app=Web', web, false],
    ['constructor', none, false],
    ['toString', { toString: 'x' }, true],
    ['!hasOwnProperty', none, true],
    ['n>3', { n: '4' }, true],
    ['n>3', { n: '3' }, false],
    ['n<3', { n: '2' }, true],
    ['n<3', { n: '3' }, false],
    ['n>3', { n: '04' }, true],
    ['n>3', none, false],
    ['n<3', none, false],
    ['n<3', undefined, false],
    ['n>3', { n: 'four' }, false],
    ['n<3', { n: '' }, false],
    ['n<3', { n: '2.5' }, false],
    ['n<3', { n: ' 2' }, false],
    ['n<3', { n: '-5' }, true],
    ['n>3', { n: '+5' }, true],
    ['n>0', { n: '9223372036854775807' }, true],
    ['n>0', { n: '9223372036854775808' }, false],
    ['n<0', { n: '-9223372036854775808' }, true],
    ['n<0', { n: '-9223372036854775809' }, false],
    ['n>9007199254740992', { n: '9007199254740993' }, true],
    ['n>3,n<5', { n: '4' }, true],
    ['n>3,n<5', { n: '5' }, false],
    ['!n,m<1', { m: '0' }, true],
  ])('%j on %j → %s', (text, labels, expected) => {
    expect(matchesSelector(parseLabelSelector(text), labels)).toBe(expected);
  });
});

describe('matchesSelector: > and < on 64-bit integers', () => {
  const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  const bound = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n });

  it('compares a label value with the bound exactly, beyond 2^53 too', () => {
    fc.assert(
      fc.property(int64, bound, fc.constantFrom('>' as const, '<' as const), (value, limit, op) => {
        const matches = matchesSelector(parseLabelSelector(`n${op}${limit}`), { n: String(value) });
        expect(matches).toBe(op === '>' ? value > limit : value < limit);
      }),
      { numRuns: 500 },
    );
  });

  it('never matches a label value outside the 64-bit range', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 2n ** 63n, max: 2n ** 70n }),
        fc.boolean(),
        bound,
        (big, negative, limit) => {
          const value = String(negative ? -big - 1n : big);
          expect(matchesSelector(parseLabelSelector(`n>${limit}`), { n: value })).toBe(false);
          expect(matchesSelector(parseLabelSelector(`n<${limit}`), { n: value })).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
