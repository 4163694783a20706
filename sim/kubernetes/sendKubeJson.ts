import type http from 'node:http';
import type { RecordedKubeRequest } from './startKubernetesSimulator.js';

/** Sends a JSON answer with the API server's headers, and records its status. */
export function sendKubeJson(
  res: http.ServerResponse,
  record: RecordedKubeRequest,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  record.status = status;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(text);
}
