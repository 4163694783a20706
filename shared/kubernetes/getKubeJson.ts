import http from 'node:http';
import https from 'node:https';
import { gunzipSync } from 'node:zlib';
import type { KubeConnection, KubeRequestAuth } from './KubeConnection.js';
import { KubeResponseError } from './KubeResponseError.js';

function headersOf(res: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') out[k] = v;
  return out;
}

function bodyText(res: http.IncomingMessage, chunks: Buffer[]): string {
  const raw = Buffer.concat(chunks);
  return (res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`the API server answered 200 with a body that is not JSON (${text.length} characters)`);
  }
}

/**
 * GETs `path` (with its query) of the API server over the connection's keep-alive agent and
 * `JSON.parse`s the answer (gzip accepted). A non-2xx answer rejects with a {@link KubeResponseError};
 * no answer within `timeoutMs` rejects with a `TimeoutError`; network and TLS errors as Node gives them.
 */
export function getKubeJson(
  connection: KubeConnection,
  auth: KubeRequestAuth,
  path: string,
  timeoutMs: number,
): Promise<unknown> {
  const url = `${connection.server}${path}`;
  const request = url.startsWith('http:') ? http.request : https.request;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      agent: connection.agent,
      headers: { ...auth.headers, accept: 'application/json', 'accept-encoding': 'gzip' },
      ...(auth.auth ? { auth: auth.auth } : {}),
    });
    const timer = setTimeout(() => {
      const err = new Error(`no answer within ${timeoutMs} ms`);
      err.name = 'TimeoutError';
      req.destroy(err);
    }, timeoutMs);
    const fail = (err: unknown) => {
      clearTimeout(timer);
      reject(err);
    };
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        try {
          const text = bodyText(res, chunks);
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) reject(new KubeResponseError(status, text, headersOf(res)));
          else resolve(parseJson(text));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.end();
  });
}
