import { describe, expect, it } from 'vitest';
import { isCanonicalIpv4, normalizeIp } from '../../../shared/tags/normalizeIp.js';

describe('normalizeIp', () => {
  it.each([
    ['10.240.0.10', '10.240.0.10'],
    ['0.0.0.1', '0.0.0.1'],
    ['255.255.255.255', '255.255.255.255'],
    ['192.168.100.1', '192.168.100.1'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8::0:1', '2001:db8::1'],
    ['fd00:10:240:0:0:0:0:c', 'fd00:10:240::c'],
    ['FD00:0010:0240::000C', 'fd00:10:240::c'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['fe80::1', 'fe80::1'],
    ['::a00:1', '::a00:1'],
    ['::10.0.0.1', '::a00:1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['::ffff:0:10.0.0.1', '::ffff:0:a00:1'],
  ])('canonicalises %s as %s', (input, canonical) => {
    expect(normalizeIp(input)).toEqual({ ok: true, ip: canonical });
  });

  it.each([
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['::FFFF:0a00:0001', '10.0.0.1'],
    ['0:0:0:0:0:ffff:c0a8:101', '192.168.1.1'],
  ])('tags the IPv4-mapped address %s as its IPv4 address %s, with a note', (input, ipv4) => {
    const r = normalizeIp(input);
    expect(r).toMatchObject({ ok: true, ip: ipv4 });
    expect(r.ok && r.note).toMatch(/IPv4-mapped/);
  });

  it.each<[unknown, RegExp]>([
    ['fe80::1%eth0', /zone IDs/],
    ['fe80::1%25eth0', /zone IDs/],
    ['10.0.0.0/24', /prefix length/],
    ['2001:db8::/64', /prefix length/],
    ['[2001:db8::1]', /brackets/],
    ['010.0.0.1', /"010" has a leading zero/],
    ['10.0.0.01', /"01" has a leading zero/],
    ['256.0.0.1', /256 is larger than 255/],
    ['10.0.0', /4 dot-separated numbers, found 3/],
    ['10.0.0.1.5', /4 dot-separated numbers, found 5/],
    ['10..0.1', /no empty parts/],
    ['0x0a.0.0.1', /not an IPv4 or IPv6 address/],
    ['167772161', /4 dot-separated numbers, found 1/],
    [' 10.0.0.1', /whitespace/],
    ['10.0.0.1\n', /whitespace/],
    ['', /empty/],
    ['0.0.0.0', /unspecified/],
    ['::', /unspecified/],
    ['::ffff:0.0.0.0', /unspecified/],
    ['1:2:3:4:5:6:7:8:9', /8 groups, found 9/],
    ['1:2:3:4:5:6:7', /8 groups, found 7/],
    ['1::2::3', /only once/],
    ['1:2:3:4::5:6:7:8', /too many groups/],
    ['12345::1', /"12345" is not a group of 1-4 hex digits/],
    ['2001:db8::g', /"g" is not a group/],
    ['2001:db8:::1', /empty group/],
    [':1:2:3:4:5:6:7', /empty group/],
    ['::10.0.0.256', /embedded IPv4 part "10.0.0.256"/],
    ['10.0.0.1::', /"10.0.0.1" is not a group/],
    ['::1.2.3.4:5', /"1.2.3.4" is not a group/],
    ['localhost', /not an IPv4 or IPv6 address/],
    ["10.0.0.1'", /not an IPv4 or IPv6 address/],
    ['<script>', /not an IPv4 or IPv6 address/],
    [`1:${'0'.repeat(80)}`, /too long/],
    [167772161, /expected a string, got number/],
    [null, /expected a string, got object/],
    [undefined, /expected a string, got undefined/],
  ])('refuses %j with a reason', (input, reason) => {
    const r = normalizeIp(input);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });
});

describe('isCanonicalIpv4', () => {
  it.each([
    ['10.0.0.1', true],
    ['010.0.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    [42, false],
  ])('%j → %s', (input, expected) => {
    expect(isCanonicalIpv4(input)).toBe(expected);
  });
});
