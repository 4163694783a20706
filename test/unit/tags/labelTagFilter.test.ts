import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type LabelTagFilter,
  labelGlobProblem,
  labelKeyFilter,
} from '../../../shared/tags/labelTagFilter.js';

describe('labelGlobProblem', () => {
  it.each(['app', '*', 'app.kubernetes.io/*', '*/version', 'helm.sh/chart', 'a*b*c', 'App_1-x.y/z'])(
    'accepts %j',
    (glob) => {
      expect(labelGlobProblem(glob)).toBeUndefined();
    },
  );

  it.each<[unknown, RegExp]>([
    ['', /^is empty; expected a glob of letters, digits/],
    [' ', /^contains " ", which no label key holds/],
    ['app,tier', /^contains ",", which no label key holds/],
    ['app?', /^contains "\?"/],
    ['[ab]', /^contains "\["/],
    ['tëam', /^contains "ë"/],
    ['a\nb', /^contains "\\n"/],
    [3, /^is not a string/],
    [null, /^is not a string/],
  ])('refuses %j', (glob, message) => {
    expect(labelGlobProblem(glob)).toMatch(message);
  });
});

describe('labelKeyFilter', () => {
  it.each<[string, LabelTagFilter | undefined]>([
    ['no filter', undefined],
    ['an empty filter', {}],
    ['empty exclude only', { exclude: [] }],
  ])('lets every key through for %s', (_name, filter) => {
    expect(labelKeyFilter(filter)).toBeUndefined();
  });

  const volatile: LabelTagFilter = { exclude: ['helm.sh/chart', 'app.kubernetes.io/version'] };
  it.each<[LabelTagFilter, string, boolean]>([
    [{ include: ['app'] }, 'app', true],
    [{ include: ['app'] }, 'App', false],
    [{ include: ['app'] }, 'app2', false],
    [{ include: ['app'] }, 'x/app', false],
    [{ include: ['app*'] }, 'app', true],
    [{ include: ['app*'] }, 'app.kubernetes.io/name', true],
    [{ include: ['*'] }, 'anything/at.all', true],
    [{ include: ['*/name'] }, 'app.kubernetes.io/name', true],
    [{ include: ['*/name'] }, 'name', false],
    [{ include: ['a*c'] }, 'ac', true],
    [{ include: ['a*c'] }, 'a/b.c', true],
    [{ include: ['a*c'] }, 'acd', false],
    [{ include: ['a.c'] }, 'abc', false],
    [{ include: ['a.c'] }, 'a.c', true],
    [{ include: ['tier', 'team'] }, 'team', true],
    [{ include: ['tier', 'team'] }, 'app', false],
    [{ include: [] }, 'app', false],
    [{ exclude: ['helm.sh/*'] }, 'helm.sh/chart', false],
    [{ exclude: ['helm.sh/*'] }, 'app', true],
    [{ include: ['app.kubernetes.io/*'], exclude: ['*/version'] }, 'app.kubernetes.io/name', true],
    [{ include: ['app.kubernetes.io/*'], exclude: ['*/version'] }, 'app.kubernetes.io/version', false],
    [{ include: ['app.kubernetes.io/*'], exclude: ['*/version'] }, 'tier', false],
    [{ include: ['*'], exclude: ['*'] }, 'app', false],
    [volatile, 'helm.sh/chart', false],
    [volatile, 'app.kubernetes.io/version', false],
    [volatile, 'app.kubernetes.io/name', true],
  ])('%j: key %j tagged: %s', (filter, key, tagged) => {
    expect(labelKeyFilter(filter)?.(key)).toBe(tagged);
  });

  const KEY = fc.stringMatching(/^[A-Za-z0-9._/-]{1,20}$/);
  it('a glob without "*" matches exactly its own text; "*" alone matches every key', () => {
    fc.assert(
      fc.property(KEY, KEY, (glob, key) => {
        expect(labelKeyFilter({ include: [glob] })?.(key)).toBe(glob === key);
        expect(labelKeyFilter({ include: ['*'] })?.(key)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  /** A prefix and a key that starts with it half of the time. */
  const PREFIX_AND_KEY = fc
    .tuple(KEY, KEY, fc.boolean())
    .map(([prefix, rest, joined]): [string, string] => [prefix, joined ? `${prefix}${rest}` : rest]);
  it('"prefix*" matches exactly the keys starting with prefix, and exclude wins over include', () => {
    fc.assert(
      fc.property(PREFIX_AND_KEY, ([prefix, key]) => {
        expect(labelKeyFilter({ include: [`${prefix}*`] })?.(key)).toBe(key.startsWith(prefix));
        expect(labelKeyFilter({ include: ['*'], exclude: [`${prefix}*`] })?.(key)).toBe(
          !key.startsWith(prefix),
        );
      }),
      { numRuns: 300 },
    );
  });
});
