import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { IpTagEntry } from '../../shared/panorama/PanoramaApi.js';
import { closeServer } from '../closeServer.js';
import { listenOnLoopback } from '../listenOnLoopback.js';
import { createPanoramaListener } from './createPanoramaListener.js';
import { PanoramaFaults } from './PanoramaFaults.js';
import { type DuplicateMode, PanoramaModel, type SimFirewall, type SimPlacement } from './PanoramaModel.js';
import type { PanoramaSimulatorState } from './PanoramaSimulatorState.js';
import type { SimHa, SimHaSettings } from './panoramaHa.js';

export {
  INVALID_CREDENTIAL_BODY,
  MAINTENANCE_PAGE_BODY,
  SESSION_TIMED_OUT_BODY,
} from './panoramaResponseBodies.js';

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

/** A firewall to create at start (with `vsys`: multi-vsys, those of its vsys in the group). */
export interface SimFirewallSpec extends SimPlacement {
  serial: string;
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
  /** Nesting of device groups (`show dg-hierarchy`): child → parent. */
  deviceGroupParents?: Record<string, string>;
  faults?: SimFaultSettings;
  /** Keep a per-call record in {@link PanoramaSimulator.calls} (default true). Stats are always kept. */
  recordCalls?: boolean;
  /** Serve this model instead of a new one (the two peers of an HA pair manage the same firewalls). */
  model?: PanoramaModel;
  /** Enable HA with this role (see `startPanoramaHaPair`); absent = HA not enabled. */
  ha?: SimHaSettings;
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
  /** Registered IPs of Panorama (no `target`) or of a firewall (a multi-vsys one: name the vsys): IP → sorted tags. */
  registered(target?: string, vsys?: string): Map<string, string[]>;
  /** Adds tags without a call, as if written by a person or another plugin. */
  seedTags(
    entries: Iterable<IpTagEntry> | ReadonlyMap<string, readonly string[]>,
    target?: string,
    vsys?: string,
  ): void;
  /** Creates a device group with firewalls (or adds firewalls to it), below `parent` when given. */
  addDeviceGroup(name: string, firewalls?: readonly SimFirewallSpec[], parent?: string): void;
  /** Nests a device group below `parent` (`undefined`: top level), as `show dg-hierarchy` reports. */
  setParentGroup(name: string, parent: string | undefined): void;
  /** Adds (or moves) a firewall — or, with `vsys`, those vsys of a multi-vsys one — to a device group. */
  addFirewall(deviceGroup: string, serial: string, options?: SimPlacement): void;
  setConnected(serial: string, connected: boolean): void;
  /** The managed firewalls. */
  firewalls(): SimFirewall[];
  /** The firewall (every vsys, or the one named), or Panorama without `target`, loses every registered IP. */
  reboot(target?: string, vsys?: string): void;
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
  /** HA state of this Panorama (`undefined`: HA not enabled). */
  readonly ha: Readonly<SimHa> | undefined;
  /** Changes the HA settings (`undefined` disables HA); the state duration restarts when the role changes. */
  setHa(settings: SimHaSettings | undefined): void;
  /** Stops the server and closes every connection. */
  stop(): Promise<void>;
}

/**
 * Starts a Panorama simulator on 127.0.0.1 that speaks the PAN-OS XML API as documented in
 * `panos-xml-api.md`: `POST`/`GET /api/` with `type=keygen` (bad credentials → HTTP 403 with the
 * device's exact body), `type=user-id` (per-entry errors in `error` duplicate mode), `type=op`
 * (`show object registered-ip` paged by `limit`/`start-point`, `show devicegroups`, `show devices`,
 * `show dg-hierarchy` of nested device groups), `target=<serial>` and `vsys=` routing to per-firewall
 * (per-vsys for a multi-vsys firewall) tables — provenance of each answer in `SimDeviceGroups.ts` — (a disconnected firewall answers HTTP 200
 * `status="error"` "Device <serial> is not connected"), the key in `X-PAN-KEY` or `key=`, a 5 MB
 * request limit (HTTP 413), `member@timeout` (timed tags expire on the model's clock, which
 * `model.advanceClock` moves without waiting), and runtime fault injection. Used by tests, the demo
 * and benchmarks.
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
  const model = options.model ?? new PanoramaModel(options.duplicateMode ?? 'error');
  for (const [group, firewalls] of Object.entries(options.deviceGroups ?? {})) {
    model.addDeviceGroup(group);
    for (const f of firewalls) model.addFirewall(group, f.serial, f);
  }
  for (const [group, parent] of Object.entries(options.deviceGroupParents ?? {}))
    model.setParentGroup(group, parent);
  const state: PanoramaSimulatorState = {
    model,
    username: options.username ?? 'admin',
    password: options.password ?? newKey(),
    maxRequestBytes: options.maxRequestBytes ?? 5_000_000,
    recordCalls: options.recordCalls ?? true,
    apiKey: options.apiKey ?? newKey(),
    faults: new PanoramaFaults(options.faults),
    calls: [],
    stats: { calls: 0, bytesIn: 0, bytesOut: 0, byType: {}, inFlight: {}, maxInFlight: {} },
    seq: 0,
    ...(options.ha ? { ha: { ...options.ha, since: Date.now() } } : {}),
  };
  const listener = createPanoramaListener(state);
  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : http.createServer(listener);
  server.keepAliveTimeout = 60_000;
  const port = await listenOnLoopback(server, options.port ?? 0);
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return panoramaSimulatorHandle(state, server, url);
}

function newKey(): string {
  return randomBytes(30).toString('base64');
}

function panoramaSimulatorHandle(
  state: PanoramaSimulatorState,
  server: http.Server,
  url: string,
): PanoramaSimulator {
  const { model, stats } = state;
  return {
    url,
    get apiKey() {
      return state.apiKey;
    },
    username: state.username,
    password: state.password,
    calls: state.calls,
    stats,
    model,
    ...modelMethods(model),
    rotateApiKey: () => {
      state.apiKey = newKey();
      return state.apiKey;
    },
    setFaults: (settings) => state.faults.set(settings),
    failNext: (fault, filter = {}) => state.faults.queue(fault, filter),
    clearFaults: () => state.faults.clear(),
    resetCalls: () => {
      state.calls.length = 0;
      stats.calls = 0;
      stats.bytesIn = 0;
      stats.bytesOut = 0;
      stats.byType = {};
      restartPeaks(stats);
    },
    resetMaxInFlight: () => restartPeaks(stats),
    get ha() {
      return state.ha;
    },
    setHa: (settings) => setHa(state, settings),
    stop: () => closeServer(server),
  };
}

type ModelMethods = Pick<
  PanoramaSimulator,
  | 'registered'
  | 'seedTags'
  | 'addDeviceGroup'
  | 'setParentGroup'
  | 'addFirewall'
  | 'moveFirewall'
  | 'setConnected'
  | 'firewalls'
  | 'reboot'
  | 'setDuplicateMode'
  | 'setLegacyOutfile'
>;

function modelMethods(model: PanoramaModel): ModelMethods {
  return {
    registered: (target, vsys) => model.registered(target, vsys),
    seedTags: (entries, target, vsys) => {
      const list =
        entries instanceof Map
          ? [...(entries as ReadonlyMap<string, readonly string[]>)].map(([ip, tags]) => ({ ip, tags }))
          : (entries as Iterable<IpTagEntry>);
      model.seed(list, target, vsys);
    },
    addDeviceGroup: (name, firewalls = [], parent) => {
      model.addDeviceGroup(name, parent);
      for (const f of firewalls) model.addFirewall(name, f.serial, f);
    },
    setParentGroup: (name, parent) => model.setParentGroup(name, parent),
    addFirewall: (group, serial, opts) => model.addFirewall(group, serial, opts),
    moveFirewall: (serial, group) => model.moveFirewall(serial, group),
    setConnected: (serial, connected) => model.setConnected(serial, connected),
    firewalls: () => model.firewalls(),
    reboot: (target, vsys) => model.reboot(target, vsys),
    setDuplicateMode: (mode) => {
      model.duplicateMode = mode;
    },
    setLegacyOutfile: (on) => {
      model.legacyOutfile = on;
    },
  };
}

/** Applies new HA settings; the state duration restarts only when the reported state changes. */
function setHa(state: PanoramaSimulatorState, settings: SimHaSettings | undefined): void {
  if (!settings) {
    delete state.ha;
    return;
  }
  const same = state.ha?.role === settings.role && state.ha.priority === settings.priority;
  state.ha = { ...settings, since: same && state.ha ? state.ha.since : Date.now() };
}

/** Restarts the in-flight peaks from the calls in progress now. */
function restartPeaks(stats: SimStats): void {
  stats.maxInFlight = Object.fromEntries(Object.entries(stats.inFlight).filter(([, n]) => n > 0));
}
