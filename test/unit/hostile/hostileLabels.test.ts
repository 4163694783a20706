import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KubeService } from '../../../shared/kubernetes/KubeService.js';
import { buildUidMessage } from '../../../shared/panorama/buildUidMessages.js';
import { parseLabelSelector } from '../../../shared/selectors/parseLabelSelector.js';
import { computeIpTags } from '../../../shared/tags/computeIpTags.js';
import { panTagRuleBroken, uidEntries, xmlProblem } from '../../integration/hostile/recordingProxy.js';

/**
 * Property: whatever labels and names a Service carries, computeIpTags never throws, every tag it
 * produces obeys the PAN-OS rules, every label left out is reported naming Service, cluster and
 * label, messages are single printable lines, and the uid-message built from the tags is
 * well-formed XML that reads back to the same tags.
 */

const CLUSTER = 'aks-p';
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters that must not be in a log line
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('<', '>', '&', ']]>', '"', "'", '\u0000', '  ', ' ', '&amp;', '<![CDATA[x]]>', '\u009b'),
  fc.string({ unit: fc.constantFrom('a', '<', '&', '>', ' ', '"', '\u0001', 'é'), maxLength: 300 }),
);

function service(name: string, labels: Record<string, unknown>, ip: string): KubeService {
  return {
    metadata: {
      name,
      namespace: 'ns',
      labels,
      annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' },
    },
    spec: { type: 'LoadBalancer' },
    status: { loadBalancer: { ingress: [{ ip }] } },
  } as unknown as KubeService;
}

describe('computeIpTags on arbitrary hostile labels (property)', () => {
  it('never produces a tag PAN-OS refuses, reports every refused label, and builds well-formed XML', () => {
    fc.assert(
      fc.property(
        fc.dictionary(hostileText, fc.oneof(hostileText, fc.jsonValue()), { maxKeys: 8 }),
        hostileText,
        (labels, name) => {
          const services = [
            service(name || 'x', labels, '10.1.1.1'),
            service('good', { app: 'web' }, '10.1.1.2'),
          ];
          const { tags, issues } = computeIpTags(services, {
            cluster: CLUSTER,
            selectors: [{ name: 'web', source: 'app=web', selector: parseLabelSelector('app=web') }],
          });
          expect(tags.get('10.1.1.2')).toEqual([
            'aks.aks-p.good',
            'aks.aks-p.svc.app.web',
            'aks_web.aks-p.good',
          ]);
          for (const list of tags.values())
            for (const t of list) expect(panTagRuleBroken(t), t).toBeUndefined();
          for (const issue of issues) {
            expect(issue.cluster).toBe(CLUSTER);
            expect(issue.message).toContain(`in cluster ${CLUSTER}`);
            expect(issue.message).not.toMatch(UNPRINTABLE);
            expect(issue.message.length).toBeLessThan(2000);
          }
          const produced = new Set(tags.get('10.1.1.1') ?? []);
          for (const [key, value] of Object.entries(labels)) {
            const full = `aks.${CLUSTER}.svc.${key}.${String(value)}`;
            const present =
              typeof value === 'string' &&
              (produced.has(full) ||
                [...produced].some((t) => t.length === 127 && t.startsWith(full.slice(0, 118))));
            if (!present) {
              expect(
                issues.some(
                  (i) => i.severity === 'error' && i.label === key && i.service === `ns/${name || 'x'}`,
                ),
                `label ${JSON.stringify(key)} is neither tagged nor reported`,
              ).toBe(true);
            }
          }
          const entries = [...tags].map(([ip, t]) => ({ ip, tags: [...t] }));
          const xml = buildUidMessage(entries, []);
          expect(xmlProblem(xml)).toBeUndefined();
          expect(uidEntries(xml).map((e) => ({ ip: e.ip, tags: e.tags }))).toEqual(entries);
        },
      ),
      { numRuns: 400, seed: 42 },
    );
  });
});
