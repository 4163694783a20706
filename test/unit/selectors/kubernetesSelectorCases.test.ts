/**
 * The valid and invalid forms and the matching cases of Kubernetes' own selector tests
 * (`k8s.io/apimachinery` `pkg/labels/selector_test.go`: TestSelectorParse, TestSelectorMatches,
 * TestRequirementConstructor, TestToString, TestRequirementSelectorMatching, TestSetSelectorParser),
 * run against this repository's parser, formatter and matcher.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../shared/errors.js';
import { formatLabelSelector } from '../../../shared/selectors/formatLabelSelector.js';
import { matchesSelector } from '../../../shared/selectors/matchesSelector.js';
import {
  parseLabelSelector,
  type SelectorRequirement,
} from '../../../shared/selectors/parseLabelSelector.js';

const req = (key: string, operator: SelectorRequirement['operator'], ...values: string[]) => ({
  key,
  operator,
  values,
});

function parseError(text: string): unknown {
  try {
    parseLabelSelector(text);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('Kubernetes TestSelectorParse', () => {
  it.each(['x=a,y=b,z=c', '', 'x!=a,y=b', 'x=', 'x= ', 'x=,z= ', 'x= ,z= ', '!x', 'x>1', 'x>1,z<5'])(
    'parses %j and formats it back without spaces',
    (text) => {
      expect(formatLabelSelector(parseLabelSelector(text))).toBe(text.replaceAll(' ', ''));
    },
  );

  it.each(['x=a||y=b', 'x==a==b', '!x=a', 'x<a'])('rejects %j', (text) => {
    expect(parseError(text)).toBeInstanceOf(InputError);
  });
});

describe('Kubernetes TestSelectorMatches and TestRequirementSelectorMatching', () => {
  const labelset = { foo: 'bar', baz: 'blah' };
  it.each<[string, Record<string, string>, boolean]>([
    ['', { x: 'y' }, true],
    ['x=y', { x: 'y' }, true],
    ['x=y,z=w', { x: 'y', z: 'w' }, true],
    ['x!=y,z!=w', { x: 'z', z: 'a' }, true],
    ['notin=in', { notin: 'in' }, true],
    ['x', { x: 'z' }, true],
    ['!x', { y: 'z' }, true],
    ['x>1', { x: '2' }, true],
    ['x<1', { x: '0' }, true],
    ['x=z', {}, false],
    ['x=y', { x: 'z' }, false],
    ['x=y,z=w', { x: 'w', z: 'w' }, false],
    ['x!=y,z!=w', { x: 'z', z: 'w' }, false],
    ['x', { y: 'z' }, false],
    ['!x', { x: 'z' }, false],
    ['x>1', { x: '0' }, false],
    ['x<1', { x: '2' }, false],
    ['foo=bar', labelset, true],
    ['baz=blah', labelset, true],
    ['foo=bar,baz=blah', labelset, true],
    ['foo=blah', labelset, false],
    ['baz=bar', labelset, false],
    ['foo=bar,foobar=bar,baz=blah', labelset, false],
    ['x in (foo),y notin (alpha)', { x: 'foo', y: 'baz' }, true],
    ['x in (foo),y in (alpha)', { x: 'foo', y: 'baz' }, false],
    ['x notin (),y', { y: '' }, true],
    ['!x,y', { y: '' }, true],
    ['x notin (),!y', { y: '' }, false],
    ['x in ()', { y: 'baz' }, false],
    ['z>1', { z: '2' }, true],
    ['z>1', { z: 'v2' }, false],
  ])('%j on %j → %s', (text, labels, expected) => {
    expect(matchesSelector(parseLabelSelector(text), labels)).toBe(expected);
  });
});

describe('Kubernetes TestRequirementConstructor (through the parser)', () => {
  it.each<[string, SelectorRequirement]>([
    ['x3 in (foo)', req('x3', 'in', 'foo')],
    ['x4 notin (foo)', req('x4', 'notin', 'foo')],
    ['x6', req('x6', 'exists')],
    ['!x7', req('x7', 'doesnotexist')],
    ['x11>1', req('x11', '>', '1')],
    ['x12<6', req('x12', '<', '6')],
  ])('accepts %j', (text, requirement) => {
    expect(parseLabelSelector(text)).toEqual({ requirements: [requirement] });
  });

  it.each<[string, RegExp]>([
    ['x13>', /must be a 64-bit decimal integer/],
    ['x14>bar', /must be a 64-bit decimal integer, found "bar"/],
    ['x15<bar', /must be a 64-bit decimal integer, found "bar"/],
    ['a'.repeat(254), /invalid label key/],
    [`x16=${'a'.repeat(254)}`, /invalid label value/],
    ['x17=a b', /expected "," or the end of the selector, found "b"/],
  ])('rejects %j', (text, message) => {
    const err = parseError(text);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(message);
  });
});

describe('Kubernetes TestToString', () => {
  it.each([
    'x in (abc,def),y notin (jkl),z',
    'x notin (abc,def),y!=jkl,!z',
    'x notin (abc),y in (jkl,mno),z notin ()',
    'x=abc,y=jkl,z!=a,z',
    'x>2,y<8,z',
  ])('formats %j as Kubernetes does', (text) => {
    expect(formatLabelSelector(parseLabelSelector(text))).toBe(text);
  });

  it('rejects the trailing comma Kubernetes cannot format', () => {
    expect(parseError('x in (abc,def),')).toBeInstanceOf(InputError);
  });
});

describe('Kubernetes TestSetSelectorParser', () => {
  it.each<[string, SelectorRequirement[]]>([
    ['', []],
    ['\rx', [req('x', 'exists')]],
    ['this-is-a-dns.domain.com/key-with-dash', [req('this-is-a-dns.domain.com/key-with-dash', 'exists')]],
    [
      'this-is-another-dns.domain.com/key-with-dash in (so,what)',
      [req('this-is-another-dns.domain.com/key-with-dash', 'in', 'so', 'what')],
    ],
    [
      '0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)',
      [req('0.1.2.domain/99', 'notin', '10.10.100.1', 'tick.tack.clock')],
    ],
    ['foo  in\t (abc)', [req('foo', 'in', 'abc')]],
    ['x notin\n (abc)', [req('x', 'notin', 'abc')]],
    ['x  notin\t\t\t(abc,def)', [req('x', 'notin', 'abc', 'def')]],
    ['x in (abc,def)', [req('x', 'in', 'abc', 'def')]],
    ['x in (abc,)', [req('x', 'in', '', 'abc')]],
    ['x in (abc,abc)', [req('x', 'in', 'abc')]],
    ['x in ()', [req('x', 'in', '')]],
    ['x in (a,,)', [req('x', 'in', '', 'a')]],
    ['x in (a,,,)', [req('x', 'in', '', 'a')]],
    ['x in (a,,,,,,)', [req('x', 'in', '', 'a')]],
    ['x in (a,,a,,a,,a,,)', [req('x', 'in', '', 'a')]],
    [
      'x notin (abc,,def),bar,z in (),w',
      [req('bar', 'exists'), req('w', 'exists'), req('x', 'notin', '', 'abc', 'def'), req('z', 'in', '')],
    ],
    ['x,y in (a)', [req('x', 'exists'), req('y', 'in', 'a')]],
    ['x=a', [req('x', '=', 'a')]],
    ['x>1', [req('x', '>', '1')]],
    ['x<7', [req('x', '<', '7')]],
    ['x=a,y!=b', [req('x', '=', 'a'), req('y', '!=', 'b')]],
    ['x=a,y!=b,z in (h,i,j)', [req('x', '=', 'a'), req('y', '!=', 'b'), req('z', 'in', 'h', 'i', 'j')]],
    ['x notin ( )', [req('x', 'notin', '')]],
    ['x notin (, a)', [req('x', 'notin', '', 'a')]],
    ['a ', [req('a', 'exists')]],
    ['a in (x,y,notin, z,in)', [req('a', 'in', 'in', 'notin', 'x', 'y', 'z')]],
  ])('parses %j', (text, requirements) => {
    expect(parseLabelSelector(text)).toEqual({ requirements });
  });

  it.each([
    'x=a||y=b',
    'x,,y',
    ',x,y',
    'x nott in (y)',
    'a in (xyz),',
    'a in (xyz)b notin ()',
    'a in (xyz abc)',
    'a notin(',
    'a (',
    '(',
  ])('rejects %j', (text) => {
    expect(parseError(text)).toBeInstanceOf(InputError);
  });
});
