import { describe, expect, it } from 'vitest';
import type { DagExpression } from '../../../shared/dag/DagExpression.js';
import { DagSyntaxError } from '../../../shared/dag/DagSyntaxError.js';
import { dagTags } from '../../../shared/dag/dagTags.js';
import { formatDagExpression } from '../../../shared/dag/formatDagExpression.js';
import { parseDagExpression } from '../../../shared/dag/parseDagExpression.js';
import { InputError } from '../../../shared/errors.js';

const tag = (t: string): DagExpression => ({ kind: 'tag', tag: t });
const and = (...operands: DagExpression[]): DagExpression => ({ kind: 'and', operands });
const or = (...operands: DagExpression[]): DagExpression => ({ kind: 'or', operands });

function syntaxError(text: string): DagSyntaxError {
  try {
    parseDagExpression(text);
  } catch (err) {
    if (err instanceof DagSyntaxError) return err;
    throw err;
  }
  throw new Error(`${JSON.stringify(text)} parsed`);
}

describe('parseDagExpression: valid matches', () => {
  it.each<[string, DagExpression, string]>([
    ["'web'", tag('web'), "'web'"],
    ["  'web'\t", tag('web'), "'web'"],
    [
      "'aks.aks-a.svc.app.web' and 'aks_web.aks-a.checkout'",
      and(tag('aks.aks-a.svc.app.web'), tag('aks_web.aks-a.checkout')),
      "'aks.aks-a.svc.app.web' and 'aks_web.aks-a.checkout'",
    ],
    ["'a' or 'b' or 'c'", or(tag('a'), tag('b'), tag('c')), "'a' or 'b' or 'c'"],
    ["'a' AND 'b' And 'c'", and(tag('a'), tag('b'), tag('c')), "'a' and 'b' and 'c'"],
    ["'a' OR 'b'", or(tag('a'), tag('b')), "'a' or 'b'"],
    ["'a'and'b'", and(tag('a'), tag('b')), "'a' and 'b'"],
    ["'a' and ('b' or 'c')", and(tag('a'), or(tag('b'), tag('c'))), "'a' and ('b' or 'c')"],
    ["('a' and 'b') or 'c'", or(and(tag('a'), tag('b')), tag('c')), "('a' and 'b') or 'c'"],
    ["(('a'))", tag('a'), "'a'"],
    ["('a' and 'b') and 'c'", and(and(tag('a'), tag('b')), tag('c')), "('a' and 'b') and 'c'"],
    ["'a'\nand\r\n'b'", and(tag('a'), tag('b')), "'a' and 'b'"],
    ["'tag with one space'", tag('tag with one space'), "'tag with one space'"],
    [
      "'aks.c.svc.app.kubernetes.io/name.web'",
      tag('aks.c.svc.app.kubernetes.io/name.web'),
      "'aks.c.svc.app.kubernetes.io/name.web'",
    ],
    ["'a(b)' or 'c)'", or(tag('a(b)'), tag('c)')), "'a(b)' or 'c)'"],
    ["'Android'", tag('Android'), "'Android'"],
    ["'ORACLE' or 'nothing'", or(tag('ORACLE'), tag('nothing')), "'ORACLE' or 'nothing'"],
    [`'${'x'.repeat(127)}'`, tag('x'.repeat(127)), `'${'x'.repeat(127)}'`],
  ])('%j', (text, expected, canonical) => {
    const parsed = parseDagExpression(text);
    expect(parsed).toEqual(expected);
    expect(formatDagExpression(parsed)).toBe(canonical);
  });

  it('accepts 2047 characters, the most PAN-OS stores', () => {
    const text = Array.from({ length: 200 }, () => "'abcd'")
      .join(' or ')
      .padEnd(2047, ' ');
    expect(text.length).toBe(2047);
    expect(parseDagExpression(text).kind).toBe('or');
  });
});

describe('parseDagExpression: invalid matches name the position', () => {
  it.each<[string, number, RegExp]>([
    ['', 1, /the match is empty/],
    ['   ', 4, /the match is empty/],
    ["'web", 1, /quote is never closed/],
    ["'a' and 'b", 9, /quote is never closed/],
    ['"web"', 1, /single quotes .* not double quotes/],
    ['\'a\' and "b"', 9, /not double quotes/],
    ['web', 1, /found "web" \(a tag is written 'web'\)/],
    ["'a' and b", 9, /found "b"/],
    ["'a' && 'b'", 5, /found "&&"/],
    ["not 'a'", 1, /no "not" operator/],
    ["'a' and NOT 'b'", 9, /no "not" operator/],
    ["''", 1, /names no tag/],
    ["'a' or 'and'", 8, /PAN-OS reserves "and", "or" and "not"/],
    ["'NOT'", 1, /reserves/],
    [`'${'x'.repeat(128)}'`, 1, /128 characters long; PAN-OS tags have at most 127/],
    ["'a\tb'", 1, /control character/],
    ["'a\"b'", 1, /double quote/],
    ["'a' 'b'", 5, /expected "and", "or" or the end after an operand, found the tag 'b'/],
    ["('a' 'b')", 6, /expected "and", "or" or "\)" after an operand/],
    ["'a' and", 8, /expected a tag in single quotes or "\("/],
    ["and 'a'", 1, /expected a tag in single quotes or "\(", found "and"/],
    ["'a' and or 'b'", 9, /found "or"/],
    ['()', 2, /found "\)"/],
    ["('a'", 5, /missing "\)" for the "\(" at position 1/],
    ["(('a') or 'b'", 14, /missing "\)" for the "\(" at position 1/],
    ["'a')", 4, /"\)" without a matching "\("/],
    ["('a') and 'b')", 14, /without a matching/],
    ["'a' and 'b' or 'c'", 13, /"or" after "and" needs parentheses/],
    ["'a' or 'b' and 'c'", 12, /"and" after "or" needs parentheses/],
    ["('a' or 'b' and 'c') or 'd'", 13, /"and" after "or"/],
  ])('%j at %i', (text, position, message) => {
    const err = syntaxError(text);
    expect(err).toBeInstanceOf(InputError);
    expect(err.position).toBe(position);
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(new RegExp(`^invalid DAG match at position ${position}: `));
    expect(err.message).not.toContain('\n');
  });

  it('refuses more than 2047 characters at position 2048', () => {
    const err = syntaxError(`'a'${' '.repeat(2045)}`);
    expect(err.position).toBe(2048);
    expect(err.message).toMatch(/2048 characters long; PAN-OS stores at most 2047/);
  });

  it('quotes at most 20 characters of the rest and keeps control characters off the line', () => {
    const err = syntaxError("'a' 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'");
    expect(err.message).toContain(`(at "'bbbbbbbbbbbbbbbbbbb…")`);
    expect(syntaxError("'a' x\u0007y").message).toContain('(at "x y")');
  });
});

describe('dagTags', () => {
  it('lists each tag once, in code-unit order', () => {
    expect(dagTags(parseDagExpression("'b' and ('a' or 'b' or 'C')"))).toEqual(['C', 'a', 'b']);
  });
});
