/**
 * The managed firewalls of the simulated Panorama: device groups (nested: a group may have a parent),
 * firewalls in them, and the virtual systems of multi-vsys firewalls (each vsys in its own device
 * group). Builds the `show devicegroups`, `show devices` and `show dg-hierarchy` results and says
 * which registered-IP table a (`target`, `vsys`) call reaches.
 *
 * Provenance of the answers (each source is listed in docs/targets.md, "Wire formats and what the
 * simulator models"):
 * - `devicegroups/entry/devices/entry` with `serial`, `connected`, `hostname`, `multi-vsys`,
 *   `<vsys></vsys>` for a single-vsys firewall: captured (xsoar `show_device_groups.xml`, S13).
 * - `<multi-vsys>yes</multi-vsys>` with `vsys/entry[@name]/display-name`: captured for
 *   `show devices all` (S14); that a group's entry lists only the vsys the group holds is
 *   *assumed* (pan-os-python reads it from the configuration instead).
 * - `dg-hierarchy/dg[@name][@dg_id]` nested, `code="19"`: captured (pan-os-python
 *   `tests/test_panorama.py`).
 * - Routing errors `Device <serial> is not a managed device`, `… is not connected`: *assumed*
 *   wording (the client matches only "not connected"); `Missing vsys` for a multi-vsys firewall
 *   called without `vsys`: text from pan-python#27, envelope *assumed*; `Invalid vsys: <vsys>`:
 *   *assumed*.
 */

import type { SimAnswer } from './PanoramaModel.js';

/** A firewall managed by the simulated Panorama. */
export interface SimFirewall {
  serial: string;
  hostname: string;
  /** The device group holding the firewall (for a multi-vsys one: the group of its last-placed vsys). */
  deviceGroup: string;
  connected: boolean;
  /** A multi-vsys firewall's vsys, each with the device group holding it; absent = single-vsys. */
  vsysGroups?: Record<string, string>;
}

/** How to place a firewall in a device group. */
export interface SimPlacement {
  connected?: boolean;
  hostname?: string;
  /** Makes the firewall multi-vsys and puts these of its vsys in the group (others stay where they are). */
  vsys?: readonly string[];
}

type Node = Record<string, unknown>;

/** The table key of a (firewall, vsys): the serial for a single-vsys firewall, else `serial/vsys`. */
export function simTableKey(serial: string, vsys?: string): string {
  return vsys === undefined ? serial : `${serial}/${vsys}`;
}

/** The managed firewalls and device groups of a simulated Panorama. */
export class SimDeviceGroups {
  readonly #firewalls = new Map<string, SimFirewall>();
  /** Group → serials it holds (in the order they joined); insertion order = answer order. */
  readonly #groups = new Map<string, string[]>();
  readonly #parents = new Map<string, string | undefined>();

  /** Adds a device group (no-op when it exists); with `parent`, nests it (the parent is created too). */
  addGroup(name: string, parent?: string): void {
    if (parent !== undefined) this.setParent(name, parent);
    if (!this.#groups.has(name)) this.#groups.set(name, []);
    if (!this.#parents.has(name)) this.#parents.set(name, undefined);
  }

  /** Makes `parent` the parent group of `name` (both created when needed); refuses a cycle. */
  setParent(name: string, parent: string | undefined): void {
    for (let p = parent; p !== undefined; p = this.#parents.get(p))
      if (p === name) throw new Error(`simulator: ${parent} is below ${name}; a device-group cycle`);
    if (parent !== undefined) this.addGroup(parent);
    if (!this.#groups.has(name)) this.#groups.set(name, []);
    this.#parents.set(name, parent);
  }

  /** Adds or moves a firewall (or some vsys of a multi-vsys one) to a device group. */
  place(deviceGroup: string, serial: string, options: SimPlacement = {}): SimFirewall {
    this.addGroup(deviceGroup);
    const existing = this.#firewalls.get(serial);
    const vsysGroups = options.vsys
      ? { ...existing?.vsysGroups, ...Object.fromEntries(options.vsys.map((v) => [v, deviceGroup])) }
      : existing?.vsysGroups
        ? Object.fromEntries(Object.keys(existing.vsysGroups).map((v) => [v, deviceGroup]))
        : undefined;
    const fw: SimFirewall = {
      serial,
      hostname: options.hostname ?? existing?.hostname ?? `fw-${serial}`,
      deviceGroup,
      connected: options.connected ?? existing?.connected ?? true,
      ...(vsysGroups ? { vsysGroups } : {}),
    };
    this.#firewalls.set(serial, fw);
    this.#regroup(fw);
    return fw;
  }

  /** Keeps the group lists in step with where the firewall (or its vsys) now is. */
  #regroup(fw: SimFirewall): void {
    const holding = new Set(fw.vsysGroups ? Object.values(fw.vsysGroups) : [fw.deviceGroup]);
    for (const [group, serials] of this.#groups) {
      const at = serials.indexOf(fw.serial);
      if (at >= 0 && !holding.has(group)) serials.splice(at, 1);
      if (at < 0 && holding.has(group)) serials.push(fw.serial);
    }
  }

  /** The firewall with this serial, or `undefined`. */
  get(serial: string): SimFirewall | undefined {
    return this.#firewalls.get(serial);
  }

  /** Copies of the managed firewalls. */
  list(): SimFirewall[] {
    return [...this.#firewalls.values()].map((f) => ({
      ...f,
      ...(f.vsysGroups ? { vsysGroups: { ...f.vsysGroups } } : {}),
    }));
  }

  /** The table keys of a firewall: one per vsys of a multi-vsys firewall, else the serial. */
  tableKeys(serial: string): string[] {
    const fw = this.#firewalls.get(serial);
    if (!fw) return [];
    return fw.vsysGroups ? Object.keys(fw.vsysGroups).map((v) => simTableKey(serial, v)) : [serial];
  }

  /**
   * The table a call with `target` and `vsys` reaches (Panorama's own is the caller's), or the
   * device's error answer: unknown or disconnected firewall, a multi-vsys firewall without `vsys`,
   * a vsys the firewall does not have (a single-vsys firewall accepts `vsys1`).
   */
  route(target: string, vsys: string | undefined, error: (text: string) => SimAnswer): string | SimAnswer {
    const fw = this.#firewalls.get(target);
    if (!fw) return error(`Device ${target} is not a managed device`);
    if (!fw.connected) return error(`Device ${target} is not connected`);
    if (!fw.vsysGroups)
      return vsys === undefined || vsys === 'vsys1' ? target : error(`Invalid vsys: ${vsys}`);
    if (vsys === undefined) return error('Missing vsys');
    return vsys in fw.vsysGroups ? simTableKey(target, vsys) : error(`Invalid vsys: ${vsys}`);
  }

  /** `result` of `show devicegroups`: every group with the firewalls (and vsys) it holds. */
  deviceGroupsResult(): Node {
    const entry = [...this.#groups].map(([name, serials]) => {
      const devices = serials.flatMap((s) => {
        const f = this.#firewalls.get(s);
        return f ? [deviceNode(f, name)] : [];
      });
      return { '@_name': name, ...(devices.length > 0 ? { devices: { entry: devices } } : {}) };
    });
    return { devicegroups: { entry } };
  }

  /** `result` of `show devices all|connected`: every firewall with all its vsys. */
  devicesResult(onlyConnected: boolean): Node {
    const entry = this.list()
      .filter((f) => !onlyConnected || f.connected)
      .map((f) => deviceNode(f));
    return { devices: { entry } };
  }

  /** `result` of `show dg-hierarchy`: nested `<dg name dg_id>` elements, top-level groups first. */
  hierarchyResult(): Node {
    const ids = new Map([...this.#parents.keys()].map((name, i) => [name, String(11 + i)]));
    const build = (parent: string | undefined): Node[] =>
      [...this.#parents]
        .filter(([, p]) => p === parent)
        .map(([name]) => {
          const children = build(name);
          return { '@_name': name, '@_dg_id': ids.get(name), ...(children.length ? { dg: children } : {}) };
        });
    return { 'dg-hierarchy': { dg: build(undefined) } };
  }
}

/** One `devices/entry`: for a group, a multi-vsys firewall lists only the vsys that group holds. */
function deviceNode(f: SimFirewall, group?: string): Node {
  const vsys = f.vsysGroups
    ? Object.entries(f.vsysGroups)
        .filter(([, g]) => group === undefined || g === group)
        .map(([name]) => name)
        .sort()
    : [];
  return {
    '@_name': f.serial,
    serial: f.serial,
    connected: f.connected ? 'yes' : 'no',
    'unsupported-version': 'no',
    deactivated: 'no',
    hostname: f.hostname,
    'ip-address': '192.0.2.1',
    model: 'PA-VM',
    'sw-version': '11.1.4',
    'multi-vsys': f.vsysGroups ? 'yes' : 'no',
    vsys: vsys.length
      ? { entry: vsys.map((v) => ({ '@_name': v, 'display-name': v, 'shared-policy-status': 'In Sync' })) }
      : '',
    'shared-policy-status': 'In Sync',
  };
}
