import { MAX_TAG_LENGTH } from '../tags/tagGrammar.js';
import { DagSyntaxError } from './DagSyntaxError.js';

/** One token of a DAG match; `position` is 1-based. */
export type DagToken =
  | { type: 'tag'; tag: string; position: number }
  | { type: 'and' | 'or' | '(' | ')'; position: number };

/** Words PAN-OS reserves in matches (a tag may not be one of them, in any case). */
const RESERVED = new Set(['and', 'or', 'not']);

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const SPACE = /\s/;
const WORD_END = /[\s()'"]/;

/** Why the text between a pair of single quotes cannot name a tag, or `undefined`. */
function quotedTagProblem(tag: string): string | undefined {
  if (tag === '') return "'' names no tag; a tag is at least one character";
  if (tag.length > MAX_TAG_LENGTH)
    return `the tag is ${tag.length} characters long; PAN-OS tags have at most ${MAX_TAG_LENGTH}`;
  if (RESERVED.has(tag.toLowerCase()))
    return `${JSON.stringify(tag)} cannot be a tag: PAN-OS reserves "and", "or" and "not"`;
  if (tag.includes('"')) return 'a tag cannot contain a double quote';
  if (CONTROL.test(tag)) return 'a tag cannot contain a control character (a line break, a tab …)';
  return undefined;
}

/** The quoted tag starting at index `start` (a `'`), and the index after its closing quote. */
function readQuotedTag(text: string, start: number): { token: DagToken; next: number } {
  const end = text.indexOf("'", start + 1);
  if (end < 0) throw new DagSyntaxError('this quote is never closed', start + 1, text);
  const tag = text.slice(start + 1, end);
  const problem = quotedTagProblem(tag);
  if (problem !== undefined) throw new DagSyntaxError(problem, start + 1, text);
  return { token: { type: 'tag', tag, position: start + 1 }, next: end + 1 };
}

/** The operator word starting at index `start`, and the index after it. */
function readWord(text: string, start: number): { token: DagToken; next: number } {
  let end = start;
  while (end < text.length && !WORD_END.test(text[end] as string)) end++;
  const word = text.slice(start, end);
  const lower = word.toLowerCase();
  if (lower === 'and' || lower === 'or') return { token: { type: lower, position: start + 1 }, next: end };
  if (lower === 'not')
    throw new DagSyntaxError(
      'PAN-OS matches have no "not" operator, only "and", "or" and parentheses',
      start + 1,
      text,
    );
  throw new DagSyntaxError(
    `expected a tag in single quotes or "and", "or", "(", ")", found ${JSON.stringify(word)} (a tag is written '${word}')`,
    start + 1,
    text,
  );
}

/**
 * The tokens of a DAG match: tags in single quotes, `and` and `or` (any case), `(` and `)`,
 * separated by any whitespace. Throws {@link DagSyntaxError} at the first character that is none of
 * these (an unclosed or double quote, `not`, a bare word) or a quoted tag that cannot exist.
 */
export function tokenizeDagExpression(text: string): DagToken[] {
  const tokens: DagToken[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (SPACE.test(c)) i++;
    else if (c === '(' || c === ')') tokens.push({ type: c, position: ++i });
    else if (c === '"')
      throw new DagSyntaxError("tags are quoted with single quotes ('…'), not double quotes", i + 1, text);
    else {
      const read = c === "'" ? readQuotedTag(text, i) : readWord(text, i);
      tokens.push(read.token);
      i = read.next;
    }
  }
  return tokens;
}
