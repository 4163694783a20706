import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../shared/errors.js';
import {
  buildUidMessage,
  findConflicts,
  normalizeEntries,
  planUidRequests,
  type UidPlanOptions,
} from '../../../shared/panorama/buildUidMessages.js';
import type { IpTagEntry } from '../../../shared/panorama/PanoramaApi.js';
import { asArray, asNode, panXmlParser, textOf } from '../../../shared/panorama/parsePanResponse.js';

const HOSTILE = `a"b<c>&'`;

const plan = (over: Partial<UidPlanOptions> = {}): UidPlanOptions => ({
  chunkSize: 1000,
  maxRequestBytes: 4_000_000,
  formFields: { type: 'user-id' },
  ...over,
});

function entries(n: number, tags: (i: number) => string[]): IpTagEntry[] {
  return Array.from({ length: n }, (_, i) => ({ ip: `10.0.${i >> 8}.${i & 255}`, tags: tags(i) }));
}

/** Reads a uid-message back with the XML parser: section → entries. */
function readBack(xml: string): { register: IpTagEntry[]; unregister: IpTagEntry[] } {
  const payload = asNode(asNode(asNode(panXmlParser.parse(xml))?.['uid-message'])?.payload);
  const section = (name: string) =>
    asArray(asNode(payload?.[name])?.entry).map((e) => ({
      ip: String(asNode(e)?.['@_ip']),
      tags: asArray(asNode(asNode(e)?.tag)?.member).map((m) => textOf(m) ?? ''),
    }));
  return { register: section('register'), unregister: section('unregister') };
}

function cmdOf(body: string): string {
  return new URLSearchParams(body).get('cmd') ?? '';
}

describe('buildUidMessage', () => {
  it('builds the documented register shape', () => {
    expect(buildUidMessage([{ ip: '10.0.0.1', tags: ['tag01', 'tag02'] }], [])).toBe(
      '<uid-message><type>update</type><payload><register><entry ip="10.0.0.1"><tag><member>tag01</member><member>tag02</member></tag></entry></register></payload></uid-message>',
    );
  });

  it('puts unregister before register and leaves out attributes on unregister', () => {
    const xml = buildUidMessage([{ ip: '10.0.0.1', tags: ['a'] }], [{ ip: '10.0.0.2', tags: ['b'] }], {
      persistent: true,
      timeoutSeconds: 3600,
    });
    expect(xml).toBe(
      '<uid-message><type>update</type><payload><unregister><entry ip="10.0.0.2"><tag><member>b</member></tag></entry></unregister><register><entry ip="10.0.0.1" persistent="1"><tag><member timeout="3600">a</member></tag></entry></register></payload></uid-message>',
    );
  });

  it('escapes hostile IP and tag text so that the document parses back to the same values', () => {
    const xml = buildUidMessage(
      [{ ip: HOSTILE, tags: [HOSTILE, '</member></tag><x>', ']]>'] }],
      [{ ip: '10.0.0.1', tags: [HOSTILE] }],
    );
    expect(xml).not.toContain(HOSTILE);
    expect(xml).toContain('ip="a&quot;b&lt;c&gt;&amp;&apos;"');
    expect(xml).toContain('<member>a&quot;b&lt;c&gt;&amp;&apos;</member>');
    expect(readBack(xml)).toEqual({
      register: [{ ip: HOSTILE, tags: [HOSTILE, '</member></tag><x>', ']]>'] }],
      unregister: [{ ip: '10.0.0.1', tags: [HOSTILE] }],
    });
  });
});

describe('normalizeEntries / findConflicts', () => {
  it('merges entries of one IP, removes duplicate tags, sorts tags and drops IPs without tags', () => {
    expect(
      normalizeEntries([
        { ip: '10.0.0.2', tags: ['b', 'a'] },
        { ip: '10.0.0.1', tags: [] },
        { ip: '10.0.0.2', tags: ['a', 'c'] },
      ]),
    ).toEqual([{ ip: '10.0.0.2', tags: ['a', 'b', 'c'] }]);
  });

  it('finds (ip, tag) pairs present in both lists', () => {
    expect(
      findConflicts(
        [
          { ip: '10.0.0.1', tags: ['a', 'b'] },
          { ip: '10.0.0.2', tags: ['a'] },
        ],
        [{ ip: '10.0.0.1', tags: ['b', 'c'] }],
      ),
    ).toEqual([{ ip: '10.0.0.1', tag: 'b' }]);
  });
});

describe('planUidRequests', () => {
  it('chunks by entry count: 2,500 IPs at 1000 → 1000, 1000, 500', () => {
    const reqs = planUidRequests(
      entries(2500, () => ['aks.a']),
      [],
      plan(),
    );
    expect(reqs.map((r) => r.register.length)).toEqual([1000, 1000, 500]);
    expect(reqs.every((r) => r.bytes === Buffer.byteLength(r.body))).toBe(true);
  });

  it('counts unregister and register entries together, unregister first', () => {
    const reqs = planUidRequests(
      entries(3, () => ['aks.r']),
      entries(4, () => ['aks.u']),
      plan({ chunkSize: 5 }),
    );
    expect(reqs.map((r) => [r.unregister.length, r.register.length])).toEqual([
      [4, 1],
      [0, 2],
    ]);
  });

  it('splits below the byte limit, measuring the whole encoded body', () => {
    const big = entries(1000, (i) =>
      Array.from({ length: 6 }, (_, t) => `aks.cluster.svc.label-${t}.${HOSTILE}-${i}`),
    );
    const reqs = planUidRequests(
      big,
      [],
      plan({ maxRequestBytes: 100_000, formFields: { type: 'user-id', target: '0001' } }),
    );
    expect(reqs.length).toBeGreaterThan(1);
    for (const r of reqs) {
      expect(r.bytes).toBeLessThanOrEqual(100_000);
      const form = new URLSearchParams(r.body);
      expect(form.get('type')).toBe('user-id');
      expect(form.get('target')).toBe('0001');
      expect(readBack(cmdOf(r.body)).register).toEqual(r.register);
    }
    expect(reqs.flatMap((r) => r.register)).toEqual(normalizeEntries(big));
  });

  it('rejects one entry that cannot fit in a request', () => {
    expect(() =>
      planUidRequests([{ ip: '10.0.0.1', tags: ['x'.repeat(500)] }], [], plan({ maxRequestBytes: 200 })),
    ).toThrow(InputError);
  });

  it('refuses a change that registers and unregisters the same (ip, tag)', () => {
    expect(() =>
      planUidRequests([{ ip: '10.0.0.1', tags: ['a', 'b'] }], [{ ip: '10.0.0.1', tags: ['b'] }], plan()),
    ).toThrow(/both registered and unregistered.*10\.0\.0\.1 b/);
  });

  it('rejects a bad chunk size and an out-of-range tag timeout', () => {
    expect(() => planUidRequests([], [], plan({ chunkSize: 0 }))).toThrow(InputError);
    expect(() => planUidRequests([], [], plan({ timeoutSeconds: 2_592_001 }))).toThrow(InputError);
  });

  it('never sends an (ip, tag) in both sections, loses nothing, and respects both limits (property)', () => {
    const ip = fc.integer({ min: 0, max: 40 }).map((n) => `10.0.0.${n}`);
    const tag = fc.constantFrom('aks.a', 'aks.b', 'aks.c', HOSTILE, 'aks.d e');
    const entryArb = fc.record({ ip, tags: fc.array(tag, { maxLength: 4 }) });
    fc.assert(
      fc.property(
        fc.array(entryArb, { maxLength: 60 }),
        fc.array(entryArb, { maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1500, max: 6000 }),
        (reg, unreg, chunkSize, maxRequestBytes) => {
          const conflicts = new Set(findConflicts(reg, unreg).map((c) => `${c.ip} ${c.tag}`));
          const unregClean = unreg.map((e) => ({
            ip: e.ip,
            tags: e.tags.filter((t) => !conflicts.has(`${e.ip} ${t}`)),
          }));
          const reqs = planUidRequests(reg, unregClean, plan({ chunkSize, maxRequestBytes }));
          const sent = { register: new Set<string>(), unregister: new Set<string>() };
          for (const r of reqs) {
            expect(r.register.length + r.unregister.length).toBeLessThanOrEqual(chunkSize);
            expect(r.bytes).toBeLessThanOrEqual(maxRequestBytes);
            const back = readBack(cmdOf(r.body));
            const regPairs = new Set(back.register.flatMap((e) => e.tags.map((t) => `${e.ip} ${t}`)));
            for (const e of back.unregister)
              for (const t of e.tags) expect(regPairs.has(`${e.ip} ${t}`)).toBe(false);
            for (const p of regPairs) sent.register.add(p);
            for (const e of back.unregister) for (const t of e.tags) sent.unregister.add(`${e.ip} ${t}`);
          }
          const want = (list: IpTagEntry[]) =>
            new Set(list.flatMap((e) => e.tags.map((t) => `${e.ip} ${t}`)));
          expect(sent.register).toEqual(want(reg));
          expect(sent.unregister).toEqual(want(unregClean));
        },
      ),
      { numRuns: 150 },
    );
  });
});
