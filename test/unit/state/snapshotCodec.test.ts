import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalTagMapJson, tagMapDigest } from '../../../shared/state/canonicalTagMap.js';
import {
  decodeSnapshot,
  encodeSnapshot,
  joinSnapshot,
  SNAPSHOT_PROPERTIES_PER_ENTITY,
  SNAPSHOT_PROPERTY_BYTES,
  SnapshotCorruptError,
  splitSnapshot,
} from '../../../shared/state/snapshotCodec.js';

type Tags = Map<string, readonly string[]>;

/** What a snapshot holds of a map: IPs with tags, each list unique and sorted. */
function normalized(tags: Tags): Tags {
  const out: Tags = new Map();
  for (const ip of [...tags.keys()].sort()) {
    const list = [...new Set(tags.get(ip))].sort();
    if (list.length) out.set(ip, list);
  }
  return out;
}

const ENTITY_BYTES = SNAPSHOT_PROPERTY_BYTES * SNAPSHOT_PROPERTIES_PER_ENTITY;

describe('canonicalTagMapJson', () => {
  it.each<[string, Tags, string]>([
    ['empty map', new Map(), '{}'],
    ['IP without tags left out', new Map([['10.0.0.1', []]]), '{}'],
    [
      'IPs and tags sorted, duplicates dropped',
      new Map([
        ['10.0.0.2', ['b', 'a', 'b']],
        ['10.0.0.10', ['z']],
      ]),
      '{"10.0.0.10":["z"],"10.0.0.2":["a","b"]}',
    ],
    [
      'hostile tags escaped',
      new Map([['fd00::1', ['a"b', 'c\\d', '\u0001']]]),
      '{"fd00::1":["\\u0001","a\\"b","c\\\\d"]}',
    ],
    ['a key named __proto__ stays data', new Map([['__proto__', ['x']]]), '{"__proto__":["x"]}'],
  ])('%s', (_name, tags, json) => {
    expect(canonicalTagMapJson(tags)).toBe(json);
  });

  it('gives equal digests to equal states built in any order, different ones otherwise', () => {
    const a = new Map([
      ['10.0.0.1', ['x', 'y']],
      ['10.0.0.2', ['z']],
    ]);
    const b = new Map([
      ['10.0.0.2', ['z']],
      ['10.0.0.1', ['y', 'x', 'x']],
      ['10.0.0.3', []],
    ]);
    expect(tagMapDigest(a)).toBe(tagMapDigest(b));
    expect(tagMapDigest(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(tagMapDigest(a)).not.toBe(tagMapDigest(new Map([['10.0.0.1', ['x', 'y']]])));
  });
});

describe('encodeSnapshot / decodeSnapshot', () => {
  it.each<[string, Tags]>([
    ['empty map', new Map()],
    [
      'hostile tags',
      new Map([['10.0.0.1', ['a"b', '</xml>&amp;', 'emoji 🦜', 'lone \ud800', 'nul \u0000']]]),
    ],
    [
      'one IP with 20,000 tags of 127 characters',
      new Map([['10.0.0.1', Array.from({ length: 20_000 }, (_, i) => `aks.c.${i}.`.padEnd(127, 'x'))]]),
    ],
  ])('round-trips %s', (_name, tags) => {
    const encoded = encodeSnapshot(tags);
    expect(decodeSnapshot(encoded.gz, encoded.digest)).toEqual(normalized(tags));
    expect(encoded.digest).toBe(tagMapDigest(tags));
  });

  it('round-trips any map of any strings, and counts its IPs and pairs (property)', () => {
    const tagMap = fc
      .array(fc.tuple(fc.string(), fc.array(fc.string({ unit: 'binary' }), { maxLength: 6 })), {
        maxLength: 30,
      })
      .map((entries) => new Map<string, readonly string[]>(entries));
    fc.assert(
      fc.property(tagMap, (tags) => {
        const encoded = encodeSnapshot(tags);
        const expected = normalized(tags);
        expect(decodeSnapshot(encoded.gz, encoded.digest)).toEqual(expected);
        expect(encoded.ips).toBe(expected.size);
        expect(encoded.pairs).toBe([...expected.values()].reduce((n, l) => n + l.length, 0));
      }),
    );
  });

  it.each<[string, (gz: Uint8Array) => Uint8Array, string | undefined, RegExp]>([
    ['not gzip', () => new Uint8Array([1, 2, 3]), undefined, /not gzip-compressed JSON/],
    ['another digest', (gz) => gz, '0'.repeat(64), /does not match its digest 000000000000/],
    ['cut short', (gz) => gz.subarray(0, gz.length - 4), undefined, /not gzip-compressed JSON/],
  ])('refuses a snapshot that is %s (SnapshotCorruptError)', (_name, spoil, digest, message) => {
    const encoded = encodeSnapshot(new Map([['10.0.0.1', ['a']]]));
    const decode = () => decodeSnapshot(spoil(encoded.gz), digest ?? encoded.digest);
    expect(decode).toThrow(SnapshotCorruptError);
    expect(decode).toThrow(message);
  });
});

describe('splitSnapshot / joinSnapshot', () => {
  it.each([
    [0, 1, [0]],
    [1, 1, [1]],
    [SNAPSHOT_PROPERTY_BYTES, 1, [1]],
    [SNAPSHOT_PROPERTY_BYTES + 1, 1, [2]],
    [ENTITY_BYTES, 1, [SNAPSHOT_PROPERTIES_PER_ENTITY]],
    [ENTITY_BYTES + 1, 2, [SNAPSHOT_PROPERTIES_PER_ENTITY, 1]],
  ])('%i bytes: %i entities of %j properties', (bytes, entities, props) => {
    const split = splitSnapshot(new Uint8Array(bytes));
    expect(split).toHaveLength(entities);
    expect(split.map((e) => e.length)).toEqual(props === undefined ? [] : props);
    expect(split.every((e) => e.every((p) => p.length <= SNAPSHOT_PROPERTY_BYTES))).toBe(true);
  });

  it('joins what it split, in order (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * ENTITY_BYTES }), fc.integer(), (length, seed) => {
        const bytes = new Uint8Array(length).map((_, i) => (i * 31 + seed) & 255);
        expect(Buffer.from(joinSnapshot(splitSnapshot(bytes))).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 25 },
    );
  });
});
