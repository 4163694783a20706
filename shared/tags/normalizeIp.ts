/** The outcome of {@link normalizeIp}: the canonical IP (and an optional note), or why it was refused. */
export type NormalizedIp = { ok: true; ip: string; note?: string } | { ok: false; reason: string };

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/**
 * Whether `text` is already a canonical host IPv4 address (`normalizeIp(text)` would return it
 * unchanged); a cheap test without allocation for the common case.
 */
export function isCanonicalIpv4(text: unknown): text is string {
  return typeof text === 'string' && IPV4.test(text) && text !== '0.0.0.0';
}

function ipv4Problem(text: string): string {
  const parts = text.split('.');
  if (parts.length !== 4) return `an IPv4 address has 4 dot-separated numbers, found ${parts.length}`;
  for (const p of parts) {
    if (p === '') return 'an IPv4 address has no empty parts';
    if (!/^\d+$/.test(p)) return `"${p}" is not a decimal number`;
    if (p.length > 1 && p[0] === '0') return `"${p}" has a leading zero (ambiguous: octal or decimal)`;
    if (Number(p) > 255) return `${p} is larger than 255`;
  }
  return 'not a dotted-quad IPv4 address';
}

function ipv4Bytes(text: string): number[] | undefined {
  return IPV4.test(text) ? text.split('.').map(Number) : undefined;
}

function hexGroups(part: string, allowIpv4Tail: boolean): number[] | string {
  if (part === '') return [];
  const groups: number[] = [];
  const items = part.split(':');
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as string;
    if (allowIpv4Tail && i === items.length - 1 && item.includes('.')) {
      const bytes = ipv4Bytes(item);
      if (!bytes) return `embedded IPv4 part "${item}": ${ipv4Problem(item)}`;
      groups.push(
        ((bytes[0] as number) << 8) | (bytes[1] as number),
        ((bytes[2] as number) << 8) | (bytes[3] as number),
      );
    } else if (HEX_GROUP.test(item)) {
      groups.push(Number.parseInt(item, 16));
    } else if (item === '') {
      return 'empty group (a single ":" where "::" or a group was expected)';
    } else {
      return `"${item}" is not a group of 1-4 hex digits`;
    }
  }
  return groups;
}

function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function normalizeIpv6(text: string): NormalizedIp {
  if (text.includes('%')) return { ok: false, reason: 'zone IDs ("%…") are not allowed in tagged IPs' };
  if (text.includes('/'))
    return { ok: false, reason: 'a prefix length ("/…") is not allowed; expected one address' };
  if (text.startsWith('[')) return { ok: false, reason: 'brackets are not allowed; expected a bare address' };
  const halves = text.split('::');
  if (halves.length > 2) return { ok: false, reason: '"::" may appear only once' };
  let groups: number[];
  if (halves.length === 2) {
    const head = hexGroups(halves[0] as string, false);
    if (typeof head === 'string') return { ok: false, reason: head };
    const tail = hexGroups(halves[1] as string, true);
    if (typeof tail === 'string') return { ok: false, reason: tail };
    if (head.length + tail.length > 7)
      return { ok: false, reason: 'too many groups for an IPv6 address with "::"' };
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = hexGroups(text, true);
    if (typeof all === 'string') return { ok: false, reason: all };
    if (all.length !== 8) return { ok: false, reason: `an IPv6 address has 8 groups, found ${all.length}` };
    groups = all;
  }
  if (groups.every((g) => g === 0)) return { ok: false, reason: 'the unspecified address :: is not a host' };
  if (groups[5] === 0xffff && groups.slice(0, 5).every((g) => g === 0)) {
    const hi = groups[6] as number;
    const lo = groups[7] as number;
    const ip = `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
    if (ip === '0.0.0.0') return { ok: false, reason: 'the unspecified address 0.0.0.0 is not a host' };
    return { ok: true, ip, note: `IPv4-mapped IPv6 address, tagged as its IPv4 address ${ip}` };
  }
  return { ok: true, ip: formatIpv6(groups) };
}

/**
 * Canonicalises one IP address as Panorama should see it, or says why it is refused.
 *
 * - IPv4: strict dotted quad, four decimal numbers 0–255 without leading zeros (`010.0.0.1` is
 *   refused: Go and PAN-OS read such octets differently).
 * - IPv6: every RFC 4291 text form (including an embedded IPv4 tail) → the RFC 5952 form: lower
 *   case, no leading zeros, the longest run (first on a tie) of two or more zero groups as `::`.
 * - IPv4-mapped IPv6 (`::ffff:10.0.0.1`) → its IPv4 address (`10.0.0.1`) with a `note`: the
 *   firewall sees that host's traffic as IPv4, so only the IPv4 registration can ever match.
 * - Refused: zone IDs (`fe80::1%eth0`), prefix lengths, brackets, surrounding whitespace, the
 *   unspecified addresses `0.0.0.0` and `::`, and anything that is not a string or not an address.
 *
 * @example normalizeIp('2001:DB8:0:0:0:0:0:1') // { ok: true, ip: '2001:db8::1' }
 */
export function normalizeIp(text: unknown): NormalizedIp {
  if (typeof text !== 'string') return { ok: false, reason: `expected a string, got ${typeof text}` };
  if (IPV4.test(text)) {
    return text === '0.0.0.0'
      ? { ok: false, reason: 'the unspecified address 0.0.0.0 is not a host' }
      : { ok: true, ip: text };
  }
  if (text.length === 0) return { ok: false, reason: 'empty string' };
  if (text.length > 64) return { ok: false, reason: 'too long for an IP address' };
  if (/\s/.test(text)) return { ok: false, reason: 'contains whitespace' };
  if (text.includes('/'))
    return { ok: false, reason: 'a prefix length ("/…") is not allowed; expected one address' };
  if (text.includes(':')) return normalizeIpv6(text);
  if (/^[\d.]+$/.test(text)) return { ok: false, reason: ipv4Problem(text) };
  return { ok: false, reason: 'not an IPv4 or IPv6 address' };
}
