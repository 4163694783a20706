import type { DagExpression } from './DagExpression.js';

/** The tags an expression names, unique, in code-unit order. */
export function dagTags(expression: DagExpression): string[] {
  const tags = new Set<string>();
  const visit = (e: DagExpression): void => {
    if (e.kind === 'tag') tags.add(e.tag);
    else for (const operand of e.operands) visit(operand);
  };
  visit(expression);
  return [...tags].sort();
}
