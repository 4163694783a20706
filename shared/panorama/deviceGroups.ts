import { FailureKind, PanoramaError } from '../errors.js';
import { descendantsOf, type GroupParents } from './deviceGroupHierarchy.js';
import type { ManagedFirewall } from './PanoramaApi.js';
import { asArray, asNode, type PanResponse, textOf } from './parsePanResponse.js';
import { isVsysName } from './targetId.js';

/** The `type=op` command listing device groups and their firewalls. */
export const SHOW_DEVICEGROUPS_COMMAND = '<show><devicegroups/></show>';

/** One device group as `show devicegroups` reports it. */
export interface DeviceGroupInfo {
  name: string;
  firewalls: ManagedFirewall[];
}

type Node = Record<string, unknown>;

/**
 * One `devices/entry` of a group: serial from `<serial>`, else the entry's `name`; `connected` true
 * only for `yes`; `multi-vsys` and the names under `<vsys>` (the group's vsys of a multi-vsys
 * firewall; empty for a single-vsys one). Names that are not `vsys<N>` are dropped.
 */
function parseDevice(device: Node, deviceGroup: string): ManagedFirewall | undefined {
  const serial = (textOf(device.serial) || String(device['@_name'] ?? '')).trim();
  if (serial === '') return undefined;
  const hostname = textOf(device.hostname)?.trim();
  const multiVsys = textOf(device['multi-vsys'])?.trim().toLowerCase() === 'yes';
  const vsys = asArray(asNode(device.vsys)?.entry)
    .map((e) => asNode(e)?.['@_name'])
    .filter((n): n is string => typeof n === 'string' && isVsysName(n));
  return {
    serial,
    deviceGroup,
    connected: textOf(device.connected)?.trim().toLowerCase() === 'yes',
    ...(hostname ? { hostname } : {}),
    ...(multiVsys ? { multiVsys } : {}),
    ...(vsys.length > 0 ? { vsys: [...new Set(vsys)].sort() } : {}),
  };
}

/**
 * Reads `result/devicegroups/entry` of a `show devicegroups` response. A group without firewalls has
 * no `<devices>` child and yields an empty list.
 */
export function parseDeviceGroups(response: PanResponse): DeviceGroupInfo[] {
  const groups = asArray(asNode(asNode(response.result)?.devicegroups)?.entry);
  const out: DeviceGroupInfo[] = [];
  for (const raw of groups) {
    const group = asNode(raw);
    const name = group?.['@_name'];
    if (typeof name !== 'string') continue;
    const firewalls = asArray(asNode(group?.devices)?.entry).flatMap((d) => {
      const device = asNode(d);
      const fw = device ? parseDevice(device, name) : undefined;
      return fw ? [fw] : [];
    });
    out.push({ name, firewalls });
  }
  return out;
}

/**
 * The firewalls of the named groups and of all their descendants (per `parents`, from
 * `show dg-hierarchy`), in the order of `names`, each with the configured group as `notifyGroup`.
 * A firewall held by several of the groups is listed once per holding group. An unknown group name
 * is an operator error (a typo would silently leave firewalls without tags), so it raises a
 * permanent {@link PanoramaError} naming every missing group (`details.missingDeviceGroups`).
 */
export function selectDeviceGroups(
  groups: readonly DeviceGroupInfo[],
  names: readonly string[],
  parents: GroupParents = new Map(),
): ManagedFirewall[] {
  const byName = new Map(groups.map((g) => [g.name, g]));
  const unique = [...new Set(names)];
  const missing = unique.filter((n) => !byName.has(n));
  if (missing.length > 0) {
    throw new PanoramaError(`Device group(s) not found on Panorama: ${missing.join(', ')}`, {
      kind: FailureKind.permanent,
      details: { missingDeviceGroups: missing },
    });
  }
  return unique.flatMap((name) =>
    [name, ...descendantsOf(name, parents)].flatMap((member) =>
      (byName.get(member)?.firewalls ?? []).map((fw) => ({ ...fw, notifyGroup: name })),
    ),
  );
}
