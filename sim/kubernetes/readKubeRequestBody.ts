import type http from 'node:http';
import { KubeHttpError } from './KubeHttpError.js';

/** A request body as the simulator's write handlers read it. */
export interface KubeRequestBody {
  /** The media type of `Content-Type`, lower case, without parameters (`''` when absent). */
  contentType: string;
  text: string;
}

/** The API server's default limit on a request body (3 MiB). */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Reads a request body up to 3 MiB; a larger one rejects with 413 `RequestEntityTooLarge`. */
export function readKubeRequestBody(req: http.IncomingMessage): Promise<KubeRequestBody> {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        reject(new KubeHttpError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
      } else resolve({ contentType, text: Buffer.concat(chunks).toString('utf8') });
    });
  });
}
