import { XMLBuilder } from 'fast-xml-parser';
import { InputError } from '../errors.js';
import type { IpTagEntry } from './PanoramaApi.js';

/** The two sections of a `uid-message` payload. */
export type UidSection = 'register' | 'unregister';

/** Attributes of registered entries. Absent = the device default (persistent, never expires). */
export interface RegisterAttributes {
  /** `entry@persistent`: `true` → `"1"`, `false` → `"0"`; absent → attribute omitted. */
  persistent?: boolean;
  /** `member@timeout` in seconds (PAN-OS 9.0+, max 2,592,000); absent → attribute omitted. */
  timeoutSeconds?: number;
}

/** Limits and extra form fields used to cut a change into requests. */
export interface UidPlanOptions extends RegisterAttributes {
  /** Maximum `<entry>` elements (IPs) per message. */
  chunkSize: number;
  /** Maximum size of the whole form-encoded body in bytes. */
  maxRequestBytes: number;
  /** Form fields sent beside `cmd` (`type`, `vsys`, `target`), counted in the body size. */
  formFields: Readonly<Record<string, string>>;
}

/** One HTTP request of a register/unregister change. */
export interface UidRequest {
  /** The form-encoded body (`type=user-id&cmd=…`), without the API key. */
  body: string;
  /** `Buffer.byteLength(body)`. */
  bytes: number;
  register: IpTagEntry[];
  unregister: IpTagEntry[];
}

/** Largest allowed `member@timeout` (30 days). */
export const MAX_TAG_TIMEOUT_SECONDS = 2_592_000;

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  processEntities: true,
  suppressEmptyNode: false,
});

/**
 * Merges entries of the same IP, drops duplicate tags and IPs without tags. Keeps the first-seen
 * IP order; tags are sorted (code-unit order).
 */
export function normalizeEntries(entries: readonly IpTagEntry[]): IpTagEntry[] {
  const byIp = new Map<string, Set<string>>();
  for (const { ip, tags } of entries) {
    let set = byIp.get(ip);
    if (!set) {
      set = new Set();
      byIp.set(ip, set);
    }
    for (const t of tags) set.add(t);
  }
  const out: IpTagEntry[] = [];
  for (const [ip, set] of byIp) if (set.size > 0) out.push({ ip, tags: [...set].sort() });
  return out;
}

/** The (ip, tag) pairs that occur in both lists. */
export function findConflicts(
  register: readonly IpTagEntry[],
  unregister: readonly IpTagEntry[],
): { ip: string; tag: string }[] {
  const unreg = new Map<string, Set<string>>();
  for (const { ip, tags } of unregister) {
    const set = unreg.get(ip) ?? new Set<string>();
    for (const t of tags) set.add(t);
    unreg.set(ip, set);
  }
  const out: { ip: string; tag: string }[] = [];
  for (const { ip, tags } of register) {
    const set = unreg.get(ip);
    if (!set) continue;
    for (const tag of new Set(tags)) if (set.has(tag)) out.push({ ip, tag });
  }
  return out;
}

function entryNode(entry: IpTagEntry, attrs: RegisterAttributes | undefined): Record<string, unknown> {
  const node: Record<string, unknown> = { '@_ip': entry.ip };
  if (attrs?.persistent !== undefined) node['@_persistent'] = attrs.persistent ? '1' : '0';
  const timeout = attrs?.timeoutSeconds;
  node.tag = {
    member: entry.tags.map((t) => (timeout === undefined ? t : { '#text': t, '@_timeout': String(timeout) })),
  };
  return node;
}

/**
 * Builds one `uid-message` document. Every IP and tag is XML-escaped by the builder. The caller
 * must not pass the same (ip, tag) in both sections (see {@link planUidRequests}).
 *
 * @example
 * buildUidMessage([{ ip: '10.0.0.1', tags: ['aks.c1.web'] }], [])
 * // <uid-message><type>update</type><payload><register><entry ip="10.0.0.1"><tag><member>aks.c1.web</member>…
 */
export function buildUidMessage(
  register: readonly IpTagEntry[],
  unregister: readonly IpTagEntry[],
  attrs?: RegisterAttributes,
): string {
  const payload: Record<string, unknown> = {};
  if (unregister.length > 0) payload.unregister = { entry: unregister.map((e) => entryNode(e, undefined)) };
  if (register.length > 0) payload.register = { entry: register.map((e) => entryNode(e, attrs)) };
  return builder.build({ 'uid-message': { type: 'update', payload } }) as string;
}

/** Form-encodes fields (`application/x-www-form-urlencoded`). */
export function encodeForm(fields: Readonly<Record<string, string>>): string {
  return new URLSearchParams(fields).toString();
}

interface Item {
  section: UidSection;
  entry: IpTagEntry;
}

function toRequest(items: readonly Item[], options: UidPlanOptions): UidRequest {
  const register: IpTagEntry[] = [];
  const unregister: IpTagEntry[] = [];
  for (const { section, entry } of items) (section === 'register' ? register : unregister).push(entry);
  const cmd = buildUidMessage(register, unregister, options);
  const body = encodeForm({ ...options.formFields, cmd });
  return { body, bytes: Buffer.byteLength(body), register, unregister };
}

function splitBySize(items: readonly Item[], options: UidPlanOptions, out: UidRequest[]): void {
  const request = toRequest(items, options);
  if (request.bytes <= options.maxRequestBytes) {
    out.push(request);
    return;
  }
  if (items.length === 1) {
    throw new InputError(
      `One uid-message entry (ip ${items[0]?.entry.ip}) needs ${request.bytes} bytes, more than the ${options.maxRequestBytes}-byte request limit`,
    );
  }
  const parts = Math.min(items.length, Math.max(2, Math.ceil(request.bytes / options.maxRequestBytes)));
  const size = Math.ceil(items.length / parts);
  for (let i = 0; i < items.length; i += size) splitBySize(items.slice(i, i + size), options, out);
}

/**
 * Cuts a change into form-encoded `type=user-id` requests: entries of the same IP are merged, at
 * most `chunkSize` entries per message, and each body at most `maxRequestBytes` bytes (a chunk
 * that is too big is cut into as many parts as its size suggests, again until each fits). Unregister entries come first.
 *
 * @throws {InputError} when an (ip, tag) is in both lists — PAN-OS does not document the order in
 *   which it applies the two sections, so such a change has no defined outcome — or when a single
 *   entry cannot fit in a request.
 */
export function planUidRequests(
  register: readonly IpTagEntry[],
  unregister: readonly IpTagEntry[],
  options: UidPlanOptions,
): UidRequest[] {
  if (!Number.isInteger(options.chunkSize) || options.chunkSize < 1) {
    throw new InputError(`chunkSize must be a positive integer, got ${options.chunkSize}`);
  }
  const timeout = options.timeoutSeconds;
  if (
    timeout !== undefined &&
    (!Number.isInteger(timeout) || timeout < 0 || timeout > MAX_TAG_TIMEOUT_SECONDS)
  ) {
    throw new InputError(`timeoutSeconds must be an integer from 0 to ${MAX_TAG_TIMEOUT_SECONDS}`);
  }
  const reg = normalizeEntries(register);
  const unreg = normalizeEntries(unregister);
  const conflicts = findConflicts(reg, unreg);
  if (conflicts.length > 0) {
    const shown = conflicts
      .slice(0, 5)
      .map((c) => `${c.ip} ${c.tag}`)
      .join(', ');
    throw new InputError(
      `${conflicts.length} (ip, tag) pair(s) are both registered and unregistered in one change: ${shown}${conflicts.length > 5 ? ', …' : ''}`,
      { conflicts: conflicts.length },
    );
  }
  const items: Item[] = [
    ...unreg.map((entry) => ({ section: 'unregister' as const, entry })),
    ...reg.map((entry) => ({ section: 'register' as const, entry })),
  ];
  const out: UidRequest[] = [];
  for (let i = 0; i < items.length; i += options.chunkSize) {
    splitBySize(items.slice(i, i + options.chunkSize), options, out);
  }
  return out;
}
