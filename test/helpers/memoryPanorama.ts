import {
  buildUidMessage,
  normalizeEntries,
  type UidSection,
} from '../../shared/panorama/buildUidMessages.js';
import {
  parseDeviceGroupHierarchy,
  SHOW_DG_HIERARCHY_COMMAND,
} from '../../shared/panorama/deviceGroupHierarchy.js';
import {
  parseDeviceGroups,
  SHOW_DEVICEGROUPS_COMMAND,
  selectDeviceGroups,
} from '../../shared/panorama/deviceGroups.js';
import type {
  EntryFailure,
  IpTagEntry,
  ManagedFirewall,
  PanoramaApi,
  TargetOptions,
  UidResult,
} from '../../shared/panorama/PanoramaApi.js';
import { type CallContext, errorFromResponse } from '../../shared/panorama/panoramaErrors.js';
import {
  isIdempotentEntryMessage,
  type PanResponse,
  parsePanResponse,
} from '../../shared/panorama/parsePanResponse.js';
import type { IpTagMap } from '../../shared/tags/IpTagMap.js';
import { type DuplicateMode, PanoramaModel, type SimAnswer } from '../../sim/panorama/PanoramaModel.js';

/** A method of {@link PanoramaApi}. */
export type PanoramaMethod = keyof PanoramaApi;

/** One call the pipeline made, as {@link MemoryPanorama.calls} logs it. */
export interface PanoramaCall {
  method: PanoramaMethod;
  /** Serial of the firewall the call went to; absent = Panorama itself. */
  target?: string;
  /** The vsys of the firewall the call went to; absent = its default. */
  vsys?: string;
  /** `registerTags` / `unregisterTags`: the entries as passed. */
  entries?: IpTagEntry[];
  /** `listDeviceGroupFirewalls`: the device groups asked for. */
  deviceGroups?: string[];
  /** `listRegisteredIps`: the tag prefixes asked for. */
  tagPrefixes?: string[];
  /** The error the call failed with (injected by {@link MemoryPanorama.failNext} or answered by the device). */
  error?: Error;
}

/** Options of a {@link MemoryPanorama}. */
export interface MemoryPanoramaOptions {
  /** Managed firewalls, each in its device group (groups are created as needed). */
  firewalls?: readonly ManagedFirewall[];
  /** Device groups without firewalls. */
  deviceGroups?: readonly string[];
  /** How duplicates are answered (default `error`, as the simulator). See `sim/panorama/PanoramaModel.ts`. */
  duplicateMode?: DuplicateMode;
  /** IPs per `uid-message` (default 1,000, as `PANORAMA_CHUNK_SIZE`); each message counts as one call. */
  chunkSize?: number;
}

interface InjectedFailure {
  remaining: number;
  error: Error;
  matches: (call: PanoramaCall) => boolean;
}

/**
 * {@link PanoramaApi} in memory for unit tests of the pipeline steps. The device is the simulator's
 * protocol model (`PanoramaModel` in `sim/panorama/PanoramaModel.ts`, no HTTP), and its answers are
 * read with the parsing and error mapping `PanoramaClient` uses (`shared/panorama/`), so register,
 * unregister and read-back behave as they do against `startPanoramaSimulator`: registering is
 * idempotent, unregistering a tag that is not there succeeds, an IP past 32 tags is rejected as an
 * `EntryFailure`, a call to a disconnected firewall throws `FirewallNotConnectedError`, an unknown
 * device group a permanent `PanoramaError`.
 *
 * Every call is logged in {@link calls}; {@link failNext} makes the next calls throw.
 *
 * @example
 * const panorama = new MemoryPanorama({ firewalls: [{ serial: '0101', deviceGroup: 'dg-1', connected: true }] });
 * const world = memoryDeps({ clusters, overrides: { panorama } });
 */
export class MemoryPanorama implements PanoramaApi {
  /** The simulated device (seed, reboot, move or disconnect firewalls through it). */
  readonly model: PanoramaModel;
  /**
   * Every call, in order, including failed ones (a register or unregister without entries is no
   * call, as with `PanoramaClient`).
   */
  readonly calls: PanoramaCall[] = [];
  readonly #failures: InjectedFailure[] = [];
  readonly #chunkSize: number;

  constructor(options: MemoryPanoramaOptions = {}) {
    this.model = new PanoramaModel(options.duplicateMode ?? 'error');
    this.#chunkSize = options.chunkSize ?? 1000;
    for (const name of options.deviceGroups ?? []) this.model.addDeviceGroup(name);
    for (const fw of options.firewalls ?? []) {
      this.model.addFirewall(fw.deviceGroup, fw.serial, {
        connected: fw.connected,
        ...(fw.hostname ? { hostname: fw.hostname } : {}),
        ...(fw.multiVsys && fw.vsys?.length ? { vsys: fw.vsys } : {}),
      });
    }
  }

  /**
   * Makes the next `count` calls that `matches` (default: every call) throw `error` without
   * reaching the device, e.g. a retryable `PanoramaError` or a `FirewallNotConnectedError`.
   */
  failNext(count: number, error: Error, matches: (call: PanoramaCall) => boolean = () => true): void {
    this.#failures.push({ remaining: count, error, matches });
  }

  /** Forgets the logged calls. */
  resetCalls(): void {
    this.calls.length = 0;
  }

  /** The registered IPs of Panorama (no `target`) or a firewall (vsys), as a plain object with sorted keys. */
  registered(target?: string, vsys?: string): Record<string, string[]> {
    const map = this.model.registered(target, vsys);
    return Object.fromEntries([...map.keys()].sort().map((ip) => [ip, map.get(ip) ?? []]));
  }

  /** Adds tags directly, as a person or another plugin would (no call is logged). */
  seed(entries: readonly IpTagEntry[], target?: string, vsys?: string): void {
    this.model.seed(entries, target, vsys);
  }

  /** Forgets the registered IPs of a firewall (every vsys, or the one named), or of Panorama without `target` (a reboot). */
  reboot(target?: string, vsys?: string): void {
    this.model.reboot(target, vsys);
  }

  /** Marks a managed firewall connected or disconnected. */
  setConnected(serial: string, connected: boolean): void {
    this.model.setConnected(serial, connected);
  }

  registerTags(entries: readonly IpTagEntry[], options: TargetOptions = {}): Promise<UidResult> {
    return this.#update('register', entries, options);
  }

  unregisterTags(entries: readonly IpTagEntry[], options: TargetOptions = {}): Promise<UidResult> {
    return this.#update('unregister', entries, options);
  }

  async listRegisteredIps(
    options: TargetOptions & { tagPrefixes?: readonly string[] } = {},
  ): Promise<IpTagMap> {
    const { target, vsys, tagPrefixes: prefixes } = options;
    const call = this.#start({
      method: 'listRegisteredIps',
      ...targetField(options),
      ...prefixField(prefixes),
    });
    return this.#settle(call, () => {
      const routed = this.model.route(target, vsys);
      if (!(routed instanceof Map)) {
        throw (
          answerError(routed, { operation: 'show registered-ip', ...targetField(options) }) ??
          new Error(routed.body)
        );
      }
      const out = new Map<string, readonly string[]>();
      for (const [ip, tags] of this.model.registered(target, target ? vsys : undefined)) {
        const kept = prefixes ? tags.filter((t) => prefixes.some((p) => t.startsWith(p))) : tags;
        if (kept.length > 0) out.set(ip, kept);
      }
      return out;
    });
  }

  async listDeviceGroupFirewalls(names: readonly string[]): Promise<ManagedFirewall[]> {
    if (names.length === 0) return [];
    const call = this.#start({ method: 'listDeviceGroupFirewalls', deviceGroups: [...names] });
    return this.#settle(call, () => {
      const groups = this.#op('show devicegroups', SHOW_DEVICEGROUPS_COMMAND);
      const hierarchy = this.#op('show dg-hierarchy', SHOW_DG_HIERARCHY_COMMAND);
      return selectDeviceGroups(parseDeviceGroups(groups), names, parseDeviceGroupHierarchy(hierarchy));
    });
  }

  /** One `type=op` command on Panorama through the model, its answer read as `PanoramaClient` reads it. */
  #op(operation: string, cmd: string): PanResponse {
    const answer = this.model.op(cmd, undefined);
    const response = parsePanResponse(answer.body);
    const error = errorFromResponse(answer.status, response, { operation });
    if (error) throw error;
    if (!response) throw new Error(`unreachable: ${operation} succeeded without a body`);
    return response;
  }

  /** Sends one section in messages of at most `chunkSize` IPs; per-entry rejections are returned. */
  async #update(
    section: UidSection,
    entries: readonly IpTagEntry[],
    options: TargetOptions,
  ): Promise<UidResult> {
    const normalized = normalizeEntries(entries);
    if (normalized.length === 0) return { calls: 0, failures: [] };
    const method = section === 'register' ? 'registerTags' : 'unregisterTags';
    const call = this.#start({ method, ...targetField(options), entries: entries.map(copyEntry) });
    return this.#settle(call, () => {
      const failures: EntryFailure[] = [];
      let first: Error | undefined;
      let calls = 0;
      for (let i = 0; i < normalized.length; i += this.#chunkSize) {
        calls++;
        try {
          failures.push(...this.#send(section, normalized.slice(i, i + this.#chunkSize), options));
        } catch (err) {
          // As `PanoramaClient`: the other messages are still sent, then the first error is thrown.
          first ??= err as Error;
        }
      }
      if (first) throw first;
      return { calls, failures };
    });
  }

  /** One `type=user-id` message through the model, its answer read as `PanoramaClient` reads it. */
  #send(section: UidSection, chunk: IpTagEntry[], options: TargetOptions): EntryFailure[] {
    const cmd = section === 'register' ? buildUidMessage(chunk, []) : buildUidMessage([], chunk);
    const { answer } = this.model.userId(cmd, options.target, options.target ? options.vsys : undefined);
    const response = parsePanResponse(answer.body);
    if (response?.status === 'error' && response.uidEntries.length > 0) {
      const sent = new Map(chunk.map((e) => [e.ip, e.tags]));
      return response.uidEntries
        .filter((e) => !isIdempotentEntryMessage(e.section, e.message))
        .map((e) => ({ ip: e.ip, tags: sent.get(e.ip) ?? [], message: e.message, operation: e.section }));
    }
    const error = answerError(answer, { operation: section, ...targetField(options) });
    if (error) throw error;
    return [];
  }

  /** Logs a call and throws the injected failure it matches, if any. */
  #start(call: PanoramaCall): PanoramaCall {
    this.calls.push(call);
    const injected = this.#failures.find((f) => f.remaining > 0 && f.matches(call));
    if (injected) {
      injected.remaining--;
      call.error = injected.error;
      throw injected.error;
    }
    return call;
  }

  /** Runs a call on the device, recording the error it fails with. */
  #settle<T>(call: PanoramaCall, run: () => T): T {
    try {
      return run();
    } catch (err) {
      call.error = err as Error;
      throw err;
    }
  }
}

function answerError(answer: SimAnswer, ctx: CallContext): Error | undefined {
  return errorFromResponse(answer.status, parsePanResponse(answer.body), ctx);
}

function targetField({ target, vsys }: TargetOptions): { target?: string; vsys?: string } {
  return target ? { target, ...(vsys ? { vsys } : {}) } : {};
}

function prefixField(prefixes: readonly string[] | undefined): { tagPrefixes?: string[] } {
  return prefixes ? { tagPrefixes: [...prefixes] } : {};
}

function copyEntry(entry: IpTagEntry): IpTagEntry {
  return { ip: entry.ip, tags: [...entry.tags] };
}
