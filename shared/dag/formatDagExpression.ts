import type { DagExpression } from './DagExpression.js';

/**
 * The canonical text of a match: tags in single quotes, lower-case `and` / `or` with one space on
 * each side, and parentheses around every operand that is itself an `and` or `or`. For every parsed
 * expression `e`, `parseDagExpression(formatDagExpression(e))` equals `e`.
 *
 * @example formatDagExpression(parseDagExpression("'a'  AND ('b' or 'c')")) // "'a' and ('b' or 'c')"
 */
export function formatDagExpression(expression: DagExpression): string {
  if (expression.kind === 'tag') return `'${expression.tag}'`;
  return expression.operands
    .map((operand) =>
      operand.kind === 'tag' ? formatDagExpression(operand) : `(${formatDagExpression(operand)})`,
    )
    .join(` ${expression.kind} `);
}
