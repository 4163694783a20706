import { describe, expect, it } from 'vitest';
import { InputError } from '../../../shared/errors.js';
import { formatLabelSelector } from '../../../shared/selectors/formatLabelSelector.js';
import {
  parseLabelSelector,
  type SelectorRequirement,
} from '../../../shared/selectors/parseLabelSelector.js';

const req = (
  key: string,
  operator: SelectorRequirement['operator'],
  ...values: string[]
): SelectorRequirement => ({
  key,
  operator,
  values,
});

describe('parseLabelSelector', () => {
  it.each<[string, SelectorRequirement[]]>([
    ['', []],
    ['  \t\n ', []],
    ['app=web', [req('app', '=', 'web')]],
    ['app==web', [req('app', '=', 'web')]],
    ['app!=web', [req('app', '!=', 'web')]],
    ['app in (web,api)', [req('app', 'in', 'api', 'web')]],
    ['app notin (web)', [req('app', 'notin', 'web')]],
    ['app', [req('app', 'exists')]],
    ['!app', [req('app', 'doesnotexist')]],
    ['app=', [req('app', '=', '')]],
    ['app!=', [req('app', '!=', '')]],
    ['app=,tier', [req('app', '=', ''), req('tier', 'exists')]],
    ['k in ()', [req('k', 'in', '')]],
    ['k in (a,)', [req('k', 'in', '', 'a')]],
    ['k notin (,a)', [req('k', 'notin', '', 'a')]],
    ['k in (b,a,b)', [req('k', 'in', 'a', 'b')]],
    ['k in(a)', [req('k', 'in', 'a')]],
    [
      ' app = web , tier in ( front , edge ) , ! canary ',
      [req('app', '=', 'web'), req('canary', 'doesnotexist'), req('tier', 'in', 'edge', 'front')],
    ],
    ['app\tin\n(web)\r,x', [req('app', 'in', 'web'), req('x', 'exists')]],
    ['z=1,a=2', [req('a', '=', '2'), req('z', '=', '1')]],
    ['a=b,a!=c', [req('a', '=', 'b'), req('a', '!=', 'c')]],
    ['example.com/app=web', [req('example.com/app', '=', 'web')]],
    ['app.kubernetes.io/name=web', [req('app.kubernetes.io/name', '=', 'web')]],
    ['in=notin', [req('in', '=', 'notin')]],
    ['in in (in,notin)', [req('in', 'in', 'in', 'notin')]],
    ['notin notin (x)', [req('notin', 'notin', 'x')]],
    ['k=A-b_c.9', [req('k', '=', 'A-b_c.9')]],
    [`k=${'v'.repeat(63)}`, [req('k', '=', 'v'.repeat(63))]],
    [`${'k'.repeat(63)}`, [req('k'.repeat(63), 'exists')]],
    [`${'p'.repeat(253)}/k`, [req(`${'p'.repeat(253)}/k`, 'exists')]],
    ['replicas>3', [req('replicas', '>', '3')]],
    ['replicas<10', [req('replicas', '<', '10')]],
    [' replicas > 3 , replicas < 10 ', [req('replicas', '>', '3'), req('replicas', '<', '10')]],
    ['k>007', [req('k', '>', '007')]],
    ['k>0', [req('k', '>', '0')]],
    ['k<9223372036854775807', [req('k', '<', '9223372036854775807')]],
    ['z<1,a>2', [req('a', '>', '2'), req('z', '<', '1')]],
  ])('parses %j', (text, requirements) => {
    expect(parseLabelSelector(text)).toEqual({ requirements });
  });

  it.each<[string, RegExp]>([
    [
      'app in (web',
      /expected "," or "\)" in the value list of "app", found the end of the selector \(at position 12\)/,
    ],
    ['app in web', /expected "\(" after the operator of "app", found "web" \(at position 8\)/],
    [
      'app web',
      /expected an operator \(=, ==, !=, in, notin, >, <\), "," or the end after key "app", found "web"/,
    ],
    ['app=web,', /expected a requirement after ",", found the end of the selector/],
    [',app', /expected a label key, found ","/],
    ['app=web,,x', /expected a requirement after ",", found ","/],
    ['app=web tier=front', /expected "," or the end of the selector, found "tier" \(at position 9\)/],
    ['!app=web', /expected "," or the end of the selector, found "="/],
    ['!', /expected a label key, found the end of the selector/],
    ['app>a', /the value of "app>" must be a 64-bit decimal integer, found "a" \(at position 5\)/],
    ['app<1.5', /the value of "app<" must be a 64-bit decimal integer, found "1\.5"/],
    ['app>', /the value of "app>" must be a 64-bit decimal integer, found the end of the selector/],
    ['app>,x', /the value of "app>" must be a 64-bit decimal integer, found ","/],
    ['app>9223372036854775808', /must be a 64-bit decimal integer, found "9223372036854775808"/],
    ['app>-1', /invalid label value "-1"/],
    ['app>+1', /invalid label value "\+1"/],
    ['app>=1', /expected a value for "app", found "="/],
    ['app<>1', /expected a value for "app", found ">"/],
    ['app>(1)', /expected a value for "app", found "\("/],
    ['app===x', /expected a value for "app", found "="/],
    ['a(b)=c', /after key "a", found "\("/],
    ['app in (x) y', /expected "," or the end of the selector, found "y"/],
    ['app in (x y)', /expected "," or "\)" in the value list of "app", found "y"/],
    ['-app=x', /invalid label key "-app": the name part must be 1-63 characters/],
    ['app_=x', /invalid label key "app_"/],
    ['Example.com/app=x', /invalid label key "Example.com\/app": the prefix must be a DNS subdomain/],
    ['/app=x', /the prefix before "\/" must not be empty/],
    ['example.com/=x', /the name part must not be empty/],
    ['a/b/c', /invalid label key "a\/b\/c"/],
    [`${'k'.repeat(64)}=x`, /the name part is 64 characters long, at most 63 are allowed/],
    [`${'p'.repeat(254)}/k`, /the prefix is 254 characters long, at most 253/],
    ['app=-web', /invalid label value "-web": the value must be empty or 1-63 characters/],
    ['app=w@b', /invalid label value "w@b"/],
    ['app=web"', /invalid label value "web""/],
    [`app=${'v'.repeat(64)}`, /the value is 64 characters long, at most 63 are allowed/],
    ['app in (a,-b)', /invalid label value "-b"/],
  ])('rejects %j naming the offending part', (text, message) => {
    let error: unknown;
    try {
      parseLabelSelector(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(message);
    expect((error as InputError).details.selector).toBe(text);
  });
});

describe('formatLabelSelector', () => {
  it.each([
    ['', ''],
    ['app==web', 'app=web'],
    [' tier in ( b , a ), app = web ', 'app=web,tier in (a,b)'],
    ['!canary,track notin (beta,alpha),x!=y,x', '!canary,track notin (alpha,beta),x!=y,x'],
    ['k in (),j=', 'j=,k in ()'],
    ['b < 8 , a > 007', 'a>007,b<8'],
  ])('formats %j canonically as %j', (text, canonical) => {
    expect(formatLabelSelector(parseLabelSelector(text))).toBe(canonical);
  });
});
