import { isIP } from 'node:net';
import { XMLBuilder, XMLValidator } from 'fast-xml-parser';
import type { IpTagEntry } from '../../shared/panorama/PanoramaApi.js';
import { asArray, asNode, panXmlParser, textOf } from '../../shared/panorama/parsePanResponse.js';
import { SimDeviceGroups, type SimFirewall, type SimPlacement, simTableKey } from './SimDeviceGroups.js';

/**
 * How the simulated device answers a duplicate register or an unregister of something absent:
 * `error` like the PAN-OS 6.0 capture (`status="error"` with per-entry `… already exists, ignore` /
 * `… does not exist, ignore unreg`), `silent` like newer versions are reported to (plain success).
 */
export type DuplicateMode = 'error' | 'silent';

/** An HTTP answer of the simulated device. */
export interface SimAnswer {
  status: number;
  body: string;
}

export type { SimFirewall, SimPlacement } from './SimDeviceGroups.js';

/** What a `type=user-id` call asked for (parsed from its `uid-message`). */
export interface UidRequestRecord {
  register: IpTagEntry[];
  unregister: IpTagEntry[];
}

interface RegisteredIp {
  tags: Set<string>;
  persistent: boolean;
  /** Tag → when it expires (simulator clock, ms); tags not listed never expire. */
  expires?: Map<string, number>;
}

type Table = Map<string, RegisteredIp>;
type Node = Record<string, unknown>;

/** Per-call entry cap of `show object registered-ip`. */
export const SIM_PAGE_LIMIT = 500;
/**
 * Tags per registered IP the device accepts: the limit is documented (PAN-OS: 32 tags per IP
 * address); the wording of the per-entry refusal, `ip <ip> exceeds the maximum of 32 tags`, is
 * *assumed*, as are `Invalid IP address` and `tag <t> is not a valid tag name` (no capture of these
 * uid-response entries was found). The client does not depend on these texts: every per-entry error
 * other than the idempotent "already exists" / "does not exist" (`shared/panorama/parsePanResponse.ts`) is a rejected entry
 * (`shared/panorama/rejectedEntries.ts`), reported with the device's own words.
 */
export const SIM_MAX_TAGS_PER_IP = 32;

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', processEntities: true });

/** Builds a `<response>` document from fast-xml-parser object form. */
export function xmlResponse(status: 'success' | 'error', content: Node, code?: number): string {
  return builder.build({
    response: { '@_status': status, ...(code === undefined ? {} : { '@_code': String(code) }), ...content },
  }) as string;
}

/** `<response status="error" [code]><msg><line>text</line></msg></response>` with HTTP 200 unless given. */
export function errorAnswer(text: string, code?: number, status = 200): SimAnswer {
  return { status, body: xmlResponse('error', { msg: { line: text } }, code) };
}

/**
 * Parses a `uid-message` without a separate validation pass (it would double the cost of large
 * messages); the parser still throws on broken tags, and a missing root is reported as malformed.
 */
function parseLeniently(xml: string): Node | undefined {
  try {
    return asNode(panXmlParser.parse(xml));
  } catch {
    return undefined;
  }
}

function validIp(ip: string): boolean {
  if (isIP(ip) !== 0) return true;
  const cidr = /^(.+)\/(\d{1,3})$/.exec(ip);
  if (cidr?.[1] && cidr[2]) {
    const family = isIP(cidr[1]);
    const bits = Number(cidr[2]);
    return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
  }
  const range = /^([^-]+)-([^-]+)$/.exec(ip);
  return !!range?.[1] && !!range[2] && isIP(range[1]) === 4 && isIP(range[2]) === 4;
}

function invalidTag(tag: string): boolean {
  return (
    tag === '' ||
    tag.length > 127 ||
    /["']|\s{2}/.test(tag) ||
    [...tag].some((c) => c.charCodeAt(0) < 0x20) ||
    /^(and|or|not)$/i.test(tag)
  );
}

interface UidErrors {
  unregister: Node[];
  register: Node[];
}

function entryError(ip: string, text: string): Node {
  return { '@_ip': ip, '@_message': text };
}

/** `member@timeout` (seconds) of each register member that has one: `ip\ntag` → seconds. */
function memberTimeouts(payload: Node | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of asArray(asNode(payload?.register)?.entry)) {
    const node = asNode(e);
    for (const m of asArray(asNode(node?.tag)?.member)) {
      const timeout = asNode(m)?.['@_timeout'];
      const tag = textOf(m);
      if (timeout !== undefined && tag !== undefined)
        out.set(`${String(node?.['@_ip'])}\n${tag}`, Number(timeout));
    }
  }
  return out;
}

/** The `persistent` attribute of each register entry that has one: IP → persistent. */
function persistentFlags(payload: Node | undefined): Map<string, boolean> {
  const persistentByIp = new Map<string, boolean>();
  for (const e of asArray(asNode(payload?.register)?.entry)) {
    const node = asNode(e);
    if (node?.['@_persistent'] !== undefined)
      persistentByIp.set(String(node['@_ip']), node['@_persistent'] !== '0');
  }
  return persistentByIp;
}

/** The `uid-response`: empty sections on success, else `status="error"` with the failed entries per section. */
function uidAnswer(payload: Node | undefined, errors: UidErrors): SimAnswer {
  const sections = (['unregister', 'register'] as const).filter(
    (s) => payload?.[s] !== undefined || errors[s].length > 0,
  );
  if (errors.register.length + errors.unregister.length === 0) {
    const content = Object.fromEntries(sections.map((s) => [s, '']));
    const body = xmlResponse('success', {
      result: { 'uid-response': { version: '2.0', payload: content } },
    });
    return { status: 200, body };
  }
  const content = Object.fromEntries(
    sections.filter((s) => errors[s].length > 0).map((s) => [s, { entry: errors[s] }]),
  );
  const body = xmlResponse('error', {
    msg: { line: { 'uid-response': { version: '2.0', payload: content } } },
  });
  return { status: 200, body };
}

/**
 * The protocol model of a Panorama and its managed firewalls, without HTTP: registered-IP tables
 * (Panorama's own and one per firewall), device groups, and the `type=user-id` and `type=op`
 * commands. `startPanoramaSimulator` serves it over HTTP(S).
 */
export class PanoramaModel {
  /** See {@link DuplicateMode}. */
  duplicateMode: DuplicateMode;
  /** Emulate PAN-OS 7.1: `show registered-ip` without paging answers an `outfile` beyond 500 entries. */
  legacyOutfile = false;
  readonly #panorama: Table = new Map();
  /** Registered-IP tables of the firewalls, by `simTableKey(serial, vsys)`. */
  readonly #tables = new Map<string, Table>();
  readonly #devices = new SimDeviceGroups();
  /** `simTableKey`s of vsys that refuse every call though `show devicegroups` still lists them. */
  readonly #refusedVsys = new Set<string>();
  /** How far {@link advanceClock} moved the simulator clock ahead of `Date.now()`. */
  #clockOffsetMs = 0;
  /**
   * Whether registering a tag that is already there restarts its timeout (the default). PAN-OS does
   * not document it (docs/tags.md, "Tag timeout"); `false` keeps the first expiry, to test that the
   * audit's read-back still restores tags that lapsed.
   */
  restartTimeoutOnRegister = true;

  constructor(duplicateMode: DuplicateMode = 'error') {
    this.duplicateMode = duplicateMode;
  }

  /** The simulator clock (ms): `Date.now()` plus every {@link advanceClock}; tag timeouts run on it. */
  now(): number {
    return Date.now() + this.#clockOffsetMs;
  }

  /** Moves the simulator clock ahead (tags whose timeout passes expire), without waiting. */
  advanceClock(ms: number): void {
    this.#clockOffsetMs += ms;
  }

  /**
   * The seconds left before each timed tag of Panorama's (no `target`) or a firewall's table expires:
   * IP → tag → seconds (persistent tags are not listed). The XML read-back carries none of this.
   */
  timeouts(target?: string, vsys?: string): Map<string, Map<string, number>> {
    const out = new Map<string, Map<string, number>>();
    const now = this.now();
    for (const [ip, r] of this.#table(target, vsys)) {
      if (r.expires?.size) out.set(ip, new Map([...r.expires].map(([t, at]) => [t, (at - now) / 1000])));
    }
    return out;
  }

  /** Drops the tags whose timeout has passed (and the IPs left without tags), as the device does. */
  #expire(table: Table): Table {
    const now = this.now();
    for (const [ip, r] of table) {
      if (!r.expires) continue;
      for (const [tag, at] of r.expires) {
        if (at > now) continue;
        r.tags.delete(tag);
        r.expires.delete(tag);
      }
      if (r.tags.size === 0) table.delete(ip);
    }
    return table;
  }

  /** Adds a device group (no-op when it exists); with `parent`, nested below it (`show dg-hierarchy`). */
  addDeviceGroup(name: string, parent?: string): void {
    this.#devices.addGroup(name, parent);
  }

  /** Makes `parent` the parent device group of `name` (`undefined`: top level). */
  setParentGroup(name: string, parent: string | undefined): void {
    this.#devices.setParent(name, parent);
  }

  /**
   * Adds (or moves) a managed firewall to a device group, creating the group when needed. With
   * `vsys`, the firewall is multi-vsys and those vsys go to the group (its other vsys stay put).
   */
  addFirewall(deviceGroup: string, serial: string, options: SimPlacement = {}): void {
    this.#devices.place(deviceGroup, serial, options);
    for (const key of this.#devices.tableKeys(serial))
      if (!this.#tables.has(key)) this.#tables.set(key, new Map());
  }

  /** Moves a managed firewall (all its vsys; keeping tables, connection and hostname) to another group. */
  moveFirewall(serial: string, deviceGroup: string): void {
    if (!this.#devices.get(serial)) throw new Error(`simulator: unknown firewall ${serial}`);
    this.addFirewall(deviceGroup, serial);
  }

  /** Marks a firewall connected or disconnected. */
  setConnected(serial: string, connected: boolean): void {
    const fw = this.#devices.get(serial);
    if (!fw) throw new Error(`simulator: unknown firewall ${serial}`);
    fw.connected = connected;
  }

  /** The managed firewalls. */
  firewalls(): SimFirewall[] {
    return this.#devices.list();
  }

  /**
   * Forgets every registered IP of a firewall (a reboot that lost them: every vsys, unless one is
   * named), or of Panorama without `target`.
   */
  reboot(target?: string, vsys?: string): void {
    if (target !== undefined && vsys === undefined) {
      if (!this.#devices.get(target)) throw new Error(`simulator: unknown firewall ${target}`);
      for (const key of this.#devices.tableKeys(target)) this.#tables.get(key)?.clear();
      return;
    }
    this.#table(target, vsys).clear();
  }

  /**
   * Makes a vsys of a multi-vsys firewall refuse every call (`Invalid vsys: <vsys>`, whole call)
   * while `show devicegroups` still lists it — a vsys removed on the firewall that Panorama has not
   * caught up with (an *assumed* situation); `false` undoes it.
   */
  refuseVsys(serial: string, vsys: string, refused = true): void {
    if (refused) this.#refusedVsys.add(simTableKey(serial, vsys));
    else this.#refusedVsys.delete(simTableKey(serial, vsys));
  }

  /** The registered IPs of Panorama (no `target`) or a firewall's (vsys): IP → sorted tags. */
  registered(target?: string, vsys?: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [ip, r] of this.#expire(this.#table(target, vsys))) out.set(ip, [...r.tags].sort());
    return out;
  }

  /** Adds tags directly, as if written by a person or another plugin (no call is recorded). */
  seed(entries: Iterable<IpTagEntry>, target?: string, vsys?: string): void {
    const table = this.#table(target, vsys);
    for (const { ip, tags } of entries) {
      const r = table.get(ip) ?? { tags: new Set<string>(), persistent: true };
      for (const t of tags) r.tags.add(t);
      table.set(ip, r);
    }
  }

  /** A table for the test's side door: a multi-vsys firewall's needs its vsys. */
  #table(target: string | undefined, vsys?: string): Table {
    if (target === undefined) return this.#panorama;
    const multi = this.#devices.get(target)?.vsysGroups !== undefined;
    if (multi && vsys === undefined)
      throw new Error(`simulator: firewall ${target} is multi-vsys; name the vsys`);
    const table = this.#tables.get(simTableKey(target, multi ? vsys : undefined));
    if (!table || (!multi && vsys !== undefined && vsys !== 'vsys1'))
      throw new Error(`simulator: unknown firewall ${target}${vsys ? ` ${vsys}` : ''}`);
    return table;
  }

  /** Resolves `target=` and `vsys=` as Panorama does: own table, or a connected firewall's vsys table. */
  route(target: string | undefined, vsys?: string): Table | SimAnswer {
    if (target === undefined || target === '') return this.#expire(this.#panorama);
    if (vsys && this.#refusedVsys.has(simTableKey(target, vsys))) return errorAnswer(`Invalid vsys: ${vsys}`);
    const key = this.#devices.route(target, vsys || undefined, (text) => errorAnswer(text));
    return typeof key === 'string' ? this.#expire(this.#tables.get(key) as Table) : key;
  }

  /** Handles `type=user-id`: applies the unregister section, then the register section. */
  userId(
    cmd: string | undefined,
    target: string | undefined,
    vsys?: string,
  ): { answer: SimAnswer; request?: UidRequestRecord } {
    if (!cmd) return { answer: errorAnswer('Missing parameter: cmd', 400, 400) };
    const routed = this.route(target, vsys);
    if (!(routed instanceof Map)) return { answer: routed };
    const message = asNode(parseLeniently(cmd)?.['uid-message']);
    if (!message) return { answer: errorAnswer('Malformed command', 18) };
    const payload = asNode(message.payload);
    const request: UidRequestRecord = {
      unregister: this.#entries(asNode(payload?.unregister)),
      register: this.#entries(asNode(payload?.register)),
    };
    const attrs = { persistentByIp: persistentFlags(payload), timeouts: memberTimeouts(payload) };
    const errors: UidErrors = { unregister: [], register: [] };
    this.#unregister(routed, request.unregister, errors.unregister);
    this.#register(routed, request.register, attrs, errors.register);
    return { answer: uidAnswer(payload, errors), request };
  }

  #unregister(table: Table, entries: IpTagEntry[], errors: Node[]): void {
    const strict = this.duplicateMode === 'error';
    for (const { ip, tags } of entries) {
      if (!validIp(ip)) {
        errors.push(entryError(ip, 'Invalid IP address'));
        continue;
      }
      const r = table.get(ip);
      if (!r) {
        if (strict) errors.push(entryError(ip, `ip ${ip} does not exist, ignore unreg`));
        continue;
      }
      for (const tag of tags) {
        r.expires?.delete(tag);
        if (!r.tags.delete(tag) && strict)
          errors.push(entryError(ip, `tag ${tag} does not exist, ignore unreg`));
      }
      if (r.tags.size === 0) table.delete(ip);
    }
  }

  #register(
    table: Table,
    entries: IpTagEntry[],
    attrs: { persistentByIp: Map<string, boolean>; timeouts: Map<string, number> },
    errors: Node[],
  ): void {
    const strict = this.duplicateMode === 'error';
    for (const { ip, tags } of entries) {
      if (!validIp(ip)) {
        errors.push(entryError(ip, 'Invalid IP address'));
        continue;
      }
      const bad = tags.find(invalidTag);
      if (bad !== undefined) {
        errors.push(entryError(ip, `tag ${bad} is not a valid tag name`));
        continue;
      }
      const r = table.get(ip) ?? { tags: new Set<string>(), persistent: true };
      const added = tags.filter((t) => !r.tags.has(t));
      if (r.tags.size + added.length > SIM_MAX_TAGS_PER_IP) {
        errors.push(entryError(ip, `ip ${ip} exceeds the maximum of ${SIM_MAX_TAGS_PER_IP} tags`));
        continue;
      }
      if (strict)
        for (const t of tags)
          if (r.tags.has(t)) errors.push(entryError(ip, `tag ${t} already exists, ignore`));
      for (const t of tags) this.#setTimeout(r, t, attrs.timeouts.get(`${ip}\n${t}`), added.includes(t));
      for (const t of added) r.tags.add(t);
      r.persistent = attrs.persistentByIp.get(ip) ?? r.persistent;
      if (r.tags.size > 0) table.set(ip, r);
    }
  }

  /**
   * A registered tag's expiry: `timeout` seconds from now (0 or none: never, the documented
   * default). A tag already there keeps its expiry unless {@link restartTimeoutOnRegister}.
   */
  #setTimeout(r: RegisteredIp, tag: string, seconds: number | undefined, added: boolean): void {
    if (!added && !this.restartTimeoutOnRegister) return;
    if (!seconds) {
      r.expires?.delete(tag);
      return;
    }
    r.expires ??= new Map();
    r.expires.set(tag, this.now() + seconds * 1000);
  }

  #entries(section: Node | undefined): IpTagEntry[] {
    return asArray(section?.entry).flatMap((e) => {
      const node = asNode(e);
      if (!node) return [];
      const tags = asArray(asNode(node.tag)?.member)
        .map(textOf)
        .filter((t): t is string => t !== undefined);
      return [{ ip: String(node['@_ip'] ?? ''), tags }];
    });
  }

  /**
   * Handles `type=op`: `show object registered-ip` (per `target` and `vsys`) and, on Panorama,
   * `show devicegroups`, `show devices` and `show dg-hierarchy`.
   */
  op(cmd: string | undefined, target: string | undefined, vsys?: string): SimAnswer {
    if (!cmd) return errorAnswer('Missing parameter: cmd', 400, 400);
    const doc = XMLValidator.validate(cmd) === true ? asNode(panXmlParser.parse(cmd)) : undefined;
    const show = asNode(doc?.show);
    const object = asNode(show?.object);
    const registeredIp =
      object && 'registered-ip' in object ? (asNode(object['registered-ip']) ?? {}) : undefined;
    if (registeredIp) {
      const routed = this.route(target, vsys);
      return routed instanceof Map ? this.#registeredIp(routed, registeredIp) : routed;
    }
    if (show && 'devicegroups' in show) {
      if (target) return errorAnswer('show -> devicegroups is unexpected', 17);
      return { status: 200, body: xmlResponse('success', { result: this.#devices.deviceGroupsResult() }) };
    }
    if (show && 'dg-hierarchy' in show) {
      if (target) return errorAnswer('show -> dg-hierarchy is unexpected', 17);
      return { status: 200, body: xmlResponse('success', { result: this.#devices.hierarchyResult() }, 19) };
    }
    if (show && 'devices' in show) {
      if (target) return errorAnswer('show -> devices is unexpected', 17);
      const onlyConnected = 'connected' in (asNode(show.devices) ?? {});
      return {
        status: 200,
        body: xmlResponse('success', { result: this.#devices.devicesResult(onlyConnected) }),
      };
    }
    return errorAnswer(`Invalid command: ${doc ? Object.keys(doc).join(' ') : 'malformed XML'}`, 17);
  }

  #registeredIp(table: Table, filter: Node): SimAnswer {
    const limitText = textOf(filter.limit);
    const startText = textOf(filter['start-point']);
    const paged = limitText !== undefined || startText !== undefined;
    const limit = Math.min(Number(limitText ?? SIM_PAGE_LIMIT) || SIM_PAGE_LIMIT, SIM_PAGE_LIMIT);
    const start = Math.max(1, Number(startText ?? 1) || 1);
    const tagFilter = asArray(asNode(filter.tag)?.entry)
      .map((e) => asNode(e)?.['@_name'])
      .filter((n): n is string => typeof n === 'string');
    const ipFilter = textOf(filter.ip);
    let rows = [...table].filter(
      ([ip, r]) =>
        (ipFilter === undefined || ip === ipFilter) &&
        (tagFilter.length === 0 || tagFilter.some((t) => r.tags.has(t))),
    );
    if (!paged && this.legacyOutfile && rows.length > SIM_PAGE_LIMIT) {
      return {
        status: 200,
        body: xmlResponse('success', { result: { msg: { line: { outfile: 'registered-ip.xml' } } } }),
      };
    }
    rows = rows.slice(start - 1, start - 1 + limit);
    const entry = rows.map(([ip, r]) => ({
      '@_ip': ip,
      '@_from_agent': '0',
      '@_persistent': r.persistent ? '1' : '0',
      tag: { member: [...r.tags] },
    }));
    return { status: 200, body: xmlResponse('success', { result: { entry, count: String(rows.length) } }) };
  }
}
