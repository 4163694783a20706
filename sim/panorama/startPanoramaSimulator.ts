import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IpTagEntry } from '../../shared/panorama/PanoramaApi.js';
import {
  type DuplicateMode,
  errorAnswer,
  PanoramaModel,
  type SimAnswer,
  type SimFirewall,
  xmlResponse,
} from './PanoramaModel.js';
import { seededRandom } from './seededRandom.js';

/**
 * A fault the simulator can inject into a call:
 * - `http-404` / `http-500` / `http-502` / `http-503`: that HTTP status with an HTML body, nothing
 *   applied (404: a reverse proxy or a URL that no longer serves the API);
 * - `maintenance-page`: HTTP 200 with an HTML maintenance page instead of an XML response, nothing
 *   applied (a load balancer or portal answering while Panorama is down for maintenance);
 * - `drop`: the connection is closed without an answer, nothing applied;
 * - `drop-after-apply`: the change is applied, then the connection is closed (a lost answer);
 * - `session-timeout`: HTTP 200 `<response status="error" code="22">…Session timed out…`;
 * - `key-refused`: HTTP 403 with the device's `Invalid Credential` body, whatever key was sent;
 * - `hang`: no answer at all until the client gives up (tests client timeouts).
 */
export type SimFault =
  | 'http-404'
  | 'http-500'
  | 'http-502'
  | 'http-503'
  | 'maintenance-page'
  | 'drop'
  | 'drop-after-apply'
  | 'session-timeout'
  | 'key-refused'
  | 'hang';

/** Faults applied to every call (until changed). */
export interface SimFaultSettings {
  /** Delay before every answer, in milliseconds. */
  latencyMs?: number;
  /** Probability (0–1) that a call gets one of `errorFaults`, drawn from a PRNG seeded with `seed`. */
  errorRate?: number;
  /** Faults drawn from when `errorRate` hits (default `['http-503']`). */
  errorFaults?: readonly SimFault[];
  /** PRNG seed (default 1): the same seed and calls give the same faults. */
  seed?: number;
}

/** Which calls a one-shot fault applies to. */
export interface SimFaultFilter {
  /** How many matching calls get the fault (default 1). */
  count?: number;
  /** Only calls of this `type` (`keygen`, `user-id`, `op`). */
  type?: string;
  /** Only calls with this `target` serial (`''` = only calls to Panorama itself). */
  target?: string;
}

/** One recorded API call. */
export interface SimCall {
  /** 1-based sequence number. */
  seq: number;
  method: string;
  /** Path and query as received (for asserting that no secret travels in URLs). */
  url: string;
  /** `type` parameter (`keygen`, `user-id`, `op`, …; `''` when missing). */
  type: string;
  target?: string;
  vsys?: string;
  /** Where the API key came from. */
  keyVia: 'header' | 'query' | 'body' | 'none';
  /** Request body bytes. */
  bytes: number;
  /** HTTP status answered; 0 when the connection was dropped or left hanging. */
  status: number;
  fault?: SimFault;
  /** `type=user-id`: the parsed entries. */
  register?: IpTagEntry[];
  unregister?: IpTagEntry[];
  /** `type=op`: the command XML. */
  cmd?: string;
}

/** Counters since start or the last {@link PanoramaSimulator.resetCalls}. */
export interface SimStats {
  calls: number;
  /** Request body bytes received. */
  bytesIn: number;
  /** Response body bytes sent. */
  bytesOut: number;
  /** Calls per `type`. */
  byType: Record<string, number>;
  /**
   * Calls in progress right now, per `target` (`''` = Panorama itself): from the moment the request
   * body has been read until the answer is sent or the connection closes (a `hang` or `drop` call
   * counts until the client gives up).
   */
  inFlight: Record<string, number>;
  /**
   * Most calls in progress at once, per `target` (`''` = Panorama itself), since start or the last
   * {@link PanoramaSimulator.resetCalls} / {@link PanoramaSimulator.resetMaxInFlight}. PAN-OS
   * advises at most 5 concurrent API calls per device.
   */
  maxInFlight: Record<string, number>;
}

/** A firewall to create at start. */
export interface SimFirewallSpec {
  serial: string;
  connected?: boolean;
  hostname?: string;
}

/** Options of {@link startPanoramaSimulator}. */
export interface PanoramaSimulatorOptions {
  /** Listen port (default 0 = ephemeral). Always binds 127.0.0.1. */
  port?: number;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** The valid API key (default random). */
  apiKey?: string;
  /** Credentials accepted by `type=keygen` (default `admin` / random). */
  username?: string;
  password?: string;
  /** Default `error` (PAN-OS 6.0 behaviour). */
  duplicateMode?: DuplicateMode;
  /** Largest accepted request body (default 5,000,000 bytes, PAN-OS's 5 MB). */
  maxRequestBytes?: number;
  /** Device groups to create: name → firewalls. */
  deviceGroups?: Record<string, readonly SimFirewallSpec[]>;
  faults?: SimFaultSettings;
  /** Keep a per-call record in {@link PanoramaSimulator.calls} (default true). Stats are always kept. */
  recordCalls?: boolean;
}

/** A running Panorama simulator. */
export interface PanoramaSimulator {
  /** Base URL, e.g. `http://127.0.0.1:41234` (the API is at `/api/`). */
  readonly url: string;
  /** The currently valid API key. */
  readonly apiKey: string;
  readonly username: string;
  readonly password: string;
  /** Every call received, in order (empty when `recordCalls` is false). */
  readonly calls: readonly SimCall[];
  readonly stats: Readonly<SimStats>;
  /** The protocol model (tables, device groups) behind the server. */
  readonly model: PanoramaModel;
  /** Registered IPs of Panorama (no `target`) or of a firewall: IP → sorted tags. */
  registered(target?: string): Map<string, string[]>;
  /** Adds tags without a call, as if written by a person or another plugin. */
  seedTags(entries: Iterable<IpTagEntry> | ReadonlyMap<string, readonly string[]>, target?: string): void;
  /** Creates a device group with firewalls (or adds firewalls to it). */
  addDeviceGroup(name: string, firewalls?: readonly SimFirewallSpec[]): void;
  /** Adds (or moves) a firewall to a device group. */
  addFirewall(
    deviceGroup: string,
    serial: string,
    options?: { connected?: boolean; hostname?: string },
  ): void;
  setConnected(serial: string, connected: boolean): void;
  /** The managed firewalls. */
  firewalls(): SimFirewall[];
  /** The firewall (or Panorama without `target`) loses every registered IP. */
  reboot(target?: string): void;
  setDuplicateMode(mode: DuplicateMode): void;
  /** Emulate PAN-OS 7.1's `outfile` answer for an unpaged registered-ip query beyond 500 entries. */
  setLegacyOutfile(on: boolean): void;
  /** Invalidates the current key (as another keygen for the user would) and returns the new one. */
  rotateApiKey(): string;
  /** Replaces the standing faults. */
  setFaults(settings: SimFaultSettings): void;
  /** Queues a one-shot fault for the next matching call(s). */
  failNext(fault: SimFault, filter?: SimFaultFilter): void;
  /** Removes standing and queued faults. */
  clearFaults(): void;
  /** Clears the call record and the counters (the peaks restart from the calls in progress). */
  resetCalls(): void;
  /** Restarts {@link SimStats.maxInFlight} from the calls in progress now; keeps everything else. */
  resetMaxInFlight(): void;
  /** Moves a managed firewall to another device group (created when needed); throws when unknown. */
  moveFirewall(serial: string, deviceGroup: string): void;
  /** Stops the server and closes every connection. */
  stop(): Promise<void>;
}

/** The exact body PAN-OS sends with HTTP 403 for bad credentials or a bad key (97 bytes). */
export const INVALID_CREDENTIAL_BODY =
  "<response status = 'error' code = '403'><result><msg>Invalid Credential</msg></result></response>";

/** The body the simulator sends for {@link SimFault} `session-timeout`. */
export const SESSION_TIMED_OUT_BODY = xmlResponse('error', { msg: { line: 'Session timed out' } }, 22);

/** The HTML page the simulator sends with HTTP 200 for {@link SimFault} `maintenance-page`. */
export const MAINTENANCE_PAGE_BODY =
  '<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>Panorama is undergoing maintenance</h1><p>Please try again later.</p></body></html>';

interface QueuedFault {
  fault: SimFault;
  remaining: number;
  type?: string;
  target?: string;
}

function newKey(): string {
  return randomBytes(30).toString('base64');
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

/**
 * Starts a Panorama simulator on 127.0.0.1 that speaks the PAN-OS XML API as documented in
 * `panos-xml-api.md`: `POST`/`GET /api/` with `type=keygen` (bad credentials → HTTP 403 with the
 * device's exact body), `type=user-id` (per-entry errors in `error` duplicate mode), `type=op`
 * (`show object registered-ip` paged by `limit`/`start-point`, `show devicegroups`, `show devices`),
 * `target=<serial>` routing to per-firewall tables (a disconnected firewall answers HTTP 200
 * `status="error"` "Device <serial> is not connected"), the key in `X-PAN-KEY` or `key=`, a 5 MB
 * request limit (HTTP 413), and runtime fault injection. Used by tests, the demo and benchmarks.
 *
 * @example
 * const sim = await startPanoramaSimulator({ deviceGroups: { 'dg-1': [{ serial: '0001' }] } });
 * // … new PanoramaClient({ url: sim.url, apiKey: sim.apiKey, … })
 * sim.registered('0001'); // Map { '10.0.0.5' => ['aks.c1.web'] }
 * await sim.stop();
 */
export async function startPanoramaSimulator(
  options: PanoramaSimulatorOptions = {},
): Promise<PanoramaSimulator> {
  const model = new PanoramaModel(options.duplicateMode ?? 'error');
  for (const [group, firewalls] of Object.entries(options.deviceGroups ?? {})) {
    model.addDeviceGroup(group);
    for (const f of firewalls) model.addFirewall(group, f.serial, f);
  }
  const username = options.username ?? 'admin';
  const password = options.password ?? newKey();
  const maxRequestBytes = options.maxRequestBytes ?? 5_000_000;
  const record = options.recordCalls ?? true;
  let apiKey = options.apiKey ?? newKey();
  let faults: SimFaultSettings = { ...options.faults };
  let random = seededRandom(faults.seed ?? 1);
  let queued: QueuedFault[] = [];
  const calls: SimCall[] = [];
  const stats: SimStats = { calls: 0, bytesIn: 0, bytesOut: 0, byType: {}, inFlight: {}, maxInFlight: {} };
  let seq = 0;

  /** Counts a call as in progress on `lane` until `res` closes (answered, dropped, or given up). */
  const trackInFlight = (lane: string, req: http.IncomingMessage, res: http.ServerResponse) => {
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
  };

  const pickFault = (type: string, target: string | undefined): SimFault | undefined => {
    const q = queued.find(
      (f) =>
        (f.type === undefined || f.type === type) && (f.target === undefined || f.target === (target ?? '')),
    );
    if (q) {
      q.remaining -= 1;
      if (q.remaining <= 0) queued = queued.filter((f) => f !== q);
      return q.fault;
    }
    const rate = faults.errorRate ?? 0;
    if (rate > 0 && random() < rate) {
      const list = faults.errorFaults?.length ? faults.errorFaults : (['http-503'] as const);
      return list[Math.floor(random() * list.length)] ?? 'http-503';
    }
    return undefined;
  };

  const dispatch = (params: URLSearchParams, type: string, keyValid: boolean, call: SimCall): SimAnswer => {
    const target = params.get('target') ?? undefined;
    if (type === 'keygen') {
      return params.get('user') === username && params.get('password') === password
        ? { status: 200, body: xmlResponse('success', { result: { key: apiKey } }) }
        : { status: 403, body: INVALID_CREDENTIAL_BODY };
    }
    if (!keyValid) return { status: 403, body: INVALID_CREDENTIAL_BODY };
    if (type === 'user-id') {
      const { answer, request } = model.userId(params.get('cmd') ?? undefined, target);
      if (request) {
        call.register = request.register;
        call.unregister = request.unregister;
      }
      return answer;
    }
    if (type === 'op') {
      call.cmd = params.get('cmd') ?? '';
      return model.op(params.get('cmd') ?? undefined, target);
    }
    return errorAnswer(`Illegal value for parameter "type" [${type}].`, 400, 400);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const { text, bytes, tooLarge } = await readBody(req, maxRequestBytes);
    const params = new URLSearchParams(url.search);
    const form = new URLSearchParams(tooLarge ? '' : text);
    for (const [k, v] of form) params.append(k, v);
    const type = params.get('type') ?? '';
    const target = params.get('target') ?? undefined;
    const vsys = params.get('vsys') ?? undefined;
    const headerKey = req.headers['x-pan-key'];
    const bodyKey = form.get('key');
    const keyVia: SimCall['keyVia'] = headerKey
      ? 'header'
      : url.searchParams.has('key')
        ? 'query'
        : bodyKey !== null
          ? 'body'
          : 'none';
    const presented = typeof headerKey === 'string' ? headerKey : (url.searchParams.get('key') ?? bodyKey);
    const call: SimCall = {
      seq: ++seq,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      type,
      ...(target === undefined ? {} : { target }),
      ...(vsys === undefined ? {} : { vsys }),
      keyVia,
      bytes,
      status: 0,
    };
    stats.calls += 1;
    stats.bytesIn += bytes;
    stats.byType[type] = (stats.byType[type] ?? 0) + 1;
    if (record) calls.push(call);
    trackInFlight(target ?? '', req, res);
    await respond(req, res, url, call, params, { type, target, tooLarge, presented });
  };

  const respond = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    call: SimCall,
    params: URLSearchParams,
    info: {
      type: string;
      target: string | undefined;
      tooLarge: boolean;
      presented: string | null | undefined;
    },
  ): Promise<void> => {
    const { type, target, tooLarge, presented } = info;

    if (faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
    const fault = url.pathname.replace(/\/+$/, '') === '/api' ? pickFault(type, target) : undefined;
    if (fault) call.fault = fault;
    if (fault === 'hang') return;
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    let answer: SimAnswer;
    let contentType = 'application/xml; charset=UTF-8';
    if (url.pathname.replace(/\/+$/, '') !== '/api') {
      answer = { status: 404, body: '<html><body>Not Found</body></html>' };
      contentType = 'text/html';
    } else if (fault?.startsWith('http-')) {
      const status = Number(fault.slice(5));
      answer = {
        status,
        body: `<html><head><title>${status}</title></head><body>${status} Error</body></html>`,
      };
      contentType = 'text/html';
    } else if (fault === 'maintenance-page') {
      answer = { status: 200, body: MAINTENANCE_PAGE_BODY };
      contentType = 'text/html';
    } else if (fault === 'key-refused') {
      answer = { status: 403, body: INVALID_CREDENTIAL_BODY };
    } else if (fault === 'session-timeout') {
      answer = { status: 200, body: SESSION_TIMED_OUT_BODY };
    } else if (tooLarge) {
      answer = errorAnswer(`Request exceeds the maximum size of ${maxRequestBytes} bytes`, 400, 413);
    } else {
      answer = dispatch(params, type, presented === apiKey, call);
    }
    if (fault === 'drop-after-apply') {
      req.socket.destroy();
      return;
    }
    call.status = answer.status;
    const payload = Buffer.from(answer.body, 'utf8');
    stats.bytesOut += payload.length;
    res.writeHead(answer.status, { 'Content-Type': contentType, 'Content-Length': payload.length });
    res.end(payload);
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      } else res.destroy();
    });
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : http.createServer(listener);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  const restartPeaks = () => {
    stats.maxInFlight = Object.fromEntries(Object.entries(stats.inFlight).filter(([, n]) => n > 0));
  };

  return {
    url,
    get apiKey() {
      return apiKey;
    },
    username,
    password,
    calls,
    stats,
    model,
    registered: (target) => model.registered(target),
    seedTags: (entries, target) => {
      const list =
        entries instanceof Map
          ? [...(entries as ReadonlyMap<string, readonly string[]>)].map(([ip, tags]) => ({ ip, tags }))
          : (entries as Iterable<IpTagEntry>);
      model.seed(list, target);
    },
    addDeviceGroup: (name, firewalls = []) => {
      model.addDeviceGroup(name);
      for (const f of firewalls) model.addFirewall(name, f.serial, f);
    },
    addFirewall: (group, serial, opts) => model.addFirewall(group, serial, opts),
    moveFirewall: (serial, group) => model.moveFirewall(serial, group),
    setConnected: (serial, connected) => model.setConnected(serial, connected),
    firewalls: () => model.firewalls(),
    reboot: (target) => model.reboot(target),
    setDuplicateMode: (mode) => {
      model.duplicateMode = mode;
    },
    setLegacyOutfile: (on) => {
      model.legacyOutfile = on;
    },
    rotateApiKey: () => {
      apiKey = newKey();
      return apiKey;
    },
    setFaults: (settings) => {
      faults = { ...settings };
      random = seededRandom(settings.seed ?? 1);
    },
    failNext: (fault, filter = {}) => {
      queued.push({
        fault,
        remaining: filter.count ?? 1,
        ...(filter.type === undefined ? {} : { type: filter.type }),
        ...(filter.target === undefined ? {} : { target: filter.target }),
      });
    },
    clearFaults: () => {
      faults = {};
      queued = [];
    },
    resetCalls: () => {
      calls.length = 0;
      stats.calls = 0;
      stats.bytesIn = 0;
      stats.bytesOut = 0;
      stats.byType = {};
      restartPeaks();
    },
    resetMaxInFlight: () => restartPeaks(),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
