import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PanoramaClient } from '../../../shared/panorama/PanoramaClient.js';
import { auditTargets } from '../../../shared/pipeline/auditTargets.js';
import { drainDeltaQueue } from '../../../shared/pipeline/drainDeltaQueue.js';
import type { PipelineDeps } from '../../../shared/pipeline/PipelineDeps.js';
import { recomputeCluster } from '../../../shared/pipeline/recomputeCluster.js';
import { DELTA_QUEUE, poisonQueueName } from '../../../shared/queues/queueNames.js';
import {
  internalService,
  type PipelineWorld,
  registeredObject,
  startPipelineWorld,
} from '../../helpers/pipelineWorld.js';
import {
  panTagRuleBroken,
  type RecordingProxy,
  startRecordingProxy,
  uidEntries,
  xmlProblem,
} from './recordingProxy.js';

/**
 * Services whose labels would break XML or PAN-OS tag rules, run through the whole pipeline
 * (Kubernetes simulator → recompute on Azurite → delta queue → PanoramaClient → Panorama
 * simulator), with a proxy keeping the raw bytes of every request (bad input never reaches Panorama unescaped: docs/architecture.md, invariant 8).
 */

const CLUSTER = 'aks-h';
const KB10 = 10 * 1024;

/** Labels PAN-OS must never see, each with the words its error must contain. */
const REFUSED: Record<string, string> = {
  single: "it's",
  double: 'say "hi"',
  ctl: 'a\u0001b',
  nul: 'a\u0000b',
  tab: 'a\tb',
  newline: 'line1\nline2',
  del: 'a\u007fb',
  c1: 'a\u0085b',
  twospaces: 'two  spaces',
  trailing: 'x ',
  accent: 'café',
  emoji: 'ok-😀',
  bidi: 'abc\u202edef',
  linesep: 'a\u2028b',
  'evil"/quoted-prefix': 'v',
  "o'brien.example.com/team": 'v',
  huge_quote: `${'q'.repeat(KB10)}"`,
};

/** Labels that are awkward for XML but valid tags: they must arrive escaped and intact. */
const ACCEPTED: Record<string, string> = {
  lt: '<script>',
  amp: 'a&b&amp;',
  cdata: ']]>',
  gt: 'a>b',
  comment: '<!-- x -->',
  pi: '<?xml version="1.0"?>'.replace(/"/g, ''),
  entity: '&lt;&#0;&#x1F600;',
  'app.kubernetes.io/name': 'web',
  'example.com/owner': 'team-a',
  space: 'one space',
  huge: 'v'.repeat(KB10),
  hugexml: '<&>'.repeat(KB10 / 3),
};

describe('hostile labels through the full pipeline to the Panorama simulator', () => {
  let world: PipelineWorld;
  let proxy: RecordingProxy;
  let deps: PipelineDeps;

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [
        {
          name: CLUSTER,
          labelSelectors: [{ name: 'web', selector: 'app=web' }],
          services: [
            internalService('evil', 'labels', ['10.7.0.1', 'FD00:0::7'], { ...REFUSED, ...ACCEPTED }),
            internalService('evil', 'we"b', ['10.7.0.3'], { app: 'web' }),
            internalService('evil', 'csi\u009b31m', ['10.7.0.5'], { app: 'web' }),
            internalService('shop', 'web', ['10.7.0.2'], { app: 'web', tier: 'front' }),
            internalService('shop', 'cart<&>', ['10.7.0.4'], { app: 'web' }),
            internalService('shop', 'edge-ips', [
              'FD00:0::A',
              '::ffff:10.7.0.10',
              'fe80::1%eth0',
              '010.7.0.1',
              '0.0.0.0',
              '10.7.0.0/24',
              'ilb.internal',
              '',
            ]),
            internalService('shop', 'same-ip', ['fd00:0:0:0:0:0:0:a']),
          ],
        },
      ],
    });
    proxy = await startRecordingProxy(world.panorama.url);
    deps = {
      ...world.deps,
      panorama: new PanoramaClient({ ...world.config.panorama, url: proxy.url }, { logger: world.logs }),
    };
    const outcome = await recomputeCluster(
      { v: 1, cluster: CLUSTER, reason: 'hostile labels', requestedAt: new Date().toISOString() },
      deps,
    );
    expect(outcome.status).not.toBe('failed');
    const drained = await drainDeltaQueue(deps, {
      maxDequeueCount: 5,
      retryDelaySeconds: 0,
      budgetMs: 60_000,
    });
    expect(drained.poisoned).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await proxy?.stop();
    await world?.stop();
  });

  const userIdRequests = () => proxy.requests.filter((r) => r.params.get('type') === 'user-id');

  it('every request that reached the simulator is well-formed XML of XML 1.0 characters', () => {
    expect(userIdRequests().length).toBeGreaterThan(0);
    for (const r of proxy.requests) {
      const cmd = r.params.get('cmd');
      if (cmd === null) continue;
      expect(xmlProblem(cmd), cmd.slice(0, 300)).toBeUndefined();
    }
  });

  it('the simulator parsed every user-id request (none refused as malformed)', () => {
    const calls = world.panorama.calls.filter((c) => c.type === 'user-id');
    expect(calls.length).toBe(userIdRequests().length);
    for (const c of calls) {
      expect(c.status).toBe(200);
      expect(c.register ?? c.unregister).toBeDefined();
    }
  });

  it('XML metacharacters travel escaped, never raw', () => {
    const cmds = userIdRequests().map((r) => r.params.get('cmd') ?? '');
    const all = cmds.join('\n');
    expect(all).not.toContain('<script>');
    expect(all).not.toContain(']]>');
    expect(all).not.toContain('<!--');
    expect(all).not.toContain('<?xml version');
    expect(all).toContain('&lt;script&gt;');
    // "&amp;" in the label value is sent as "&amp;amp;": the receiver reads back the literal text.
    expect(all).toContain('a&amp;b&amp;amp;');
  });

  it('every tag on the wire and in the simulator obeys the PAN-OS tag rules', () => {
    const onWire = userIdRequests().flatMap((r) => uidEntries(r.params.get('cmd') ?? ''));
    expect(onWire.length).toBeGreaterThan(0);
    for (const e of onWire) for (const t of e.tags) expect(panTagRuleBroken(t), t).toBeUndefined();
    for (const tags of world.panorama.registered().values())
      for (const t of tags) expect(panTagRuleBroken(t), t).toBeUndefined();
  });

  it('the hostile Service gets exactly its acceptable tags, metacharacters intact', () => {
    const registered = registeredObject(world.panorama);
    const tags = registered['10.7.0.1'] ?? [];
    expect(registered['fd00::7']).toEqual(tags);
    expect(tags).toContain('aks.aks-h.labels');
    for (const [key, value] of Object.entries(ACCEPTED)) {
      const full = `aks.aks-h.svc.${key}.${value}`;
      if (full.length <= 127) expect(tags).toContain(full);
      else expect(tags.some((t) => t.length === 127 && t.startsWith(full.slice(0, 118)))).toBe(true);
    }
    for (const key of Object.keys(REFUSED)) {
      expect(tags.some((t) => t.startsWith(`aks.aks-h.svc.${key}.`))).toBe(false);
    }
    // No selector tag: the hostile Service has no app=web label.
    expect(tags.filter((t) => t.startsWith('aks_'))).toEqual([]);
    expect(tags).toHaveLength(1 + Object.keys(ACCEPTED).length);
  });

  it('other Services of the same cluster are registered', () => {
    const registered = registeredObject(world.panorama);
    expect(registered['10.7.0.2']).toEqual([
      'aks.aks-h.svc.app.web',
      'aks.aks-h.svc.tier.front',
      'aks.aks-h.web',
      'aks_web.aks-h.web',
    ]);
    expect(registered['10.7.0.4']).toEqual([
      'aks.aks-h.cart<&>',
      'aks.aks-h.svc.app.web',
      'aks_web.aks-h.cart<&>',
    ]);
  });

  it('edge IPs arrive canonical, shared spellings merge, and invalid ones are reported and left out', () => {
    const registered = registeredObject(world.panorama);
    expect(registered['fd00::a']).toEqual(['aks.aks-h.edge-ips', 'aks.aks-h.same-ip']);
    expect(registered['10.7.0.10']).toEqual(['aks.aks-h.edge-ips']);
    for (const ip of Object.keys(registered)) expect(ip).toMatch(/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+)$/);
    const onWire = userIdRequests().flatMap((r) => uidEntries(r.params.get('cmd') ?? ''));
    expect(onWire.map((e) => e.ip).filter((ip) => !/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+)$/.test(ip))).toEqual(
      [],
    );
    const errors = world.logs.lines.filter(
      (l) =>
        l.level === 'error' &&
        l.fields?.service === 'shop/edge-ips' &&
        /ingress IP .* is not usable/.test(l.message),
    );
    expect(errors.map((l) => l.fields?.ip).sort()).toEqual([
      '',
      '0.0.0.0',
      '010.7.0.1',
      '10.7.0.0/24',
      'fe80::1%eth0',
      'ilb.internal',
    ]);
    const warning = world.logs.lines.find((l) => l.level === 'warn' && l.fields?.ip === '::ffff:10.7.0.10');
    expect(warning?.message).toMatch(/IPv4-mapped IPv6 address, tagged as its IPv4 address 10\.7\.0\.10/);
  });

  it('a Service whose name PAN-OS would refuse gets only its label tags, with an error naming it', () => {
    // Its name tag and selector tag would carry the quote; its label tag does not.
    expect(registeredObject(world.panorama)['10.7.0.3']).toEqual(['aks.aks-h.svc.app.web']);
    const line = world.logs.lines.find(
      (l) => l.level === 'error' && l.message.includes('"evil/we\\"b"') && l.message.includes('its name'),
    );
    expect(line?.message).toContain(`in cluster ${CLUSTER}`);
  });

  it('names with C1 control characters are refused and logged escaped', () => {
    expect(registeredObject(world.panorama)['10.7.0.5']).toEqual(['aks.aks-h.svc.app.web']);
    const line = world.logs.lines.find(
      (l) => l.level === 'error' && l.message.includes('"evil/csi\\u009b31m"'),
    );
    expect(line?.message).toMatch(/its name gives tag .* which contains the control character U\+009B/);
  });

  it.each(Object.keys(REFUSED))(
    'label %j is reported with an error naming Service, cluster and label',
    (key) => {
      const errors = world.logs.lines.filter(
        (l) => l.level === 'error' && l.fields?.service === 'evil/labels' && l.fields?.label === key,
      );
      expect(errors).toHaveLength(1);
      const [line] = errors;
      expect(line?.fields?.cluster).toBe(CLUSTER);
      expect(line?.message).toContain('Service "evil/labels"');
      expect(line?.message).toContain(`in cluster ${CLUSTER}`);
      expect(line?.message).toContain(`label ${JSON.stringify(key)}`);
      expect(line?.message).toMatch(/tag not produced/);
      // One printable line of bounded size, whatever the label held.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none got through
      expect(line?.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      expect(line?.message.length).toBeLessThan(2000);
    },
  );

  it('each over-long tag is logged once as a warning with its shortened form', () => {
    const warnings = world.logs.lines.filter(
      (l) => l.level === 'warn' && l.fields?.service === 'evil/labels' && /characters long/.test(l.message),
    );
    expect(warnings.map((w) => w.fields?.label).sort()).toEqual(['huge', 'hugexml']);
    for (const w of warnings) expect(w.message.length).toBeLessThan(2000);
  });

  it('a recompute of the unchanged cluster sends nothing, and the audit reads the tags back without drift', async () => {
    const before = proxy.requests.length;
    const again = await recomputeCluster(
      { v: 1, cluster: CLUSTER, reason: 'again', requestedAt: new Date().toISOString() },
      deps,
    );
    expect(again.status).toBe('unchanged');
    expect(proxy.requests.length).toBe(before);
    const audits = await auditTargets(deps, { force: true });
    expect(audits).toEqual([
      expect.objectContaining({ status: 'audited', registered: 0, unregistered: 0, failures: 0 }),
    ]);
    for (const r of proxy.requests.slice(before)) {
      const cmd = r.params.get('cmd');
      if (cmd !== null) expect(xmlProblem(cmd)).toBeUndefined();
    }
    expect(await deps.queues.depth(DELTA_QUEUE)).toBe(0);
    expect(await deps.queues.depth(poisonQueueName(DELTA_QUEUE))).toBe(0);
  });
});
