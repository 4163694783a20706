const MARKUP: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * C0 (but tab and newline), DEL, C1, U+2028/U+2029 and the bidirectional controls (U+061C,
 * U+200E/F, U+202A–U+202E, U+2066–U+2069): characters that would hide or reorder text on a page.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: making control characters visible is the point
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * Escapes text for an HTML element or a quoted attribute value: `& < > " '` become character
 * references, and characters that would hide or reorder what is shown (control and bidirectional
 * characters) are shown as `\uXXXX`, so a hostile label or tag name is displayed as it is.
 *
 * @example escapeHtml('<b>\u202e') // '&lt;b&gt;\\u202e'
 */
export function escapeHtml(text: string): string {
  return escapeMarkup(text.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/**
 * Escapes only `& < > " '`: for a form field's value, which must post back exactly what was typed.
 */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (c) => MARKUP[c] ?? c);
}
