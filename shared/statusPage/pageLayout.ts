import { createHash } from 'node:crypto';
import { html, type SafeHtml, trustedHtml } from './html.js';

const STYLE = `
:root { color-scheme: light; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 84rem; color: #1f2328; background: #fff; }
h1 { font-size: 1.5rem; margin: .5rem 0 0; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
h3 { font-size: 1.05rem; margin: 0 0 .4rem; }
.meta, .muted { color: var(--muted); }
section.cluster { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin: .75rem 0; }
section.cluster.bad { border-left: 6px solid var(--bad); }
section.cluster.warn { border-left: 6px solid var(--warn); }
section.cluster.ok { border-left: 6px solid var(--ok); }
.badge { display: inline-block; font-size: .8rem; font-weight: 600; padding: 0 .45rem; border-radius: 1rem; border: 1px solid currentColor; margin-left: .4rem; vertical-align: middle; }
.ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); }
section.cluster.ok, section.cluster.warn, section.cluster.bad { color: inherit; }
.attention { border: 1px solid var(--bad); background: #ffebe9; border-radius: 6px; padding: .5rem 1rem; }
.attention.none { border-color: var(--ok); background: #dafbe1; }
.attention li { margin: .2rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .4rem 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; font-size: .92rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.err { color: var(--bad); }
td.nowrap { white-space: nowrap; }
code.tag { display: inline-block; background: #f6f8fa; border: 1px solid var(--line); border-radius: 4px; padding: 0 .3rem; margin: .1rem .25rem .1rem 0; }
time { white-space: nowrap; }
code, pre, textarea { font: .9rem/1.4 ui-monospace, "SFMono-Regular", Consolas, monospace; }
code { overflow-wrap: anywhere; }
pre { background: #f6f8fa; padding: .5rem; border-radius: 6px; overflow-x: auto; }
ul.plain { margin: .3rem 0; padding-left: 1.2rem; }
form.dag textarea { width: 100%; min-height: 4.5rem; padding: .4rem; border: 1px solid var(--line); border-radius: 6px; }
form.dag button { margin-top: .4rem; font: inherit; padding: .3rem 1rem; border-radius: 6px; border: 1px solid var(--line); background: #f6f8fa; cursor: pointer; }
.result { border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem; margin-top: .75rem; }
.result.bad { border-color: var(--bad); }
`;

/**
 * The `Content-Security-Policy` of the status page: nothing may load or run; the one inline style
 * sheet is allowed by its hash (so injected `<style>` or `style=` would not apply); forms post only
 * to this origin; the page cannot be framed.
 */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every status page answer (HTML) besides its status. */
export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': STATUS_PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  vary: 'Accept',
};

/** A whole HTML document around `body`. */
export function renderPage(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${trustedHtml(STYLE)}</style>
</head>
<body>
${body}
</body>
</html>
`.markup;
}
