import type http from 'node:http';
import axios, { type AxiosInstance } from 'axios';
import pLimit, { type LimitFunction } from 'p-limit';
import type { PanoramaConfig } from '../config/loadConfig.js';
import { parsePanoramaUrls } from '../config/panoramaUrls.js';
import { ConfigError, FailureKind, PanoramaAuthError, PanoramaError } from '../errors.js';
import { type Logger, registerSecret, silentLogger } from '../logger.js';
import type { IpTagMap } from '../tags/IpTagMap.js';
import { encodeForm, planUidRequests, type RegisterAttributes } from './buildUidMessages.js';
import type { CallPermits } from './CallPermits.js';
import { parseDeviceGroupHierarchy, SHOW_DG_HIERARCHY_COMMAND } from './deviceGroupHierarchy.js';
import { parseDeviceGroups, SHOW_DEVICEGROUPS_COMMAND, selectDeviceGroups } from './deviceGroups.js';
import { type PeerObservation, parseHaState, SHOW_HA_STATE_COMMAND } from './haState.js';
import type {
  EntryFailure,
  IpTagEntry,
  ManagedFirewall,
  PanoramaApi,
  TargetOptions,
  UidResult,
} from './PanoramaApi.js';
import { PanoramaPeers } from './PanoramaPeers.js';
import { type CallContext, errorFromResponse, errorFromTransport, isAuthFailure } from './panoramaErrors.js';
import { isIdempotentEntryMessage, type PanResponse, parsePanResponse } from './parsePanResponse.js';
import { createEndpointAgent } from './proxyAgent.js';
import {
  parseRegisteredIpPage,
  REGISTERED_IP_PAGE_SIZE,
  registeredIpPageCommand,
} from './registeredIpPage.js';

/** Extra dependencies of a {@link PanoramaClient}. */
export interface PanoramaClientOptions {
  logger?: Logger;
  /**
   * Largest form-encoded request body in bytes. Default 4,000,000: below PAN-OS's documented 5 MB
   * request limit whichever way "MB" is read, with room for headers.
   */
  maxRequestBytes?: number;
  /**
   * HA pair only: how long a known active peer is trusted before both peers are asked their HA
   * state again (default 30,000 ms; they are also asked after every failed call).
   */
  haRecheckMs?: number;
  /**
   * Held around every call (each chunk and page, with its keygen, re-key retry or HA failover, which
   * run one after another; an HA state question goes to both peers at once, one HTTP call each), e.g.
   * the limit shared by every instance (`SharedCallLimit`); absent = only the per-device limit.
   */
  permits?: CallPermits;
}

/** What one peer of the configured Panorama(s) says about its HA state (`status`). */
export interface PanoramaPeerStatus extends PeerObservation {
  url: string;
  /** Whether the client sends its calls to this peer now. */
  inUse: boolean;
  /** Through which proxy the peer is reached (scheme, host and port only). */
  proxy?: string;
}

/** Options of a register/unregister call (`vsys`: see {@link TargetOptions}). */
export interface UidCallOptions extends TargetOptions, RegisterAttributes {}

/** Options of {@link PanoramaClient.listRegisteredIps}. */
export interface ListRegisteredIpsOptions extends TargetOptions {
  /** Keep only tags starting with one of these (IPs left without tags are dropped). */
  tagPrefixes?: readonly string[];
}

interface HttpAnswer {
  status: number;
  body: string;
}

interface KeyState {
  promise: Promise<string>;
  value?: string;
  /** The peer the key was generated on. */
  peer: Endpoint;
}

/** One Panorama peer: its base URL and the HTTP client bound to it. */
interface Endpoint {
  url: string;
  http: AxiosInstance;
  agent: http.Agent;
  proxy?: string;
}

/** Default {@link PanoramaClientOptions.maxRequestBytes}. */
export const DEFAULT_MAX_REQUEST_BYTES = 4_000_000;

const PANORAMA_LIMIT_KEY = '\u0000panorama';

/**
 * PAN-OS XML API client for Panorama and the firewalls it manages (`target=<serial>`).
 *
 * - Every call is a form-encoded `POST /api/` with the key in the `X-PAN-KEY` header, never in the
 *   URL or body. Without `apiKey`, a key is generated once with `type=keygen` (shared by concurrent
 *   first calls) and re-generated at most once per call when the device refuses it.
 * - Register/unregister changes are cut into messages of at most `chunkSize` IPs and
 *   `maxRequestBytes` bytes; with `tagTimeoutMinutes`, every registered tag carries
 *   `member@timeout` (`TAG_TIMEOUT_MINUTES`); at most `concurrency` calls run at once per device (Panorama, or each
 *   target firewall).
 * - `PANORAMA_URL` may name the two peers of a Panorama HA pair: every call goes to the active peer,
 *   and the client fails over when it is unreachable or reports itself passive (`PanoramaPeers.ts`).
 * - TLS is always verified (system roots plus `PANORAMA_CA_CERT`), also through an `HTTPS_PROXY`
 *   tunnel (`proxyAgent.ts`; `NO_PROXY` bypasses it).
 * - Every body is parsed whatever the HTTP status. Outcomes:
 *
 * | answer                                                        | result                                   |
 * |---------------------------------------------------------------|------------------------------------------|
 * | HTTP 403 or body `code="403"`; body code 16                   | {@link PanoramaAuthError}                |
 * | uid-response entry "…already exists, ignore" / "…does not exist, ignore…" | success (idempotent)         |
 * | other uid-response entry message                               | an `EntryFailure` per entry              |
 * | `target` call, message "…not connected…"                       | `FirewallNotConnectedError` (retryable)  |
 * | code 22 / "Session timed out", codes 2–5 and 11, HTTP 5xx, 408, 429, timeouts, resets | retryable `PanoramaError` |
 * | other `status="error"` (codes 1, 6–18, 400 …), other 4xx, TLS failures | permanent `PanoramaError`        |
 *
 * @example
 * const client = new PanoramaClient(config.panorama, { logger });
 * const { failures } = await client.registerTags([{ ip: '10.0.0.5', tags: ['aks.c1.web'] }], { target: '0079…' });
 */
export class PanoramaClient implements PanoramaApi {
  readonly #config: PanoramaConfig;
  readonly #logger: Logger;
  readonly #peers: PanoramaPeers<Endpoint>;
  readonly #maxRequestBytes: number;
  readonly #permits: CallPermits | undefined;
  readonly #limits = new Map<string, LimitFunction>();
  #key: KeyState | undefined;

  constructor(config: PanoramaConfig, options: PanoramaClientOptions = {}) {
    const { urls, problems } = parsePanoramaUrls(config.url);
    if (problems.length > 0) throw new ConfigError(problems);
    if (!config.apiKey && !(config.username && config.password)) {
      throw new ConfigError([
        'PANORAMA_API_KEY: missing; set it, or both PANORAMA_USERNAME and PANORAMA_PASSWORD',
      ]);
    }
    registerSecret(config.apiKey);
    registerSecret(config.password);
    this.#config = config;
    this.#logger = options.logger ?? silentLogger;
    this.#maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.#permits = options.permits;
    this.#peers = new PanoramaPeers({
      peers: urls.map((url) => this.#endpoint(url)),
      urlOf: (peer) => peer.url,
      probe: (peer) => this.#probe(peer),
      logger: this.#logger,
      ...(options.haRecheckMs === undefined ? {} : { recheckMs: options.haRecheckMs }),
    });
  }

  /** True when `PANORAMA_URL` names the two peers of an HA pair. */
  get isHaPair(): boolean {
    return this.#peers.isPair;
  }

  /**
   * Asks each configured peer `show high-availability state` now and says which one the client
   * uses. One URL: its answer (`standalone` when HA is off). For `status`: the CLI is another
   * process than the functions, so it asks Panorama rather than trusting a stored view.
   */
  async describePeers(): Promise<PanoramaPeerStatus[]> {
    const observations = await this.#peers.observe();
    const used = this.#peers.isPair ? this.#peers.active : this.#peers.peers[0];
    return this.#peers.peers.map((peer, i) => ({
      url: peer.url,
      ...(observations[i] ?? { role: 'unreachable' }),
      inUse: peer === used,
      ...(peer.proxy ? { proxy: peer.proxy } : {}),
    }));
  }

  /** Registers tags on IPs; "already exists" counts as success. See {@link updateTags}. */
  registerTags(entries: readonly IpTagEntry[], options?: UidCallOptions): Promise<UidResult> {
    return this.updateTags(entries, [], options);
  }

  /** Unregisters tags from IPs; "does not exist" counts as success. See {@link updateTags}. */
  unregisterTags(entries: readonly IpTagEntry[], options?: UidCallOptions): Promise<UidResult> {
    return this.updateTags([], entries, options);
  }

  /**
   * Registers and unregisters in as few calls as the limits allow (both sections may share a
   * message). Chunks run concurrently up to `concurrency`; when one fails with an error, the others
   * are still awaited and the first error is thrown (the rest were applied — the calls are
   * idempotent, so a retry of the whole change is safe).
   *
   * @throws {InputError} when an (ip, tag) is both registered and unregistered.
   */
  async updateTags(
    register: readonly IpTagEntry[],
    unregister: readonly IpTagEntry[],
    options: UidCallOptions = {},
  ): Promise<UidResult> {
    const vsys = this.#vsysOf(options);
    const formFields: Record<string, string> = {
      type: 'user-id',
      ...(vsys ? { vsys } : {}),
      ...(options.target ? { target: options.target } : {}),
    };
    const requests = planUidRequests(register, unregister, {
      chunkSize: this.#config.chunkSize,
      maxRequestBytes: this.#maxRequestBytes,
      formFields,
      ...(options.persistent === undefined ? {} : { persistent: options.persistent }),
      ...this.#timeoutOf(options),
    });
    let calls = 0;
    let bytes = 0;
    const failures: EntryFailure[] = [];
    const settled = await Promise.allSettled(
      requests.map(async (req, i) => {
        const ctx: CallContext = {
          operation:
            req.register.length > 0 ? (req.unregister.length > 0 ? 'update' : 'register') : 'unregister',
          ...(options.target ? { target: options.target } : {}),
          ...(options.target && vsys ? { vsys } : {}),
        };
        const { response, attempts } = await this.#call(ctx, req.body, {
          entries: req.register.length + req.unregister.length,
          chunk: `${i + 1}/${requests.length}`,
          acceptUidErrors: true,
        });
        calls += attempts;
        bytes += req.bytes * attempts;
        if (response.status === 'success') return;
        const sent = {
          register: new Map(req.register.map((e) => [e.ip, e.tags])),
          unregister: new Map(req.unregister.map((e) => [e.ip, e.tags])),
        };
        for (const entry of response.uidEntries) {
          if (isIdempotentEntryMessage(entry.section, entry.message)) continue;
          failures.push({
            ip: entry.ip,
            tags: sent[entry.section].get(entry.ip) ?? [],
            message: entry.message,
            operation: entry.section,
          });
        }
      }),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    if (failures.length > 0) {
      this.#logger.warn('panorama rejected entries', {
        target: options.target ?? 'panorama',
        vsys,
        failed: failures.length,
        first: failures[0]?.message,
      });
    }
    return { calls, failures, bytes };
  }

  /** `member@timeout` of registered tags: the call's own, else `TAG_TIMEOUT_MINUTES`; none = persistent. */
  #timeoutOf(options: UidCallOptions): { timeoutSeconds?: number } {
    if (options.timeoutSeconds !== undefined) return { timeoutSeconds: options.timeoutSeconds };
    const minutes = this.#config.tagTimeoutMinutes;
    return minutes === undefined ? {} : { timeoutSeconds: minutes * 60 };
  }

  /**
   * Reads back registered IPs, 500 per call (`start-point` 1-based; stops at a page with fewer than
   * 500 entries, counting `entry` elements rather than trusting `count`). Tags are sorted; an IP
   * listed on two pages (the table changed while paging) gets the union.
   *
   * @throws {PanoramaError} permanent when the device answers with an `outfile` (PAN-OS < 8.0) or
   *   ignores `start-point` (the same full page again).
   */
  async listRegisteredIps(options: ListRegisteredIpsOptions = {}): Promise<IpTagMap> {
    const vsys = this.#vsysOf(options);
    const prefixes = options.tagPrefixes;
    const ctx: CallContext = {
      operation: 'show registered-ip',
      ...(options.target ? { target: options.target } : {}),
      ...(options.target && vsys ? { vsys } : {}),
    };
    const tagsByIp = new Map<string, Set<string>>();
    let firstIp: string | undefined;
    for (let start = 1, page = 1; ; page++) {
      const body = encodeForm({
        type: 'op',
        cmd: registeredIpPageCommand(start),
        ...(vsys ? { vsys } : {}),
        ...(options.target ? { target: options.target } : {}),
      });
      const { response } = await this.#call(ctx, body, { chunk: `page ${page}` });
      const { entries } = parseRegisteredIpPage(response);
      if (page === 1) firstIp = entries[0]?.ip;
      else if (entries.length === REGISTERED_IP_PAGE_SIZE && entries[0]?.ip === firstIp) {
        throw new PanoramaError(
          'Panorama ignored start-point in show registered-ip (PAN-OS before 8.0 cannot page)',
          { kind: FailureKind.permanent, details: { target: options.target } },
        );
      }
      for (const { ip, tags } of entries) {
        const kept = prefixes ? tags.filter((t) => prefixes.some((p) => t.startsWith(p))) : tags;
        let set = tagsByIp.get(ip);
        if (!set) {
          set = new Set();
          tagsByIp.set(ip, set);
        }
        for (const t of kept) set.add(t);
      }
      if (entries.length < REGISTERED_IP_PAGE_SIZE) break;
      start += entries.length;
    }
    const out = new Map<string, readonly string[]>();
    for (const [ip, set] of tagsByIp) {
      if (prefixes && set.size === 0) continue;
      out.set(ip, [...set].sort());
    }
    return out;
  }

  /**
   * Lists the firewalls of the named device groups and of their descendants (`show devicegroups`
   * and `show dg-hierarchy` on Panorama) with their connected state and vsys, in the order of
   * `names`. A group without firewalls (nor descendants with some) contributes nothing.
   *
   * @throws {PanoramaError} permanent naming every group that does not exist on Panorama.
   */
  async listDeviceGroupFirewalls(names: readonly string[]): Promise<ManagedFirewall[]> {
    if (names.length === 0) return [];
    const op = (operation: string, cmd: string) =>
      this.#call({ operation }, encodeForm({ type: 'op', cmd }), {}).then((r) => r.response);
    const [groups, hierarchy] = await Promise.all([
      op('show devicegroups', SHOW_DEVICEGROUPS_COMMAND),
      op('show dg-hierarchy', SHOW_DG_HIERARCHY_COMMAND),
    ]);
    return selectDeviceGroups(parseDeviceGroups(groups), names, parseDeviceGroupHierarchy(hierarchy));
  }

  /** `vsys=` of a call: the firewall's (absent = its default) or, for Panorama itself, `PANORAMA_VSYS`. */
  #vsysOf(options: TargetOptions): string | undefined {
    return options.target ? options.vsys : (options.vsys ?? this.#config.vsys);
  }

  /** Closes idle keep-alive connections. The client stays usable (new connections are opened). */
  close(): void {
    for (const peer of this.#peers.peers) peer.agent.destroy();
  }

  /**
   * The HTTP client of one peer: `POST /api/` form bodies, every status parsed, no redirects; its
   * agent verifies TLS and goes through `HTTPS_PROXY` unless `NO_PROXY` matches (`proxyAgent.ts`).
   */
  #endpoint(url: string): Endpoint {
    const { agent, proxy } = createEndpointAgent(url, this.#config.caCert);
    const http = axios.create({
      baseURL: `${url}/api/`,
      timeout: this.#config.timeoutMs,
      ...(url.startsWith('https:') ? { httpsAgent: agent } : { httpAgent: agent }),
      proxy: false,
      maxRedirects: 0,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/xml' },
    });
    if (proxy) this.#logger.debug('panorama through proxy', { peer: url, proxy });
    return { url, http, agent, ...(proxy ? { proxy } : {}) };
  }

  /** One peer's HA state; a failure of the question makes it `unreachable` (never throws). */
  async #probe(peer: Endpoint): Promise<PeerObservation> {
    const body = encodeForm({ type: 'op', cmd: SHOW_HA_STATE_COMMAND });
    try {
      const { response } = await this.#attempt(peer, { operation: 'show high-availability state' }, body, {});
      return parseHaState(response);
    } catch (err) {
      return { role: 'unreachable', reason: err instanceof Error ? err.message : String(err) };
    }
  }

  #limitFor(target: string | undefined): LimitFunction {
    const key = target ?? PANORAMA_LIMIT_KEY;
    let limit = this.#limits.get(key);
    if (!limit) {
      limit = pLimit(this.#config.concurrency);
      this.#limits.set(key, limit);
    }
    return limit;
  }

  #call(
    ctx: CallContext,
    body: string,
    log: { entries?: number; chunk?: string; acceptUidErrors?: boolean },
  ): Promise<{ response: PanResponse; attempts: number }> {
    return this.#limitFor(ctx.target)(() => this.#peers.run((peer) => this.#attempt(peer, ctx, body, log)));
  }

  /** One call on one peer: re-keys once when the device refuses a generated key. */
  async #attempt(
    peer: Endpoint,
    ctx: CallContext,
    body: string,
    log: { entries?: number; chunk?: string; acceptUidErrors?: boolean },
  ): Promise<{ response: PanResponse; attempts: number }> {
    for (let attempt = 1; ; attempt++) {
      const key = await this.#apiKey(peer);
      const answer = await this.#send(peer, ctx, body, key, log);
      const response = parsePanResponse(answer.body);
      if (isAuthFailure(answer.status, response) && attempt === 1 && this.#canRekey()) {
        this.#forgetKey(key);
        continue;
      }
      if (
        log.acceptUidErrors &&
        response?.status === 'error' &&
        response.uidEntries.length > 0 &&
        !isAuthFailure(answer.status, response)
      ) {
        return { response, attempts: attempt };
      }
      const error = errorFromResponse(answer.status, response, ctx);
      if (error) throw error;
      if (!response) throw new PanoramaError('unreachable: success without a body', { kind: 'permanent' });
      return { response, attempts: attempt };
    }
  }

  async #send(
    peer: Endpoint,
    ctx: CallContext,
    body: string,
    key: string | undefined,
    log: { entries?: number; chunk?: string },
  ): Promise<HttpAnswer> {
    const started = process.hrtime.bigint();
    const fields = {
      operation: ctx.operation,
      target: ctx.target ?? 'panorama',
      entries: log.entries,
      chunk: log.chunk,
      bytes: Buffer.byteLength(body),
      ...(this.#peers.isPair ? { peer: peer.url } : {}),
    };
    try {
      // One permit per HTTP request, so that a permit never has to outlast more than one timeout
      // (a failover, a re-key or an HA probe are requests of their own).
      const post = () =>
        peer.http.post<string>('', body, {
          headers: key ? { 'X-PAN-KEY': key } : {},
          signal: AbortSignal.timeout(this.#config.timeoutMs),
        });
      const res = await (this.#permits ? this.#permits.withPermit(post) : post());
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      this.#logger.debug('panorama call', {
        ...fields,
        status: res.status,
        durationMs: Math.round(durationMs),
      });
      return { status: res.status, body: typeof res.data === 'string' ? res.data : String(res.data ?? '') };
    } catch (err) {
      const error = errorFromTransport(err, ctx, this.#config.timeoutMs);
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      this.#logger.debug('panorama call failed', {
        ...fields,
        error: error.message,
        durationMs: Math.round(durationMs),
      });
      throw error;
    }
  }

  #canRekey(): boolean {
    return !this.#config.apiKey;
  }

  /**
   * The API key: the configured one, or one generated once (on the peer that first needs it).
   * When generating it on another peer failed, it is generated on this one.
   */
  async #apiKey(peer: Endpoint): Promise<string> {
    if (this.#config.apiKey) return this.#config.apiKey;
    const state = this.#key;
    try {
      return await this.#keyFrom(peer);
    } catch (err) {
      if (!state || state.peer === peer || this.#key) throw err;
      return this.#keyFrom(peer);
    }
  }

  #keyFrom(peer: Endpoint): Promise<string> {
    if (!this.#key) {
      const state: KeyState = {
        peer,
        promise: this.#keygen(peer).then(
          (key) => {
            state.value = key;
            return key;
          },
          (err: unknown) => {
            if (this.#key === state) this.#key = undefined;
            throw err;
          },
        ),
      };
      this.#key = state;
    }
    return this.#key.promise;
  }

  #forgetKey(rejected: string): void {
    if (this.#key?.value === rejected) this.#key = undefined;
  }

  async #keygen(peer: Endpoint): Promise<string> {
    const { username, password } = this.#config;
    const ctx: CallContext = { operation: 'keygen' };
    const body = encodeForm({ type: 'keygen', user: username ?? '', password: password ?? '' });
    const answer = await this.#send(peer, ctx, body, undefined, {});
    const response = parsePanResponse(answer.body);
    if (isAuthFailure(answer.status, response)) {
      throw new PanoramaAuthError(
        `Panorama refused the username/password for user "${username}" (keygen: ${response?.message ?? `HTTP ${answer.status}`})`,
      );
    }
    const error = errorFromResponse(answer.status, response, ctx);
    if (error) throw error;
    const result = response?.result as { key?: unknown } | undefined;
    const key = typeof result?.key === 'string' ? result.key.trim() : '';
    if (key === '') {
      throw new PanoramaError('Panorama keygen answered success without a key', {
        kind: FailureKind.permanent,
      });
    }
    registerSecret(key);
    this.#logger.debug('panorama key generated', { user: username });
    return key;
  }
}
