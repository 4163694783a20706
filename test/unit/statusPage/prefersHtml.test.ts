import { describe, expect, it } from 'vitest';
import { prefersHtml } from '../../../shared/statusPage/prefersHtml.js';

describe('prefersHtml', () => {
  it.each([
    [
      'Chromium navigation',
      'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7',
      true,
    ],
    ['Firefox navigation', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true],
    ['only text/html', 'text/html', true],
    ['XHTML only', 'application/xhtml+xml', true],
    ['upper case and spaces', ' TEXT/HTML ; q=1.0 , */*;q=0.1', true],
    ['HTML above JSON', 'application/json;q=0.5, text/html', true],
    ['no header', undefined, false],
    ['empty header', '', false],
    ['curl and fetch', '*/*', false],
    ['an API client', 'application/json', false],
    ['JSON first, HTML tied', 'application/json, text/html', false],
    ['HTML tied with JSON by wildcard', 'text/html;q=0.8, */*;q=0.8', false],
    ['HTML below JSON', 'text/html;q=0.5, application/json', false],
    ['text/* names no HTML', 'text/*', false],
    ['HTML refused', 'text/html;q=0, */*', false],
    ['an invalid quality counts as refused', 'text/html;q=2', false],
    ['a malformed quality counts as refused', 'text/html;q=abc', false],
    ['garbage', ',,;;,', false],
  ])('%s → %s', (_name, accept, expected) => {
    expect(prefersHtml(accept)).toBe(expected);
  });
});
