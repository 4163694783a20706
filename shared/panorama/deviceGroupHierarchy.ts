import { asArray, asNode, type PanResponse } from './parsePanResponse.js';

/** The `type=op` command listing the device-group tree. */
export const SHOW_DG_HIERARCHY_COMMAND = '<show><dg-hierarchy></dg-hierarchy></show>';

/** Device group → its parent (`undefined` for a top-level group), as `show dg-hierarchy` reports it. */
export type GroupParents = ReadonlyMap<string, string | undefined>;

/**
 * Reads `result/dg-hierarchy`: nested `<dg name="…">` elements, a child inside its parent (the
 * shape of pan-os-python's `PanoramaDeviceGroupHierarchy` and its test data). Elements without a
 * name are skipped with their subtree.
 *
 * @example
 * // <dg-hierarchy><dg name="hub"><dg name="spoke-1"/></dg></dg-hierarchy>
 * parseDeviceGroupHierarchy(response); // Map { 'hub' => undefined, 'spoke-1' => 'hub' }
 */
export function parseDeviceGroupHierarchy(response: PanResponse): GroupParents {
  const parents = new Map<string, string | undefined>();
  const root = asNode(asNode(response.result)?.['dg-hierarchy']);
  const pending: [string | undefined, unknown][] = asArray(root?.dg).map((dg) => [undefined, dg]);
  for (let i = 0; i < pending.length; i++) {
    const [parent, raw] = pending[i] as [string | undefined, unknown];
    const node = asNode(raw);
    const name = node?.['@_name'];
    if (typeof name !== 'string' || parents.has(name)) continue;
    parents.set(name, parent);
    for (const child of asArray(node?.dg)) pending.push([name, child]);
  }
  return parents;
}

/** Every group below `group` in the tree (children, grandchildren …), breadth first. */
export function descendantsOf(group: string, parents: GroupParents): string[] {
  const children = new Map<string, string[]>();
  for (const [name, parent] of parents) {
    if (parent === undefined) continue;
    const list = children.get(parent) ?? [];
    list.push(name);
    children.set(parent, list);
  }
  const out: string[] = [];
  const seen = new Set([group]);
  for (let queue = [group]; queue.length > 0; ) {
    const next: string[] = [];
    for (const name of queue)
      for (const child of children.get(name) ?? []) {
        if (seen.has(child)) continue;
        seen.add(child);
        out.push(child);
        next.push(child);
      }
    queue = next;
  }
  return out;
}
