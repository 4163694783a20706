import { DagSyntaxError } from '../dag/DagSyntaxError.js';
import { parseDagExpression } from '../dag/parseDagExpression.js';
import { InputError } from '../errors.js';
import { type DagEvaluationDeps, type DagReport, evaluateDag } from '../pipeline/evaluateDag.js';

/** What the DAG tester found for one typed match: the matches, or why the match is refused. */
export type DagOutcome =
  | { input: string; report: DagReport }
  | { input: string; error: string /** 1-based character of the problem. */; position?: number };

/**
 * Parses `input` as a Dynamic Address Group match and evaluates it against the last-known state of
 * the configured clusters (`shared/pipeline/evaluateDag.ts`). A bad match is an outcome (with its
 * position), not a throw; a failing read throws.
 */
export async function testDagMatch(input: string, deps: DagEvaluationDeps): Promise<DagOutcome> {
  let expression: ReturnType<typeof parseDagExpression>;
  try {
    expression = parseDagExpression(input);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return {
      input,
      error: err.message,
      ...(err instanceof DagSyntaxError ? { position: err.position } : {}),
    };
  }
  return { input, report: await evaluateDag(expression, deps) };
}
