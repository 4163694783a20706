/**
 * IP → tags. Keys are canonical IP strings (IPv4 dotted quad, IPv6 lower-case compressed); values
 * are unique tags sorted in code-unit order. Produced by the tag engine, stored per cluster in
 * Table Storage, read back from Panorama.
 */
export type IpTagMap = ReadonlyMap<string, readonly string[]>;

/** Prints an {@link IpTagMap} as a plain JSON object with IPs in sorted order. */
export function ipTagMapToJson(map: IpTagMap): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const ip of [...map.keys()].sort()) out[ip] = [...(map.get(ip) ?? [])];
  return out;
}
