import { InputError } from '../errors.js';

/**
 * A Dynamic Address Group match that cannot be parsed. `position` is the 1-based character of the
 * expression where the problem is (one past the end for a missing part); the message is one line
 * that names it, so the command line can print it as is (exit 2, like every `InputError`).
 */
export class DagSyntaxError extends InputError {
  readonly position: number;
  readonly problem: string;

  constructor(problem: string, position: number, expression: string) {
    super(`invalid DAG match at position ${position}: ${problem}${excerpt(expression, position)}`, {
      position,
      problem,
    });
    this.name = 'DagSyntaxError';
    this.position = position;
    this.problem = problem;
  }
}

/** ` (at "…")`: up to 20 characters of the expression from `position`, or nothing at its end. */
function excerpt(expression: string, position: number): string {
  const rest = expression.slice(position - 1);
  if (rest === '') return '';
  const shown = rest.length > 20 ? `${rest.slice(0, 20)}…` : rest;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: keeps the message on one line
  return ` (at ${JSON.stringify(shown.replace(/[\u0000-\u001f\u007f]/g, ' '))})`;
}
