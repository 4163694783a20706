import type { DagReport } from '../pipeline/evaluateDag.js';
import { escapeMarkup } from './escapeHtml.js';
import { html, type SafeHtml, trustedHtml } from './html.js';
import { DAG_FIELD } from './readDagForm.js';
import type { DagOutcome } from './testDagMatch.js';

/** Short printable text, where a caret under the problem lines up. */
const PLAIN_LINE = /^[\x20-\x7e]{0,200}$/;

const EXAMPLE = "'aks.<cluster>.svc.app.web' and 'aks_web.<cluster>.checkout'";

function sourceText(report: DagReport): string {
  return report.source.kind === 'state'
    ? `the last-known state of ${report.source.clusters.join(', ') || 'no configured cluster'}`
    : `the read-back of target ${report.source.target}`;
}

/** Most matching IPs the page lists (the JSON answer lists them all). */
export const MAX_DAG_ROWS = 1000;

function membersTable(report: DagReport): SafeHtml {
  if (report.members.length === 0) return html``;
  const cut =
    report.members.length > MAX_DAG_ROWS &&
    html`<p class="warn">Showing the first ${MAX_DAG_ROWS} of ${report.members.length} IPs; POST with <code>Accept: application/json</code> for all of them.</p>`;
  const rows = report.members
    .slice(0, MAX_DAG_ROWS)
    .map(
      (m) =>
        html`<tr><td><code class="ip">${m.ip}</code></td><td>${m.services.join(', ') || html`<span class="muted">no Service tag of ours</span>`}</td><td>${m.tags.map((t) => html`<code class="tag">${t}</code> `)}</td></tr>`,
    );
  return html`${cut}<table class="dag-members"><thead><tr><th>IP</th><th>Services</th><th>Tags</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function reportBlock(report: DagReport): SafeHtml {
  const n = report.members.length;
  return html`<div class="result" id="dag-result">
<p><strong>${n === 1 ? '1 IP matches' : `${n} IPs match`}</strong> <code>${report.expression}</code> in ${sourceText(report)}.</p>
${report.warnings.length > 0 && html`<ul class="plain warn">${report.warnings.map((w) => html`<li>warning: ${w}</li>`)}</ul>`}
${membersTable(report)}
</div>`;
}

/** The typed match with a caret under the character `position` (1-based) names. */
function pointAt(input: string, position: number): SafeHtml {
  return html`<pre>${input}\n${' '.repeat(Math.max(0, position - 1))}^</pre>`;
}

function outcomeBlock(outcome: DagOutcome): SafeHtml {
  if ('report' in outcome) return reportBlock(outcome.report);
  return html`<div class="result bad" id="dag-result" role="alert">
<p class="bad"><strong>Not a valid match:</strong> ${outcome.error}</p>
${outcome.position !== undefined && PLAIN_LINE.test(outcome.input) && pointAt(outcome.input, outcome.position)}
</div>`;
}

/**
 * The DAG tester: a form posting the field `dag` back to this very URL (no `action`, so a
 * `?code=` key stays in the browser's address and is never written into the page), and the
 * outcome of the last test when there is one.
 */
export function renderDagSection(outcome?: DagOutcome): SafeHtml {
  const typed = trustedHtml(escapeMarkup(outcome?.input ?? ''));
  return html`<section id="dag">
<h2>DAG tester</h2>
<p class="muted">Which IPs of the last-known state a Dynamic Address Group match selects (PAN-OS syntax: tags in single quotes, <code>and</code>, <code>or</code>, parentheses), e.g. <code>${EXAMPLE}</code>. See docs/dag.md.</p>
<form class="dag" method="post">
<label for="dag-input">Match</label>
<textarea id="dag-input" name="${DAG_FIELD}" rows="3" spellcheck="false" required>
${typed}</textarea>
<button type="submit">Evaluate</button>
</form>
${outcome && outcomeBlock(outcome)}
</section>`;
}
