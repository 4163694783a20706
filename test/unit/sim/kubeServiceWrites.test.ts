import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyMergePatch } from '../../../sim/kubernetes/applyMergePatch.js';
import { serviceWriteProblems } from '../../../sim/kubernetes/serviceWriteProblems.js';

describe('applyMergePatch (RFC 7386)', () => {
  it.each<[string, unknown, unknown, unknown]>([
    ['adds and replaces keys', { a: 1, b: 2 }, { b: 3, c: 4 }, { a: 1, b: 3, c: 4 }],
    [
      'null removes a key',
      { labels: { app: 'web', tier: 'x' } },
      { labels: { tier: null } },
      { labels: { app: 'web' } },
    ],
    ['arrays replace', { ports: [1, 2] }, { ports: [3] }, { ports: [3] }],
    ['a non-object patch replaces the target', { a: 1 }, 'x', 'x'],
    ['an object patch on a non-object target', 'x', { a: { b: null, c: 1 } }, { a: { c: 1 } }],
  ])('%s', (_name, target, patch, expected) => {
    const before = structuredClone(target);
    expect(applyMergePatch(target, patch)).toEqual(expected);
    expect(target).toEqual(before);
  });

  it('is idempotent: applying a patch twice is applying it once', () => {
    const json = fc.jsonValue();
    fc.assert(
      fc.property(json, fc.dictionary(fc.string(), fc.oneof(json, fc.constant(null))), (target, patch) => {
        const once = applyMergePatch(target, patch);
        expect(applyMergePatch(once, patch)).toEqual(once);
      }),
    );
  });
});

const svc = (
  metadata: Record<string, unknown>,
  spec: Record<string, unknown> = { type: 'LoadBalancer', ports: [{ port: 80 }] },
) => ({
  metadata,
  spec,
});

describe('serviceWriteProblems: what the API server refuses in a Service', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'a valid Service',
      svc({ name: 'web', labels: { app: 'web', 'example.com/tier': 'front', empty: '' } }),
      [],
    ],
    ['no name', svc({}), ['metadata.name: Required value: name or generateName is required']],
    ['an upper-case name', svc({ name: 'Web' }), ['metadata.name: Invalid value: "Web": a DNS-1035 label']],
    ['a name starting with a digit', svc({ name: '1web' }), ['metadata.name: Invalid value: "1web"']],
    ['a 64-character name', svc({ name: 'a'.repeat(64) }), ['metadata.name: Invalid value:']],
    [
      'a label value with a space',
      svc({ name: 'w', labels: { tier: 'a b' } }),
      ['metadata.labels: Invalid value: "a b": a valid label'],
    ],
    [
      'a 64-character label value',
      svc({ name: 'w', labels: { tier: 'v'.repeat(64) } }),
      ['metadata.labels: Invalid value:'],
    ],
    [
      'a label key with a bad prefix',
      svc({ name: 'w', labels: { 'Example.com/tier': 'x' } }),
      ['metadata.labels: Invalid value: "Example.com/tier": prefix part'],
    ],
    [
      'a label key ending in "-"',
      svc({ name: 'w', labels: { 'tier-': 'x' } }),
      ['metadata.labels: Invalid value: "tier-": name part must consist'],
    ],
    [
      'an unknown type',
      svc({ name: 'w' }, { type: 'Gateway', ports: [{ port: 80 }] }),
      ['spec.type: Unsupported value: "Gateway"'],
    ],
    [
      'a LoadBalancer without ports',
      svc({ name: 'w' }, { type: 'LoadBalancer' }),
      ['spec.ports: Required value'],
    ],
    ['a headless ClusterIP without ports', svc({ name: 'w' }, { type: 'ClusterIP', clusterIP: 'None' }), []],
  ])('%s', (_name, service, expected) => {
    const problems = serviceWriteProblems(service).map((p) => `${p.field}: ${p.message}`);
    expect(problems).toHaveLength(expected.length);
    for (const [i, prefix] of expected.entries())
      expect(problems[i]?.startsWith(prefix), problems[i]).toBe(true);
  });
});
