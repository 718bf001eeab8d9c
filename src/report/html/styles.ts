// One inline style sheet (the page's CSP allows inline styles and nothing remote). Colours are
// dark text on light tints, well above WCAG AA contrast, and every colour has a word beside it:
// a severity, status or state is never told by colour alone.

export const STYLES = `
:root{--ink:#1b1f24;--muted:#4a525c;--line:#c9ced6;--soft:#f3f5f7;--link:#0b4f9c;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);background:#fff}
body{margin:0 auto;padding:1.5rem 2rem;max-width:1600px}
h1{font-size:1.6rem;margin:.2rem 0 .6rem}h2{font-size:1.3rem;margin:2rem 0 .6rem;padding-top:.6rem;border-top:2px solid var(--line)}h3{font-size:1.08rem;margin:1.2rem 0 .4rem}
h4,h5,h6{font-size:1rem;margin:.8rem 0 .3rem}
a{color:var(--link)}a:focus-visible,button:focus-visible,select:focus-visible,input:focus-visible,summary:focus-visible{outline:3px solid #1a73e8;outline-offset:1px}
nav ul{display:flex;flex-wrap:wrap;gap:.3rem 1rem;list-style:none;padding:0;margin:.4rem 0 1rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}#severity-counts,#baseline-summary{width:auto;min-width:50%}caption{text-align:left;font-weight:600;padding:.3rem 0;caption-side:top}
th,td{border:1px solid var(--line);padding:.25rem .45rem;text-align:left;vertical-align:top}thead th{background:var(--soft)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
pre{background:var(--soft);padding:.5rem;white-space:pre-wrap;overflow-wrap:anywhere;margin:.3rem 0}
td{overflow-wrap:break-word}td.mono,td .mono{overflow-wrap:anywhere}
#findings-table td:nth-child(-n+3),#findings-table td:nth-child(7){white-space:nowrap}
.verdict{font-size:1.15rem;font-weight:700;padding:.6rem .8rem;border:2px solid;margin:.6rem 0}
.verdict.fail{background:#fde2e1;color:#7a0010;border-color:#b3261e}.verdict.pass{background:#e3f4e5;color:#14532d;border-color:#2e7d32}.verdict.incomplete{background:#fff4d6;color:#5c4000;border-color:#a86b00}
.sev,.status,.state{display:inline-block;padding:0 .35rem;border:1px solid;border-radius:3px;font-size:.88em;white-space:nowrap}
.sev-critical{background:#fde2e1;color:#7a0010}.sev-high{background:#feecdc;color:#7a2e00}.sev-medium{background:#fdf6d8;color:#5c4600}.sev-low{background:#e6f0fb;color:#0b3f73}.sev-info{background:#eef0f2;color:#30363d}
.status-fail{background:#fde2e1;color:#7a0010}.status-pass{background:#e3f4e5;color:#14532d}.status-not-assessed{background:#eef0f2;color:#30363d;font-style:italic}
.status-ok{background:#e3f4e5;color:#14532d}.status-partial{background:#fff4d6;color:#5c4000}.status-failed{background:#fde2e1;color:#7a0010}
.state-fixed{background:#e3f4e5;color:#14532d}.state-new{background:#fde2e1;color:#7a0010}.state-updated{background:#fff4d6;color:#5c4000}
tr.waived td{color:var(--muted)}tr.fixed td{color:var(--muted);text-decoration-color:var(--muted)}
.counts{display:flex;flex-wrap:wrap;gap:.5rem;list-style:none;padding:0;margin:.4rem 0}.counts li{border:1px solid var(--line);padding:.3rem .6rem;background:var(--soft)}.counts b{font-size:1.1rem}
.note{color:var(--muted)}
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin:.5rem 0;padding:.5rem;background:var(--soft);border:1px solid var(--line)}
.filters label{display:flex;flex-direction:column;font-size:.88em;color:var(--muted)}
.filters select,.filters input{font:inherit;color:var(--ink);padding:.15rem .3rem;min-width:9rem;max-width:24rem}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;color:var(--link);cursor:pointer;text-decoration:underline}
th[aria-sort=ascending] button::after{content:" \\2191"}th[aria-sort=descending] button::after{content:" \\2193"}
details{margin:.3rem 0}summary{cursor:pointer;color:var(--link)}
details dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .8rem;margin:.3rem 0}details dt{font-weight:600}details dd{margin:0;overflow-wrap:anywhere}
#inventory-table td:nth-child(4){font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em;overflow-wrap:anywhere}
#inventory-table td:nth-child(7),#inventory-table td:nth-child(11){text-align:right;font-variant-numeric:tabular-nums}
.rule-help{border-left:3px solid var(--line);padding-left:.6rem}
article.rule{border-top:1px solid var(--line);padding-top:.3rem}
svg{max-width:100%;height:auto;display:block;margin:.4rem 0}svg text{font:11px system-ui,sans-serif;fill:#1b1f24}
.chart{margin-bottom:1.2rem}
[hidden]{display:none!important}
/* Large estates: the browser lays out a section's tens of thousands of rows only when it is scrolled into view. */
#findings,#inventory,#rules{content-visibility:auto;contain-intrinsic-size:auto 4000px}
@media print{
  body{max-width:none;padding:0;font-size:10.5px}
  nav,.filters,.no-print,th button::after{display:none!important}
  th button{color:inherit;text-decoration:none}
  a{color:inherit;text-decoration:none}
  h2{break-after:avoid}tr,details dl,figure,article.rule{break-inside:avoid}
  summary{color:inherit;list-style:none}summary::-webkit-details-marker{display:none}
  .verdict,.sev,.status,.state{print-color-adjust:exact;-webkit-print-color-adjust:exact}
}
@media print{details::details-content{content-visibility:visible;display:block}#findings,#inventory,#rules{content-visibility:visible}}
`;
