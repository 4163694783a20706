import http from 'node:http';
import { closeServer } from '../../sim/closeServer.js';
import { listenOnLoopback } from '../../sim/listenOnLoopback.js';

/** A reverse proxy in front of a simulator that counts the calls in flight through it, whatever their target. */
export interface InFlightMeter {
  /** Base URL to give clients instead of the upstream's. */
  readonly url: string;
  /** Calls in flight now. */
  readonly inFlight: number;
  /** Most calls in flight at once since start or {@link InFlightMeter.resetPeak}. */
  readonly peak: number;
  /** Calls forwarded since start. */
  readonly calls: number;
  resetPeak(): void;
  stop(): Promise<void>;
}

/**
 * Starts an {@link InFlightMeter} forwarding to `upstreamUrl` (plain HTTP on loopback). A call counts
 * from the moment its request arrives until the upstream's answer has been read — before the last
 * byte is passed on — so a client never sees its answer while the call still counts: a peak above a
 * client-side limit is a real breach, not a measuring artefact.
 */
export async function startInFlightMeter(upstreamUrl: string): Promise<InFlightMeter> {
  const upstream = new URL(upstreamUrl);
  const agent = new http.Agent({ keepAlive: true });
  const m = { inFlight: 0, peak: 0, calls: 0 };
  const server = http.createServer((req, res) => {
    m.calls++;
    m.inFlight++;
    m.peak = Math.max(m.peak, m.inFlight);
    let done = false;
    const leave = () => {
      if (done) return;
      done = true;
      m.inFlight--;
    };
    res.once('close', leave);
    const up = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (chunk: Buffer) => res.write(chunk));
        answer.on('end', () => {
          leave();
          res.end();
        });
        answer.on('error', () => res.destroy());
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.keepAliveTimeout = 60_000;
  const port = await listenOnLoopback(server, 0);
  return {
    url: `http://127.0.0.1:${port}`,
    get inFlight() {
      return m.inFlight;
    },
    get peak() {
      return m.peak;
    },
    get calls() {
      return m.calls;
    },
    resetPeak: () => {
      m.peak = m.inFlight;
    },
    stop: async () => {
      await closeServer(server);
      agent.destroy();
    },
  };
}
