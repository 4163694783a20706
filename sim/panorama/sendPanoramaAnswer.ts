import type http from 'node:http';
import type { PanoramaReply } from './answerPanoramaCall.js';
import type { SimCall, SimStats } from './startPanoramaSimulator.js';

/** Sends an answer (with `Content-Length`), records its status and counts its bytes. */
export function sendPanoramaAnswer(
  stats: SimStats,
  res: http.ServerResponse,
  call: SimCall,
  reply: PanoramaReply,
): void {
  const { answer } = reply;
  call.status = answer.status;
  const payload = Buffer.from(answer.body, 'utf8');
  stats.bytesOut += payload.length;
  res.writeHead(answer.status, { 'Content-Type': reply.contentType, 'Content-Length': payload.length });
  res.end(payload);
}
