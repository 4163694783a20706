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
  ])('%j on %j → %s', (text, labels, expected) => {
    expect(matchesSelector(parseLabelSelector(text), labels)).toBe(expected);
  });
});
