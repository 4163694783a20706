import type { DagExpression } from './DagExpression.js';
import { matchesDagExpression } from './matchesDagExpression.js';

/**
 * The IPs of `ipTags` (IP → tags) that the match selects, in code-unit order.
 *
 * @example selectDagMembers(parseDagExpression("'web'"), new Map([['10.0.0.1', ['web']]])) // ['10.0.0.1']
 */
export function selectDagMembers(
  expression: DagExpression,
  ipTags: ReadonlyMap<string, readonly string[]>,
): string[] {
  const members: string[] = [];
  for (const [ip, tags] of ipTags) if (matchesDagExpression(expression, new Set(tags))) members.push(ip);
  return members.sort();
}
