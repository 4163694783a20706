import { describe, expect, it } from 'vitest';
import { MAX_DAG_FORM_BYTES, readDagForm } from '../../../shared/statusPage/readDagForm.js';

const FORM = 'application/x-www-form-urlencoded';

describe('readDagForm', () => {
  it.each([
    ['a browser form', FORM, "dag='aks.a.web'+and+'aks.a.x'", "'aks.a.web' and 'aks.a.x'"],
    [
      'percent-encoded quotes and parentheses',
      `${FORM};charset=UTF-8`,
      'dag=%27a%27%20or%20(%27b%27)',
      "'a' or ('b')",
    ],
    ['an upper-case media type', 'Application/X-WWW-Form-Urlencoded', 'dag=x', 'x'],
    ['other fields beside it', FORM, 'x=1&dag=%27a%27&y=2', "'a'"],
    ['an empty match (the parser names it)', FORM, 'dag=', ''],
  ])('reads %s', (_name, contentType, body, expression) => {
    expect(readDagForm(contentType, body)).toEqual({ ok: true, expression });
  });

  it.each([
    ['no Content-Type', undefined, 'dag=x', 415, /no Content-Type/],
    [
      'JSON',
      'application/json',
      '{"dag":"x"}',
      415,
      /application\/x-www-form-urlencoded.*"application\/json"/,
    ],
    ['multipart', 'multipart/form-data; boundary=x', 'dag=x', 415, /multipart/],
    ['no dag field', FORM, 'match=x', 400, /exactly one field "dag" \(it has 0\)/],
    ['two dag fields', FORM, 'dag=a&dag=b', 400, /it has 2/],
    ['a body too large', FORM, `dag=${'x'.repeat(MAX_DAG_FORM_BYTES)}`, 413, /larger than 16384 bytes/],
  ])('refuses %s', (_name, contentType, body, status, message) => {
    const form = readDagForm(contentType, body);
    expect(form).toMatchObject({ ok: false, status });
    expect(form.ok === false && form.message).toMatch(message);
  });
});
