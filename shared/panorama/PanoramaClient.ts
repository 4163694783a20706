import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import axios, { type AxiosInstance } from 'axios';
import pLimit, { type LimitFunction } from 'p-limit';
import type { PanoramaConfig } from '../config/loadConfig.js';
import { checkServiceUrl } from '../config/loadConfig.js';
import { ConfigError, FailureKind, PanoramaAuthError, PanoramaError } from '../errors.js';
import { type Logger, registerSecret, silentLogger } from '../logger.js';
import type { IpTagMap } from '../tags/IpTagMap.js';
import { encodeForm, planUidRequests, type RegisterAttributes } from './buildUidMessages.js';
import { parseDeviceGroups, SHOW_DEVICEGROUPS_COMMAND, selectDeviceGroups } from './deviceGroups.js';
import type {
  EntryFailure,
  IpTagEntry,
  ManagedFirewall,
  PanoramaApi,
  TargetOptions,
  UidResult,
} from './PanoramaApi.js';
import { type CallContext, errorFromResponse, errorFromTransport, isAuthFailure } from './panoramaErrors.js';
import { isIdempotentEntryMessage, type PanResponse, parsePanResponse } from './parsePanResponse.js';
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
}

/** Options of a register/unregister call. */
export interface UidCallOptions extends TargetOptions, RegisterAttributes {
  /** `vsys=` of the call; default `PanoramaConfig.vsys` (absent = omitted). */
  vsys?: string;
}

/** Options of {@link PanoramaClient.listRegisteredIps}. */
export interface ListRegisteredIpsOptions extends TargetOptions {
  /** Keep only tags starting with one of these (IPs left without tags are dropped). */
  tagPrefixes?: readonly string[];
  /** `vsys=` of the call; default `PanoramaConfig.vsys`. */
  vsys?: string;
}

interface HttpAnswer {
  status: number;
  body: string;
}

interface KeyState {
  promise: Promise<string>;
  value?: string;
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
 *   `maxRequestBytes` bytes; at most `concurrency` calls run at once per device (Panorama, or each
 *   target firewall).
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
  readonly #http: AxiosInstance;
  readonly #agent: http.Agent;
  readonly #maxRequestBytes: number;
  readonly #limits = new Map<string, LimitFunction>();
  #key: KeyState | undefined;

  constructor(config: PanoramaConfig, options: PanoramaClientOptions = {}) {
    const problem = checkServiceUrl('PANORAMA_URL', config.url);
    if (problem) throw new ConfigError([problem]);
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
    const isHttps = new URL(config.url).protocol === 'https:';
    this.#agent = isHttps
      ? new https.Agent({
          keepAlive: true,
          rejectUnauthorized: true,
          ...(config.caCert ? { ca: [...tls.rootCertificates, config.caCert] } : {}),
        })
      : new http.Agent({ keepAlive: true });
    this.#http = axios.create({
      baseURL: `${config.url.replace(/\/+$/, '')}/api/`,
      timeout: config.timeoutMs,
      ...(isHttps ? { httpsAgent: this.#agent } : { httpAgent: this.#agent }),
      proxy: false,
      maxRedirects: 0,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/xml' },
    });
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
    const vsys = options.vsys ?? this.#config.vsys;
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
      ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
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
        failed: failures.length,
        first: failures[0]?.message,
      });
    }
    return { calls, failures, bytes };
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
    const vsys = options.vsys ?? this.#config.vsys;
    const prefixes = options.tagPrefixes;
    const ctx: CallContext = {
      operation: 'show registered-ip',
      ...(options.target ? { target: options.target } : {}),
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
   * Lists the firewalls of the named device groups (`show devicegroups` on Panorama) with their
   * connected state, in the order of `names`. A group without firewalls contributes nothing.
   *
   * @throws {PanoramaError} permanent naming every group that does not exist on Panorama.
   */
  async listDeviceGroupFirewalls(names: readonly string[]): Promise<ManagedFirewall[]> {
    if (names.length === 0) return [];
    const body = encodeForm({ type: 'op', cmd: SHOW_DEVICEGROUPS_COMMAND });
    const { response } = await this.#call({ operation: 'show devicegroups' }, body, {});
    return selectDeviceGroups(parseDeviceGroups(response), names);
  }

  /** Closes idle keep-alive connections. The client stays usable (new connections are opened). */
  close(): void {
    this.#agent.destroy();
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
    return this.#limitFor(ctx.target)(async () => {
      for (let attempt = 1; ; attempt++) {
        const key = await this.#apiKey();
        const answer = await this.#send(ctx, body, key, log);
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
    });
  }

  async #send(
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
    };
    try {
      const res = await this.#http.post<string>('', body, {
        headers: key ? { 'X-PAN-KEY': key } : {},
        signal: AbortSignal.timeout(this.#config.timeoutMs),
      });
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

  #apiKey(): Promise<string> {
    if (this.#config.apiKey) return Promise.resolve(this.#config.apiKey);
    if (!this.#key) {
      const state: KeyState = {
        promise: this.#keygen().then(
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

  async #keygen(): Promise<string> {
    const { username, password } = this.#config;
    const ctx: CallContext = { operation: 'keygen' };
    const body = encodeForm({ type: 'keygen', user: username ?? '', password: password ?? '' });
    const answer = await this.#send(ctx, body, undefined, {});
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
