const DISPLAY_LIMIT = 300;

/** Characters `JSON.stringify` leaves raw that terminals or log viewers act on (DEL, C1 such as CSI, line separators). */
const UNSAFE_AFTER_JSON = /[\u007f-\u009f\u2028\u2029]/g;

/**
 * JSON-quotes hostile text for a one-line message of the tag engine, cut to 300 characters: no
 * control character, DEL, C1 character or line separator survives raw.
 *
 * @example quoteForMessage('a\nb') // '"a\\nb"'
 */
export function quoteForMessage(text: string): string {
  return JSON.stringify(text.length > DISPLAY_LIMIT ? `${text.slice(0, DISPLAY_LIMIT)}…` : text).replace(
    UNSAFE_AFTER_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * The first `max` of `items`, each quoted by {@link quoteForMessage}, comma-separated, then how many
 * more there are.
 *
 * @example quoteList(['a', 'b', 'c'], 2) // '"a", "b" and 1 more'
 */
export function quoteList(items: readonly string[], max: number): string {
  const shown = items.slice(0, max).map(quoteForMessage).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
