import { KubeHttpError } from './KubeHttpError.js';

/** Where a continue token resumes a list: the snapshot's resourceVersion and the first key after the last page. */
export interface ContinuePosition {
  rv: number;
  start: string;
}

/** Encodes a continue token as the API server does (`meta.k8s.io/v1`, the key after `lastKey`). */
export function encodeContinueToken(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` })).toString(
    'base64url',
  );
}

/** Decodes a continue token; throws 400 `BadRequest` with the API server's message when it is not one. */
export function decodeContinueToken(token: string): ContinuePosition {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      v?: unknown;
      rv?: unknown;
      start?: unknown;
    };
    if (parsed.v !== 'meta.k8s.io/v1' || typeof parsed.rv !== 'number' || typeof parsed.start !== 'string') {
      throw new Error('bad');
    }
    return { rv: parsed.rv, start: parsed.start };
  } catch {
    throw new KubeHttpError(
      400,
      'BadRequest',
      'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    );
  }
}
