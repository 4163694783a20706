import { describe, expect, it } from 'vitest';
import { matchesDagExpression } from '../../../shared/dag/matchesDagExpression.js';
import { parseDagExpression } from '../../../shared/dag/parseDagExpression.js';
import { selectDagMembers } from '../../../shared/dag/selectDagMembers.js';

describe('matchesDagExpression', () => {
  it.each<[string, string[], boolean]>([
    ["'web'", ['web'], true],
    ["'web'", ['web', 'db'], true],
    ["'web'", ['Web'], false],
    ["'web'", ['web2'], false],
    ["'web'", ['aks.web'], false],
    ["'web'", [], false],
    ["'a' and 'b'", ['a', 'b'], true],
    ["'a' and 'b'", ['a'], false],
    ["'a' or 'b'", ['b'], true],
    ["'a' or 'b'", ['c'], false],
    ["'a' and ('b' or 'c')", ['a', 'c'], true],
    ["'a' and ('b' or 'c')", ['b', 'c'], false],
    ["('a' and 'b') or 'c'", ['c'], true],
    ["('a' and 'b') or 'c'", ['a'], false],
    [
      "'aks.aks-a.svc.app.web' and 'aks_web.aks-a.checkout'",
      ['aks.aks-a.checkout', 'aks.aks-a.svc.app.web', 'aks_web.aks-a.checkout'],
      true,
    ],
  ])('%j on %j is %s', (text, tags, expected) => {
    expect(matchesDagExpression(parseDagExpression(text), new Set(tags))).toBe(expected);
  });
});

describe('selectDagMembers', () => {
  it('returns the matching IPs in code-unit order, none when nothing matches', () => {
    const ipTags = new Map<string, string[]>([
      ['10.0.0.9', ['web']],
      ['10.0.0.10', ['web', 'db']],
      ['fd00::1', ['db']],
    ]);
    expect(selectDagMembers(parseDagExpression("'web'"), ipTags)).toEqual(['10.0.0.10', '10.0.0.9']);
    expect(selectDagMembers(parseDagExpression("'db' and 'web'"), ipTags)).toEqual(['10.0.0.10']);
    expect(selectDagMembers(parseDagExpression("'nothing'"), ipTags)).toEqual([]);
  });
});
