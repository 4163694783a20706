import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ClusterStatus, StatusReport } from '../../../shared/pipeline/collectStatus.js';
import { statusAttention } from '../../../shared/pipeline/statusAttention.js';
import { STATUS_PAGE_CSP } from '../../../shared/statusPage/pageLayout.js';
import { MAX_DAG_ROWS } from '../../../shared/statusPage/renderDagSection.js';
import { renderConfigErrorPage, renderStatusPage } from '../../../shared/statusPage/renderStatusPage.js';

const EVIL = '<script>alert(1)</script>';
const EVIL_TAG = `aks.aks-x.svc.app.${EVIL}`;

function cluster(overrides: Partial<ClusterStatus> = {}): ClusterStatus {
  return {
    cluster: 'aks-prod-1',
    generation: 7,
    ipCount: 12,
    tagCount: 40,
    heldRemovals: 0,
    ipsOverBudget: 0,
    policyWarnings: [],
    targetProblems: [],
    lastRecomputeAt: '2026-12-01T10:00:00.000Z',
    lastRecomputeResult: 'succeeded',
    synced: true,
    retiringTargets: [],
    recomputing: false,
    monitored: true,
    targets: [
      {
        cluster: 'aks-prod-1',
        target: '007051000000101:vsys2',
        hostname: 'fw-frankfurt-1',
        deviceGroup: 'dg-eu',
        lastPushAt: '2026-12-01T10:00:05.000Z',
        lastPushGeneration: 7,
        registered: 3,
        unregistered: 1,
        pending: 2,
        poisoned: 0,
      },
    ],
    ...overrides,
  };
}

function report(clusters: ClusterStatus[], extra: Partial<StatusReport> = {}): StatusReport {
  return {
    generatedAt: '2026-12-01T10:05:00.000Z',
    clusters,
    audits: [],
    queues: [
      { name: 'cluster-recompute', depth: 0 },
      { name: 'tag-deltas', depth: 2 },
      { name: 'cluster-recompute-poison', depth: 0 },
      { name: 'tag-deltas-poison', depth: 0 },
    ],
    poisonedSample: {},
    pendingSample: {},
    ...extra,
  };
}

/** The text of a page without its tags (what a reader sees, roughly). */
function visibleText(page: string): string {
  return page
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');
}

describe('renderStatusPage', () => {
  it('shows a healthy cluster with its target by hostname, serial, vsys and device group', () => {
    const r = report([cluster()]);
    const page = renderStatusPage({ report: r, attention: statusAttention(r) });
    const text = visibleText(page);
    expect(text).toContain('Nothing needs attention.');
    expect(text).toMatch(/aks-prod-1 succeeded/);
    expect(text).toContain('fw-frankfurt-1 007051000000101 vsys2 dg-eu');
    expect(text).toContain('2026-12-01T10:00:05.000Z (generation 7, +3/−1)');
    expect(text).toContain('12 IPs, 40 tags');
    expect(page).toContain('<form class="dag" method="post">');
    expect(page).not.toMatch(/<form[^>]*action=/);
    expect(page).not.toMatch(/<script/i);
  });

  it('lists what needs attention first, with held, failed and poisoned work, and marks the clusters', () => {
    const held = cluster({ cluster: 'aks-held', heldRemovals: 30, lastError: 'removal guard: 30 of 40' });
    const failed = cluster({
      cluster: 'aks-failed',
      lastRecomputeResult: 'failed',
      lastError: 'Kubernetes API 403',
      lastErrorAt: '2026-12-01T09:59:00.000Z',
      targetProblems: ['device group dg-empty resolves to no firewall'],
      policyWarnings: ['selector web matches nothing'],
      ipsOverBudget: 2,
      targets: [
        {
          ...(cluster().targets[0] as ClusterStatus['targets'][number]),
          cluster: 'aks-failed',
          failedEntries: 3,
          poisoned: 4,
          lastError: '3 entries rejected',
        },
      ],
    });
    const r = report([held, failed], {
      queues: [
        { name: 'tag-deltas', depth: 0 },
        { name: 'tag-deltas-poison', depth: 4 },
      ],
      audits: [{ target: 'panorama', lastAuditAt: '2026-12-01T09:00:00.000Z', lastError: 'audit timed out' }],
    });
    const attention = statusAttention(r);
    const page = renderStatusPage({ report: r, attention });
    const text = visibleText(page);
    expect(attention.length).toBeGreaterThanOrEqual(5);
    expect(text).toContain(`Needs attention (${attention.length}):`);
    for (const line of attention) expect(text).toContain(line.replace(/"/g, '&quot;'));
    expect(text.indexOf('Needs attention')).toBeLessThan(text.indexOf('Clusters (2)'));
    expect(page).toMatch(/<section class="cluster bad" data-cluster="aks-held">/);
    expect(text).toContain('HELD: 30 tag removals held');
    expect(text).toContain('device group dg-empty resolves to no firewall');
    expect(text).toContain('selector web matches nothing');
    expect(text).toContain('2 IPs have more tags than MAX_TAGS_PER_IP');
    expect(text).toContain('Kubernetes API 403 (2026-12-01T09:59:00.000Z)');
    expect(text).toContain('poisoned: run &quot;aks-panorama-sync replay-poison&quot;');
    expect(text).toContain('Panorama — — — 2026-12-01T09:00:00.000Z (+0/−0) audit timed out');
  });

  it('escapes hostile cluster names, hostnames, errors and tags everywhere (no markup gets through)', () => {
    const r = report([
      cluster({
        cluster: `aks-"${EVIL}`,
        lastError: `${EVIL}\u202e`,
        policyWarnings: [`tag '${EVIL_TAG}' on 2 namespaces`],
        targets: [
          {
            ...(cluster().targets[0] as ClusterStatus['targets'][number]),
            hostname: `fw-${EVIL}`,
            deviceGroup: `" onclick="x`,
            lastError: `<img src=x onerror=alert(1)>`,
          },
        ],
      }),
    ]);
    const page = renderStatusPage({
      report: r,
      attention: [`cluster ${EVIL}`],
      dag: {
        input: `'${EVIL_TAG}'`,
        report: {
          expression: `'${EVIL_TAG}'`,
          source: { kind: 'state', clusters: [`aks-${EVIL}`] },
          members: [{ ip: '10.0.0.1', services: [`aks-x/${EVIL}`], tags: [EVIL_TAG] }],
          warnings: [`tag '${EVIL}' is on no IP`],
        },
      },
    });
    expect(page).not.toContain(EVIL);
    expect(page).not.toMatch(/<script|<img|onclick="x/i);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('data-cluster="aks-&quot;&lt;script&gt;');
    expect(page).toContain('\\u202e');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain(
      `<textarea id="dag-input" name="dag" rows="3" spellcheck="false" required>\n&#39;aks.aks-x.svc.app.&lt;script&gt;`,
    );
  });

  it('shows a DAG result with IPs, Services and tags, and a syntax error with its position', () => {
    const r = report([cluster()]);
    const ok = renderStatusPage({
      report: r,
      attention: [],
      dag: {
        input: "'aks.aks-prod-1.svc.app.web'",
        report: {
          expression: "'aks.aks-prod-1.svc.app.web'",
          source: { kind: 'state', clusters: ['aks-prod-1'] },
          members: [
            { ip: '10.1.0.4', services: ['aks-prod-1/checkout'], tags: ['aks.aks-prod-1.svc.app.web'] },
            { ip: '10.1.0.5', services: [], tags: ['aks.aks-prod-1.svc.app.web'] },
          ],
          warnings: [],
        },
      },
    });
    const text = visibleText(ok);
    expect(text).toContain('2 IPs match');
    expect(text).toContain('10.1.0.4 aks-prod-1/checkout');
    expect(text).toContain('10.1.0.5 no Service tag of ours');
    const bad = renderStatusPage({
      report: r,
      attention: [],
      dag: { input: "'a' and", error: 'invalid DAG match at position 8: expected a tag', position: 8 },
    });
    expect(visibleText(bad)).toContain('Not a valid match: invalid DAG match at position 8');
    expect(bad).toContain('<pre>&#39;a&#39; and\n       ^</pre>');
  });

  it('lists at most MAX_DAG_ROWS matching IPs and says how many there are', () => {
    const members = Array.from({ length: MAX_DAG_ROWS + 5 }, (_, i) => ({
      ip: `10.9.${i >> 8}.${i & 255}`,
      services: [],
      tags: ['t'],
    }));
    const page = renderStatusPage({
      report: report([]),
      attention: [],
      dag: {
        input: "'t'",
        report: { expression: "'t'", source: { kind: 'state', clusters: [] }, members, warnings: [] },
      },
    });
    expect(visibleText(page)).toContain(`Showing the first ${MAX_DAG_ROWS} of ${MAX_DAG_ROWS + 5} IPs`);
    expect(page.match(/<code class="ip">/g)?.length).toBe(MAX_DAG_ROWS);
  });

  it('shows the Panorama HA peers, and says so loudly when none is active', () => {
    const r = report([]);
    const page = renderStatusPage({
      report: r,
      attention: [],
      panorama: {
        peers: [
          {
            url: 'https://pano-a.example',
            role: 'passive',
            state: 'primary-passive',
            inUse: false,
            since: '2026-12-01T08:00:00.000Z',
          },
          { url: 'https://pano-b.example', role: 'unreachable', reason: 'ECONNREFUSED', inUse: false },
        ],
      },
    });
    const text = visibleText(page);
    expect(text).toContain('No active peer');
    expect(text).toContain('https://pano-a.example passive (primary-passive) 2026-12-01T08:00:00.000Z');
    expect(text).toContain('unreachable (ECONNREFUSED)');
    expect(text).toContain('No clusters yet.');
  });

  it('says whether tags expire, and with TAG_TIMEOUT_MINUTES when each target was last refreshed', () => {
    const persistent = visibleText(renderStatusPage({ report: report([]), attention: [] }));
    expect(persistent).toContain('Tags are persistent (no TAG_TIMEOUT_MINUTES).');
    expect(persistent).toContain('No audit yet.');
    const audits = [
      {
        target: '0101',
        hostname: 'fw-1',
        lastAuditAt: '2026-12-01T10:00:00.000Z',
        lastRefreshAt: '2026-12-01T09:30:00.000Z',
      },
    ];
    const expiring = visibleText(
      renderStatusPage({ report: report([], { tagTimeoutMinutes: 120, audits }), attention: [] }),
    );
    expect(expiring).toContain('Tags expire 120 minutes after they were last registered');
    expect(expiring).toContain('Tags refreshed');
    expect(expiring).toContain(
      'fw-1 0101 default — 2026-12-01T10:00:00.000Z (+0/−0) 2026-12-01T09:30:00.000Z',
    );
  });

  it('allows exactly its own style sheet by hash in the Content-Security-Policy', () => {
    const page = renderStatusPage({ report: report([]), attention: [] });
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? '';
    const hash = createHash('sha256').update(style).digest('base64');
    expect(STATUS_PAGE_CSP).toContain(`style-src 'sha256-${hash}'`);
    expect(STATUS_PAGE_CSP).toMatch(/default-src 'none'/);
    expect(STATUS_PAGE_CSP).toMatch(/form-action 'self'/);
    expect(page).not.toMatch(/ style=/);
  });
});

describe('renderConfigErrorPage', () => {
  it('lists every problem, escaped', () => {
    const page = renderConfigErrorPage([
      'PANORAMA_URL: missing',
      `CLUSTERS: cluster name "${EVIL}" is used twice`,
    ]);
    const text = visibleText(page);
    expect(text).toContain('The configuration is invalid (2 problems)');
    expect(text).toContain('PANORAMA_URL: missing');
    expect(page).not.toContain(EVIL);
  });
});
