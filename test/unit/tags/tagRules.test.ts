import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isInternalLoadBalancer } from '../../../shared/tags/isInternalLoadBalancer.js';
import { shortenTag } from '../../../shared/tags/shortenTag.js';
import { labelTag, MAX_TAG_LENGTH, selectorTag, serviceTag } from '../../../shared/tags/tagGrammar.js';
import { tagProblem } from '../../../shared/tags/tagProblem.js';

/** The shortening rule, computed independently: first 118 characters, "-", 8 hex of SHA-256. */
function expectedShort(tag: string): string {
  return `${tag.slice(0, 118)}-${createHash('sha256').update(Buffer.from(tag, 'utf8')).digest('hex').slice(0, 8)}`;
}

describe('tag forms', () => {
  it.each([
    [serviceTag('aks-prod-1', 'checkout'), 'aks.aks-prod-1.checkout'],
    [labelTag('aks-prod-1', 'app', 'web'), 'aks.aks-prod-1.svc.app.web'],
    [
      labelTag('aks-prod-1', 'app.kubernetes.io/name', 'web'),
      'aks.aks-prod-1.svc.app.kubernetes.io/name.web',
    ],
    [labelTag('c', 'empty', ''), 'aks.c.svc.empty.'],
    [selectorTag('web', 'aks-prod-1', 'checkout'), 'aks_web.aks-prod-1.checkout'],
  ])('builds %s', (tag, expected) => {
    expect(tag).toBe(expected);
  });
});

describe('shortenTag', () => {
  it.each([
    ['a tag of 127 characters', `aks.c.svc.k.${'v'.repeat(127 - 12)}`, false],
    ['a tag of 126 characters', `aks.c.svc.k.${'v'.repeat(126 - 12)}`, false],
    ['a tag of 128 characters', `aks.c.svc.k.${'v'.repeat(128 - 12)}`, true],
    ['a tag of 500 characters', `aks.c.svc.note.${'x'.repeat(500 - 15)}`, true],
    ['a long tag with XML metacharacters', `aks.c.svc.k.${'<&>'.repeat(60)}`, true],
  ])('handles %s', (_name, tag, shortened) => {
    const out = shortenTag(tag);
    if (shortened) {
      expect(out).toBe(expectedShort(tag));
      expect(out).toHaveLength(MAX_TAG_LENGTH);
      expect(out.slice(0, 118)).toBe(tag.slice(0, 118));
      expect(out).toMatch(/-[0-9a-f]{8}$/);
    } else expect(out).toBe(tag);
  });

  it('gives different short forms to long tags sharing their first 118 characters', () => {
    const base = `aks.c.svc.k.${'v'.repeat(120)}`;
    expect(shortenTag(`${base}1`)).not.toBe(shortenTag(`${base}2`));
    expect(shortenTag(`${base}1`).slice(0, 118)).toBe(shortenTag(`${base}2`).slice(0, 118));
  });

  it('is deterministic across calls', () => {
    const tag = `aks.c.${'n'.repeat(200)}`;
    expect(shortenTag(tag)).toBe(shortenTag(tag));
  });
});

describe('tagProblem', () => {
  it.each([
    'aks.c.svc.app.web',
    'aks.c.svc.app.kubernetes.io/name.web',
    'aks.c.svc.note.a b',
    'aks.c.svc.xml.<a>&amp;</a>',
    'aks.c.svc.brace.{x}',
    'aks.c.svc.empty.',
    'aks.c.svc.and.or',
  ])('accepts %j', (tag) => {
    expect(tagProblem(tag)).toBeUndefined();
  });

  it.each([
    ["aks.c.svc.owner.o'brien", /single quote at position 18/],
    ['aks.c.svc.q."x"', /double quote at position 13/],
    ['aks.c.svc.note.a  b', /two consecutive spaces at position 17/],
    ['aks.c.svc.note.a ', /ends with a space/],
    ['aks.c.svc.nl.a\nb', /control character U\+000A at position 15/],
    ['aks.c.svc.nul.\u0000', /control character U\+0000/],
    ['aks.c.svc.esc.\u001b[31m', /control character U\+001B/],
    ['aks.c.svc.del.\u007f', /control character U\+007F/],
    ['aks.c.svc.c1.\u0085', /control character U\+0085/],
    ['aks.c.svc.tab.\t', /control character U\+0009/],
    ['aks.c.svc.city.zürich', /non-ASCII character U\+00FC at position 17/],
    ['aks.c.svc.emoji.🔥', /non-ASCII character U\+1F525/],
    ['aks.c.svc.rtl.\u202e', /non-ASCII character U\+202E/],
  ])('refuses %j', (tag, reason) => {
    expect(tagProblem(tag)).toMatch(reason);
  });
});

describe('isInternalLoadBalancer', () => {
  const svc = (type: unknown, annotation: unknown) => ({
    metadata: { annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': annotation } },
    spec: { type },
  });
  it.each<[string, unknown, boolean]>([
    ['LoadBalancer with "true"', svc('LoadBalancer', 'true'), true],
    ['LoadBalancer with "True"', svc('LoadBalancer', 'True'), true],
    ['LoadBalancer with "TRUE"', svc('LoadBalancer', 'TRUE'), true],
    ['LoadBalancer with "false"', svc('LoadBalancer', 'false'), false],
    ['LoadBalancer with " true"', svc('LoadBalancer', ' true'), false],
    ['LoadBalancer with "yes"', svc('LoadBalancer', 'yes'), false],
    ['LoadBalancer with boolean true', svc('LoadBalancer', true), false],
    [
      'LoadBalancer without the annotation',
      { metadata: { annotations: {} }, spec: { type: 'LoadBalancer' } },
      false,
    ],
    ['LoadBalancer without annotations', { metadata: {}, spec: { type: 'LoadBalancer' } }, false],
    ['LoadBalancer without metadata', { spec: { type: 'LoadBalancer' } }, false],
    ['ClusterIP with "true"', svc('ClusterIP', 'true'), false],
    ['NodePort with "true"', svc('NodePort', 'true'), false],
    ['loadbalancer (wrong case) with "true"', svc('loadbalancer', 'true'), false],
    ['annotations as a string', { metadata: { annotations: 'x' }, spec: { type: 'LoadBalancer' } }, false],
    ['null', null, false],
    ['a number', 7, false],
  ])('%s → %s', (_name, service, expected) => {
    expect(isInternalLoadBalancer(service)).toBe(expected);
  });
});
