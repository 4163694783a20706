import type { PanoramaPeersReport } from '../panorama/panoramaPeersReport.js';
import type { StatusReport } from '../pipeline/collectStatus.js';
import { html, type SafeHtml } from './html.js';
import { renderPage } from './pageLayout.js';
import { renderClusterSection } from './renderClusterSection.js';
import { renderDagSection } from './renderDagSection.js';
import { TARGET_HEADER, targetCells, when } from './targetCells.js';
import type { DagOutcome } from './testDagMatch.js';

/** Everything the status page shows: the `status` report, the HA peers, what needs attention, a DAG test. */
export interface StatusPageView {
  report: StatusReport;
  panorama?: PanoramaPeersReport;
  /** `shared/pipeline/statusAttention.ts` of the report (the rules of `status --check`). */
  attention: readonly string[];
  dag?: DagOutcome;
}

const TITLE = 'aks-panorama-sync status';

function attentionSection(lines: readonly string[]): SafeHtml {
  if (lines.length === 0)
    return html`<section id="attention" class="attention none"><strong class="ok">Nothing needs attention.</strong></section>`;
  return html`<section id="attention" class="attention" role="alert"><strong class="bad">Needs attention (${lines.length}):</strong>
<ul>${lines.map((l) => html`<li>${l}</li>`)}</ul></section>`;
}

function queuesSection(report: StatusReport): SafeHtml {
  const rows = report.queues.map((q) => {
    const poisoned = q.name.endsWith('-poison') && q.depth > 0;
    return html`<tr><td><code>${q.name}</code></td><td class="num${poisoned ? ' bad' : ''}">${q.depth}</td><td>${poisoned ? 'poisoned: run "aks-panorama-sync replay-poison" once the cause is fixed' : ''}</td></tr>`;
  });
  return html`<section id="queues"><h2>Queues</h2>
<table><thead><tr><th>Queue</th><th class="num">Messages</th><th></th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">Pending and poisoned counts per target come from a peek of at most 32 messages per queue.</p></section>`;
}

function tagLifetime(report: StatusReport): SafeHtml {
  return report.tagTimeoutMinutes === undefined
    ? html`<p class="muted">Tags are persistent (no TAG_TIMEOUT_MINUTES).</p>`
    : html`<p>Tags expire ${report.tagTimeoutMinutes} minutes after they were last registered (TAG_TIMEOUT_MINUTES); the audit re-registers them before half of that.</p>`;
}

function auditsSection(report: StatusReport): SafeHtml {
  const timeout = report.tagTimeoutMinutes !== undefined;
  const rows = report.audits.map(
    (a) =>
      html`<tr>${targetCells(a)}<td>${when(a.lastAuditAt, 'never', `(+${a.registered ?? 0}/−${a.unregistered ?? 0})`)}</td>${timeout && html`<td>${when(a.lastRefreshAt, 'never')}</td>`}<td class="err">${a.lastError ?? ''}${a.lastErrorAt && html` <span class="muted">(${a.lastErrorAt})</span>`}</td></tr>`,
  );
  const table =
    rows.length > 0 &&
    html`<table><thead><tr>${TARGET_HEADER}<th>Last audit</th>${timeout && html`<th>Tags refreshed</th>`}<th>Last error</th></tr></thead><tbody>${rows}</tbody></table>`;
  return html`<section id="audits"><h2>Audits</h2>${tagLifetime(report)}${table || html`<p class="muted">No audit yet.</p>`}</section>`;
}

function panoramaSection(panorama: PanoramaPeersReport | undefined): SafeHtml {
  if (!panorama) return html``;
  const rows = panorama.peers.map((p) => {
    const state =
      p.role === 'unreachable'
        ? `unreachable (${p.reason ?? 'no answer'})`
        : `${p.role} (${p.state ?? 'no state'})`;
    return html`<tr><td><code>${p.url}</code></td><td class="${p.role === 'active' ? 'ok' : p.role === 'unreachable' ? 'bad' : ''}">${state}</td><td>${when(p.since, '—')}</td><td>${p.inUse ? 'in use' : ''}</td><td>${p.proxy ?? ''}</td></tr>`;
  });
  const head = panorama.active
    ? html`<p>Active peer <code>${panorama.active}</code>.</p>`
    : html`<p class="bad"><strong>No active peer</strong>: pushes and audits are retried until one peer is active.</p>`;
  return html`<section id="panorama"><h2>Panorama HA pair</h2>${head}
<table><thead><tr><th>Peer</th><th>HA state</th><th>Since</th><th></th><th>Proxy</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

/**
 * The status page (server-rendered, no script): what needs attention, the DAG tester, every
 * cluster with its targets, the audits, the queues and the Panorama HA peers. Every value from the
 * report is escaped (`shared/statusPage/html.ts`).
 */
export function renderStatusPage(view: StatusPageView): string {
  const { report } = view;
  const clusters =
    report.clusters.length === 0
      ? html`<p class="muted">No clusters yet.</p>`
      : report.clusters.map(renderClusterSection);
  return renderPage(
    TITLE,
    html`<header><h1>${TITLE}</h1><p class="meta">Generated <time datetime="${report.generatedAt}">${report.generatedAt}</time> · <a href="">reload</a> · the same data as JSON: <code>Accept: application/json</code></p></header>
${attentionSection(view.attention)}
${renderDagSection(view.dag)}
<section id="clusters"><h2>Clusters (${report.clusters.length})</h2>${clusters}</section>
${auditsSection(report)}
${queuesSection(report)}
${panoramaSection(view.panorama)}`,
  );
}

/** The page shown instead when the configuration is invalid: every problem, one per line. */
export function renderConfigErrorPage(problems: readonly string[]): string {
  return renderPage(
    `${TITLE}: invalid configuration`,
    html`<header><h1>${TITLE}</h1></header>
<section id="attention" class="attention" role="alert"><strong class="bad">The configuration is invalid (${problems.length} problems); the functions cannot run until it is fixed:</strong>
<ul>${problems.map((p) => html`<li>${p}</li>`)}</ul>
<p>Fix the app settings (README.md, configuration reference), then reload.</p></section>`,
  );
}
