import { type DagExpression, MAX_DAG_EXPRESSION_LENGTH } from './DagExpression.js';
import { DagSyntaxError } from './DagSyntaxError.js';
import { type DagToken, tokenizeDagExpression } from './tokenizeDagExpression.js';

/** The parser's state: the tokens, the next one to read, and the text for messages. */
interface Cursor {
  text: string;
  tokens: readonly DagToken[];
  index: number;
  /** Positions of the `(` still open, innermost last. */
  open: number[];
}

/** One past the last character: where a missing part is reported. */
function endPosition(cursor: Cursor): number {
  return cursor.text.length + 1;
}

function describe(token: DagToken): string {
  return token.type === 'tag' ? `the tag '${token.tag}'` : `"${token.type}"`;
}

/** A tag, or a parenthesised expression. */
function parseOperand(cursor: Cursor): DagExpression {
  const token = cursor.tokens[cursor.index];
  if (token === undefined) {
    const what = cursor.index === 0 ? 'the match is empty; expected' : 'expected';
    throw new DagSyntaxError(`${what} a tag in single quotes or "("`, endPosition(cursor), cursor.text);
  }
  cursor.index++;
  if (token.type === 'tag') return { kind: 'tag', tag: token.tag };
  if (token.type !== '(')
    throw new DagSyntaxError(
      `expected a tag in single quotes or "(", found ${describe(token)}`,
      token.position,
      cursor.text,
    );
  cursor.open.push(token.position);
  const inner = parseChain(cursor);
  const close = cursor.tokens[cursor.index];
  if (close?.type !== ')') {
    const at = close?.position ?? endPosition(cursor);
    throw new DagSyntaxError(`missing ")" for the "(" at position ${token.position}`, at, cursor.text);
  }
  cursor.index++;
  cursor.open.pop();
  return inner;
}

/** The message for a token that cannot follow an operand. */
function unexpectedAfterOperand(cursor: Cursor, token: DagToken): DagSyntaxError {
  const allowed = cursor.open.length > 0 ? '"and", "or" or ")"' : '"and", "or" or the end';
  const problem =
    token.type === ')'
      ? '")" without a matching "("'
      : `expected ${allowed} after an operand, found ${describe(token)}`;
  return new DagSyntaxError(problem, token.position, cursor.text);
}

/**
 * Operands joined by one operator. Mixing `and` and `or` at one level is refused: PAN-OS does not
 * document their precedence (docs/dag.md), so the grouping must be written.
 */
function parseChain(cursor: Cursor): DagExpression {
  const operands = [parseOperand(cursor)];
  let operator: 'and' | 'or' | undefined;
  for (;;) {
    const token = cursor.tokens[cursor.index];
    if (token === undefined || (token.type === ')' && cursor.open.length > 0)) break;
    if (token.type !== 'and' && token.type !== 'or') throw unexpectedAfterOperand(cursor, token);
    if (operator !== undefined && token.type !== operator)
      throw new DagSyntaxError(
        `"${token.type}" after "${operator}" needs parentheses (PAN-OS does not document which binds tighter), e.g. ('a' ${operator} 'b') ${token.type} 'c'`,
        token.position,
        cursor.text,
      );
    operator = token.type;
    cursor.index++;
    operands.push(parseOperand(cursor));
  }
  return operator === undefined ? (operands[0] as DagExpression) : { kind: operator, operands };
}

/**
 * Parses a Dynamic Address Group match in PAN-OS syntax: tags in single quotes joined by `and` /
 * `or` (any case), grouped with parentheses, at most {@link MAX_DAG_EXPRESSION_LENGTH} characters.
 * Refused, with the 1-based position of the problem: an empty match, double quotes, bare words,
 * `not`, an unclosed quote or parenthesis, a missing operand, and `and` mixed with `or` without
 * parentheses. Which rules are PAN-OS' documented ones and which are assumed: docs/dag.md.
 *
 * @throws DagSyntaxError (an `InputError`) naming the position.
 * @example parseDagExpression("'a' and ('b' or 'c')") // and[a, or[b, c]]
 */
export function parseDagExpression(text: string): DagExpression {
  if (text.length > MAX_DAG_EXPRESSION_LENGTH)
    throw new DagSyntaxError(
      `the match is ${text.length} characters long; PAN-OS stores at most ${MAX_DAG_EXPRESSION_LENGTH}`,
      MAX_DAG_EXPRESSION_LENGTH + 1,
      text,
    );
  const cursor: Cursor = { text, tokens: tokenizeDagExpression(text), index: 0, open: [] };
  return parseChain(cursor);
}
