import { PANORAMA_TARGET } from '../state/TargetStatusRepository.js';

/** A managed firewall's virtual system a cluster's tags go to. */
export interface FirewallTarget {
  /** The firewall's serial number (digits), sent as `target=<serial>`. */
  serial: string;
  /** The vsys (`vsys<N>`), sent as `vsys=`; absent = the firewall's default, sent without `vsys`. */
  vsys?: string;
}

/** What a target id names: Panorama itself, or a firewall (and vsys) managed by it. */
export type ParsedTarget = { kind: 'panorama' } | ({ kind: 'firewall' } & FirewallTarget);

const SERIAL = /^\d{1,32}$/;
const VSYS = /^vsys[1-9]\d{0,2}$/;

/** Separates the serial from the vsys in a target id (`0079…:vsys2`). Never in a serial or vsys name. */
export const VSYS_SEPARATOR = ':';

/** True for a firewall serial as the target ids accept it (1–32 digits). */
export function isSerial(value: string): boolean {
  return SERIAL.test(value);
}

/** True for a vsys name as the target ids accept it (`vsys1` … `vsys999`). */
export function isVsysName(value: string): boolean {
  return VSYS.test(value);
}

/**
 * The target id of a firewall's vsys: the bare serial for the firewall's default (so ids written
 * before vsys were modelled stay valid), else `<serial>:<vsys>`. Safe as a Table RowKey (no `/`,
 * `\`, `#`, `?`).
 *
 * @throws {TypeError} for a serial or vsys the ids do not accept (a programming error: device
 *   answers are checked with {@link isSerial} / {@link isVsysName} before).
 */
export function formatTargetId(target: FirewallTarget): string {
  if (!isSerial(target.serial))
    throw new TypeError(`not a firewall serial: ${JSON.stringify(target.serial)}`);
  if (target.vsys === undefined) return target.serial;
  if (!isVsysName(target.vsys)) throw new TypeError(`not a vsys name: ${JSON.stringify(target.vsys)}`);
  return `${target.serial}${VSYS_SEPARATOR}${target.vsys}`;
}

/**
 * Reads a target id: `panorama`, `<serial>` or `<serial>:<vsys>`; `undefined` for anything else.
 *
 * @example
 * parseTargetId('007951000012345:vsys2'); // { kind: 'firewall', serial: '007951000012345', vsys: 'vsys2' }
 */
export function parseTargetId(id: string): ParsedTarget | undefined {
  if (id === PANORAMA_TARGET) return { kind: 'panorama' };
  const [serial = '', vsys, ...rest] = id.split(VSYS_SEPARATOR);
  if (rest.length > 0 || !isSerial(serial)) return undefined;
  if (vsys === undefined) return { kind: 'firewall', serial };
  return isVsysName(vsys) ? { kind: 'firewall', serial, vsys } : undefined;
}

/** A target id for people: `panorama`, `<serial>`, or `<serial> vsys2`, with the hostname when known. */
export function describeTarget(id: string, hostname?: string): string {
  const parsed = parseTargetId(id);
  if (!parsed || parsed.kind === 'panorama') return id;
  const name = `${parsed.serial}${parsed.vsys ? ` ${parsed.vsys}` : ''}`;
  return hostname ? `${hostname} (${name})` : name;
}
