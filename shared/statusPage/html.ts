import { escapeHtml } from './escapeHtml.js';

/** Markup built by {@link html} (or {@link trustedHtml}): inserted into other markup as it is. */
export class SafeHtml {
  constructor(readonly markup: string) {}

  toString(): string {
    return this.markup;
  }
}

/**
 * What a placeholder of {@link html} accepts: text and numbers (escaped), markup built by `html`,
 * lists of these (concatenated), and `false`/`null`/`undefined` (nothing, for `cond && html\`…\``).
 */
export type HtmlValue = SafeHtml | string | number | false | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === false || value === null || value === undefined) return '';
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * Tagged template that escapes every placeholder ({@link escapeHtml}) unless it is markup built by
 * `html` itself: no text reaches the page unescaped by accident.
 *
 * @example html`<td>${tag}</td>` // tag '<script>' → '<td>&lt;script&gt;</td>'
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Markup written by this module itself (never text from outside), to be inserted as it is. */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
