/**
 * A parsed Dynamic Address Group match (`shared/dag/parseDagExpression.ts`): a quoted tag, or `and` /
 * `or` over two or more operands. A chain of one operator at one level is one node
 * (`'a' and 'b' and 'c'` has three operands); parentheses make a nested node, so the tree keeps the
 * grouping that was written.
 */
export type DagExpression =
  | { kind: 'tag'; tag: string }
  | { kind: 'and' | 'or'; operands: readonly DagExpression[] };

/** The longest match PAN-OS stores (`dynamic/filter`, at most 2047 characters; see docs/dag.md). */
export const MAX_DAG_EXPRESSION_LENGTH = 2047;
