import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, escapeMarkup } from '../../../shared/statusPage/escapeHtml.js';
import { html, trustedHtml } from '../../../shared/statusPage/html.js';

/** Undoes the five character references escapeMarkup writes. */
function decodeReferences(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

describe('escapeHtml', () => {
  it.each([
    ['plain text', 'aks.aks-prod-1.checkout', 'aks.aks-prod-1.checkout'],
    ['a script tag', '<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['an attribute breakout', '" onmouseover="x', '&quot; onmouseover=&quot;x'],
    ['single quotes', "it's", 'it&#39;s'],
    ['entities stay text', 'a&b&amp;&lt;&#0;', 'a&amp;b&amp;amp;&amp;lt;&amp;#0;'],
    ['a CDATA end and a comment', ']]><!-- x -->', ']]&gt;&lt;!-- x --&gt;'],
    ['a closing textarea', '</textarea><b>', '&lt;/textarea&gt;&lt;b&gt;'],
    ['NUL, ESC and DEL become visible', 'a\u0000b\u001bc\u007f', 'a\\u0000b\\u001bc\\u007f'],
    ['C1 (CSI) becomes visible', 'a\u009bb', 'a\\u009bb'],
    ['a right-to-left override becomes visible', 'abc\u202edef', 'abc\\u202edef'],
    ['bidi isolates and marks become visible', '\u2066x\u2069\u200f', '\\u2066x\\u2069\\u200f'],
    ['line and paragraph separators become visible', 'a\u2028b\u2029', 'a\\u2028b\\u2029'],
    ['a carriage return becomes visible', 'a\rb', 'a\\u000db'],
    ['tab and newline stay', 'a\tb\nc', 'a\tb\nc'],
    ['emoji and accents stay', 'café 😀', 'café 😀'],
  ])('%s', (_name, input, expected) => {
    expect(escapeHtml(input)).toBe(expected);
  });

  it('never leaves a character that starts markup or ends an attribute (any string)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = escapeHtml(s);
        expect(out).not.toMatch(/[<>"']/);
        expect(out).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#39;)/);
      }),
    );
  });

  it('escapeMarkup keeps the text exactly (a form field posts back what was typed)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = escapeMarkup(s);
        expect(out).not.toMatch(/[<>"']/);
        expect(decodeReferences(out)).toBe(s);
      }),
    );
  });
});

describe('html', () => {
  it('escapes every placeholder, joins lists and leaves out false, null and undefined', () => {
    const tags = ['<b>', 'a&b'];
    const out = html`<ul>${tags.map((t) => html`<li>${t}</li>`)}</ul>${false}${null}${undefined}${0}`;
    expect(out.markup).toBe('<ul><li>&lt;b&gt;</li><li>a&amp;b</li></ul>0');
  });

  it('inserts markup built by html or trustedHtml as it is, and escapes a string that looks like markup', () => {
    expect(html`<p>${html`<b>x</b>`}${trustedHtml('<i>y</i>')}${'<i>z</i>'}</p>`.markup).toBe(
      '<p><b>x</b><i>y</i>&lt;i&gt;z&lt;/i&gt;</p>',
    );
    expect(String(html`<b>${'&'}</b>`)).toBe('<b>&amp;</b>');
  });
});
