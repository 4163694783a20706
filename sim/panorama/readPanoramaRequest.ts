import type http from 'node:http';
import type { SimCall } from './startPanoramaSimulator.js';

/** An API call as received: its parameters (query and form body merged) and where the key came from. */
export interface PanoramaRequest {
  url: URL;
  /** Whether the path is the API's (`/api`, trailing slashes ignored). */
  isApi: boolean;
  params: URLSearchParams;
  type: string;
  target: string | undefined;
  vsys: string | undefined;
  keyVia: SimCall['keyVia'];
  /** The API key presented (header first, then query, then body). */
  presented: string | null | undefined;
  /** Request body bytes. */
  bytes: number;
  /** The body exceeded the size limit (its parameters are then ignored). */
  tooLarge: boolean;
}

/** Reads a call's body (at most `maxBytes` of it kept) and parses its parameters. */
export async function readPanoramaRequest(
  req: http.IncomingMessage,
  maxBytes: number,
): Promise<PanoramaRequest> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const { text, bytes, tooLarge } = await readBody(req, maxBytes);
  const params = new URLSearchParams(url.search);
  const form = new URLSearchParams(tooLarge ? '' : text);
  for (const [k, v] of form) params.append(k, v);
  const headerKey = req.headers['x-pan-key'];
  const bodyKey = form.get('key');
  const keyVia: SimCall['keyVia'] = headerKey
    ? 'header'
    : url.searchParams.has('key')
      ? 'query'
      : bodyKey !== null
        ? 'body'
        : 'none';
  return {
    url,
    isApi: url.pathname.replace(/\/+$/, '') === '/api',
    params,
    type: params.get('type') ?? '',
    target: params.get('target') ?? undefined,
    vsys: params.get('vsys') ?? undefined,
    keyVia,
    presented: typeof headerKey === 'string' ? headerKey : (url.searchParams.get('key') ?? bodyKey),
    bytes,
    tooLarge,
  };
}

function readBody(
  req: http.IncomingMessage,
  max: number,
): Promise<{ text: string; bytes: number; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= max) chunks.push(chunk);
    });
    req.on('end', () =>
      resolve({ text: Buffer.concat(chunks).toString('utf8'), bytes, tooLarge: bytes > max }),
    );
    req.on('error', reject);
  });
}
