import type { ClusterStatus } from '../pipeline/collectStatus.js';
import { type HtmlValue, html, type SafeHtml } from './html.js';
import { TARGET_HEADER, targetCells, when } from './targetCells.js';

type ClusterTarget = ClusterStatus['targets'][number];

/** The cluster's state in a few words, and how it looks (`ok`, `warn`, `bad`). */
export function clusterState(c: ClusterStatus): { text: string; tone: 'ok' | 'warn' | 'bad' } {
  if (c.deletedAt) return { text: `deleted ${c.deletedAt}`, tone: 'warn' };
  if (c.recomputing) return { text: 'recomputing', tone: 'warn' };
  if (c.heldRemovals > 0) return { text: `HELD: ${c.heldRemovals} tag removals held`, tone: 'bad' };
  if (!c.synced && c.lastRecomputeResult)
    return { text: 'never synced; its tags on firewalls are left alone', tone: 'bad' };
  if (c.lastRecomputeResult === 'failed') return { text: 'last recompute failed', tone: 'bad' };
  if (c.targetProblems.length > 0) return { text: 'target problems', tone: 'bad' };
  if (c.targets.some((t) => t.failedEntries || (t.lastError && !t.disconnected)))
    return { text: `${c.lastRecomputeResult ?? 'never recomputed'}; a push failed`, tone: 'bad' };
  const doubtful = c.policyWarnings.length > 0 || c.ipsOverBudget > 0 || !c.lastRecomputeResult;
  return { text: c.lastRecomputeResult ?? 'never recomputed', tone: doubtful ? 'warn' : 'ok' };
}

function list(items: readonly string[], tone?: 'warn' | 'bad'): SafeHtml {
  return html`<ul class="plain${tone ? ` ${tone}` : ''}">${items.map((i) => html`<li>${i}</li>`)}</ul>`;
}

function fact(name: string, value: HtmlValue): SafeHtml {
  return html`<dt>${name}</dt><dd>${value}</dd>`;
}

function clusterFacts(c: ClusterStatus): SafeHtml {
  return html`<dl class="facts">
${fact('Generation', c.generation)}
${fact('IPs / tags', `${c.ipCount} IPs, ${c.tagCount} tags`)}
${fact('Last recompute', when(c.lastRecomputeAt, 'never', c.lastRecomputeResult && `(${c.lastRecomputeResult})`))}
${c.lastError && fact('Last error', html`<span class="bad">${c.lastError}</span>${c.lastErrorAt && html` <span class="muted">(${c.lastErrorAt})</span>`}`)}
${c.events?.mode === 'timer-only' && fact('Events', html`<span class="warn">timer-only: changes arrive with the reconcile timer (${c.events.reason ?? 'no event subscription'})</span>`)}
${c.heldRemovals > 0 && fact('Held removals', html`<span class="bad">${c.heldRemovals} (ip, tag) pairs held by the removal guard</span>`)}
${c.ipsOverBudget > 0 && fact('Over tag budget', `${c.ipsOverBudget} IPs have more tags than MAX_TAGS_PER_IP; the lowest-priority tags were left out`)}
${c.targetProblems.length > 0 && fact('Target problems', list(c.targetProblems, 'bad'))}
${c.policyWarnings.length > 0 && fact('Policy warnings', list(c.policyWarnings, 'warn'))}
${c.retiringTargets.length > 0 && fact('Leaving targets', list(c.retiringTargets.map((t) => `${t}: the next audit removes the cluster's tags from it`)))}
</dl>`;
}

function pushCell(t: ClusterTarget): SafeHtml {
  const counts = `(generation ${t.lastPushGeneration ?? '?'}, +${t.registered ?? 0}/−${t.unregistered ?? 0})`;
  return html`${when(t.lastPushAt, 'no successful push yet', counts)}${t.disconnected && html` <span class="badge warn">disconnected</span>`}`;
}

function targetRow(t: ClusterTarget): SafeHtml {
  return html`<tr>${targetCells(t)}<td>${pushCell(t)}</td><td class="num">${t.pending}</td><td class="num${t.poisoned ? ' bad' : ''}">${t.poisoned}</td><td class="num${t.failedEntries ? ' bad' : ''}">${t.failedEntries ?? 0}</td><td class="err">${t.lastError ?? ''}${t.lastErrorAt && html` <span class="muted">(${t.lastErrorAt})</span>`}</td></tr>`;
}

function targetTable(targets: readonly ClusterTarget[]): SafeHtml {
  if (targets.length === 0) return html`<p class="muted">No push to any target yet.</p>`;
  return html`<table class="targets"><thead><tr>${TARGET_HEADER}<th>Last push</th><th class="num">Pending</th><th class="num">Poisoned</th><th class="num">Rejected entries</th><th>Last error</th></tr></thead>
<tbody>${targets.map(targetRow)}</tbody></table>`;
}

/** One cluster: its state, facts (generation, counts, last recompute and error, holds, warnings) and targets. */
export function renderClusterSection(c: ClusterStatus): SafeHtml {
  const state = clusterState(c);
  return html`<section class="cluster ${state.tone}" data-cluster="${c.cluster}">
<h3>${c.cluster}<span class="badge ${state.tone}">${state.text}</span>${!c.monitored && html`<span class="badge warn">not monitored</span>`}</h3>
${clusterFacts(c)}
${targetTable(c.targets)}
</section>`;
}
