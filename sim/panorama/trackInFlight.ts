import type http from 'node:http';
import type { SimStats } from './startPanoramaSimulator.js';

/** Counts a call as in progress on `lane` until `res` closes (answered, dropped, or given up). */
export function trackInFlight(
  stats: SimStats,
  lane: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  const now = (stats.inFlight[lane] ?? 0) + 1;
  stats.inFlight[lane] = now;
  stats.maxInFlight[lane] = Math.max(stats.maxInFlight[lane] ?? 0, now);
  let done = false;
  const leave = () => {
    if (done) return;
    done = true;
    stats.inFlight[lane] = Math.max(0, (stats.inFlight[lane] ?? 1) - 1);
  };
  res.once('close', leave);
  if (req.socket.destroyed) leave();
}
