import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { RecordedArmRequest } from './startArmSimulator.js';

/** Sends a JSON answer with ARM's request-id and rate-limit headers, and records its status. */
export function sendArmJson(
  res: http.ServerResponse,
  record: RecordedArmRequest,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  record.status = status;
  const requestId = randomUUID();
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'x-ms-request-id': requestId,
    'x-ms-correlation-request-id': requestId,
    'x-ms-ratelimit-remaining-subscription-reads': '249',
    ...headers,
  });
  res.end(JSON.stringify(body));
}
