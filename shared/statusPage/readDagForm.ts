/** Largest form body the DAG tester reads (a match has at most 2047 characters, percent-encoded ×3). */
export const MAX_DAG_FORM_BYTES = 16 * 1024;

/** The DAG tester's field. */
export const DAG_FIELD = 'dag';

/** What a posted DAG tester form holds: the expression, or why the request is refused (HTTP status). */
export type DagForm =
  | { ok: true; expression: string }
  | { ok: false; status: 400 | 413 | 415; message: string };

/**
 * Reads the DAG tester's form: a body of `application/x-www-form-urlencoded` (what a browser posts)
 * with exactly one field `dag`. Pure; the expression itself is parsed later (its errors have a position).
 */
export function readDagForm(contentType: string | null | undefined, body: string): DagForm {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded')
    return {
      ok: false,
      status: 415,
      message: `POST a form (Content-Type: application/x-www-form-urlencoded) with the field "${DAG_FIELD}"; got ${contentType ? `Content-Type ${JSON.stringify(contentType.slice(0, 100))}` : 'no Content-Type'}`,
    };
  if (Buffer.byteLength(body, 'utf8') > MAX_DAG_FORM_BYTES)
    return {
      ok: false,
      status: 413,
      message: `the form is larger than ${MAX_DAG_FORM_BYTES} bytes (a DAG match has at most 2047 characters)`,
    };
  const values = new URLSearchParams(body).getAll(DAG_FIELD);
  if (values.length !== 1)
    return {
      ok: false,
      status: 400,
      message: `the form must have exactly one field "${DAG_FIELD}" (it has ${values.length})`,
    };
  return { ok: true, expression: values[0] as string };
}
