import { parseTargetId } from '../panorama/targetId.js';
import { html, type SafeHtml } from './html.js';

/** What names a target on the page (a push row or an audit row). */
export interface NamedTarget {
  target: string;
  hostname?: string;
  deviceGroup?: string;
  vsys?: string;
}

/** Header cells matching {@link targetCells}. */
export const TARGET_HEADER = html`<th>Firewall</th><th>Serial</th><th>vsys</th><th>Device group</th>`;

/** Hostname, serial, vsys and device group cells of a target (Panorama itself: "Panorama"). */
export function targetCells(t: NamedTarget): SafeHtml {
  const parsed = parseTargetId(t.target);
  if (parsed?.kind === 'panorama')
    return html`<td>Panorama</td><td class="muted">—</td><td class="muted">—</td><td class="muted">—</td>`;
  const serial = parsed?.serial ?? t.target;
  const vsys = parsed?.vsys ?? t.vsys;
  return html`<td class="nowrap">${t.hostname ?? html`<span class="muted">hostname unknown</span>`}</td><td class="nowrap"><code>${serial}</code></td><td>${vsys ?? html`<span class="muted">default</span>`}</td><td>${t.deviceGroup ?? html`<span class="muted">—</span>`}</td>`;
}

/** `at (suffix)`, or the muted `none` text. */
export function when(at: string | undefined, none: string, suffix?: string): SafeHtml {
  if (!at) return html`<span class="muted">${none}</span>`;
  return html`<time datetime="${at}">${at}</time>${suffix ? ` ${suffix}` : ''}`;
}
