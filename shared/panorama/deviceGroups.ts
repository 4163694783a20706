import { FailureKind, PanoramaError } from '../errors.js';
import type { ManagedFirewall } from './PanoramaApi.js';
import { asArray, asNode, type PanResponse, textOf } from './parsePanResponse.js';

/** The `type=op` command listing device groups and their firewalls. */
export const SHOW_DEVICEGROUPS_COMMAND = '<show><devicegroups/></show>';

/** One device group as `show devicegroups` reports it. */
export interface DeviceGroupInfo {
  name: string;
  firewalls: ManagedFirewall[];
}

/**
 * Reads `result/devicegroups/entry` of a `show devicegroups` response. A group without firewalls has
 * no `<devices>` child and yields an empty list. A firewall's serial is its `<serial>` child, else
 * the entry's `name`; `connected` is true only for `yes`.
 */
export function parseDeviceGroups(response: PanResponse): DeviceGroupInfo[] {
  const groups = asArray(asNode(asNode(response.result)?.devicegroups)?.entry);
  const out: DeviceGroupInfo[] = [];
  for (const raw of groups) {
    const group = asNode(raw);
    const name = group?.['@_name'];
    if (typeof name !== 'string') continue;
    const firewalls: ManagedFirewall[] = [];
    for (const d of asArray(asNode(group?.devices)?.entry)) {
      const device = asNode(d);
      if (!device) continue;
      const serial = textOf(device.serial) || String(device['@_name'] ?? '');
      if (serial === '') continue;
      const hostname = textOf(device.hostname);
      firewalls.push({
        serial,
        deviceGroup: name,
        connected: textOf(device.connected)?.trim().toLowerCase() === 'yes',
        ...(hostname ? { hostname } : {}),
      });
    }
    out.push({ name, firewalls });
  }
  return out;
}

/**
 * The firewalls of the named groups, in the order of `names`. An unknown group name is an operator
 * error (a typo would silently leave firewalls without tags), so it raises a permanent
 * {@link PanoramaError} naming every missing group (`details.missingDeviceGroups`).
 */
export function selectDeviceGroups(
  groups: readonly DeviceGroupInfo[],
  names: readonly string[],
): ManagedFirewall[] {
  const byName = new Map(groups.map((g) => [g.name, g]));
  const missing = [...new Set(names)].filter((n) => !byName.has(n));
  if (missing.length > 0) {
    throw new PanoramaError(`Device group(s) not found on Panorama: ${missing.join(', ')}`, {
      kind: FailureKind.permanent,
      details: { missingDeviceGroups: missing },
    });
  }
  return [...new Set(names)].flatMap((n) => byName.get(n)?.firewalls ?? []);
}
