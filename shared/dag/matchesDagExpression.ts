import type { DagExpression } from './DagExpression.js';

/**
 * Whether an IP carrying `tags` is a member of a Dynamic Address Group with this match: a tag
 * matches when the IP carries exactly that tag (case-sensitive, whole tag); `and` needs every
 * operand, `or` any one.
 *
 * @example matchesDagExpression(parseDagExpression("'a' and 'b'"), new Set(['a', 'b', 'c'])) // true
 */
export function matchesDagExpression(expression: DagExpression, tags: ReadonlySet<string>): boolean {
  switch (expression.kind) {
    case 'tag':
      return tags.has(expression.tag);
    case 'and':
      return expression.operands.every((operand) => matchesDagExpression(operand, tags));
    case 'or':
      return expression.operands.some((operand) => matchesDagExpression(operand, tags));
  }
}
