/** The report's inline stylesheet and its one small script (expand / collapse all rows; the page works without it). */

export const REPORT_CSS = `
:root{--fg:#1f2933;--muted:#616e7c;--line:#d9dee4;--bg:#fff;--soft:#f5f7f9;--ok:#1e7b34;--bad:#b42318;--warn:#9a6700}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:18px 24px 48px}
h1{font-size:22px;margin:0 0 2px}
h2{font-size:17px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:14px;margin:0 0 6px}
.sub,.note{color:var(--muted);font-size:12.5px}
code,pre,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
pre{background:var(--soft);border:1px solid var(--line);border-radius:4px;padding:8px 10px;overflow:auto;margin:6px 0;white-space:pre}
nav{margin:10px 0 0;font-size:13px}nav a{color:#2f6fbf;margin-right:14px;text-decoration:none}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:700;color:#fff;letter-spacing:.03em}
.valid .badge{background:var(--ok)}.invalid .badge{background:var(--bad)}
.verdict{border:1px solid var(--line);border-left:6px solid var(--ok);border-radius:6px;padding:10px 14px;margin-top:14px}
.verdict.invalid{border-left-color:var(--bad)}
.verdict pre{background:transparent;border:0;padding:0;white-space:pre-wrap}
.error-box{background:#fef3f2;border:1px solid #fda29b;border-radius:6px;padding:10px 14px;margin:8px 0}
.error-box dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0 0}
.error-box dt{color:var(--muted)}.error-box dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.sev-error{color:var(--bad);font-weight:600}.sev-warning{color:var(--warn);font-weight:600}.sev-note{color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:8px;margin-top:8px}
.card{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:6px 10px}
.card .k{color:var(--muted);font-size:12px}.card .v{font-size:16px;font-weight:600}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:24px}
@media (max-width:900px){.grid2{grid-template-columns:1fr}}
svg.chart{width:100%;height:auto;display:block}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;fill:#3e4c59}
svg .axis-label{fill:var(--muted);font-size:11.5px}
svg .note{fill:var(--muted);font-size:10.5px}
svg .axis,svg .tick{stroke:#9aa5b1;stroke-width:1}
svg .grid{stroke:#e4e7eb;stroke-width:1}
svg .seg-label{fill:#fff;font-size:10.5px;font-weight:600}
svg .bar-value{font-size:10.5px;fill:#3e4c59}
svg .bar-name{font-size:11.5px}svg .layer-tag{fill:var(--muted);font-size:10px}
svg .marker line{stroke-width:1.5;stroke-dasharray:4 2}
svg .marker-checkpoint line{stroke:#d62828}svg .marker-postcopy line{stroke:#7b2cbf}
svg .marker-error line{stroke:#b42318;stroke-width:3;stroke-dasharray:none}
svg .marker-label{font-size:10.5px;font-weight:600}
svg .marker-error .marker-label{fill:#b42318}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;margin:6px 0 0 0;padding:0;list-style:none}
.legend li{display:flex;align-items:center;gap:5px}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;border:1px solid rgba(0,0,0,.15)}
.sw.line{height:0;width:16px;border:0;border-top:2px dashed}
.config pre{max-height:420px}
.toolbar{display:flex;gap:8px;align-items:center;margin:4px 0 8px}
.toolbar button{font:inherit;font-size:12.5px;padding:3px 10px;border:1px solid var(--line);border-radius:4px;background:var(--soft);cursor:pointer}
.rows{border-top:1px solid var(--line)}
.rowhead,details.rec>summary{display:grid;grid-template-columns:96px 92px 52px 230px 96px 1fr;gap:8px;padding:3px 6px;border-bottom:1px solid var(--line);font-size:12.5px;align-items:baseline}
.rowhead{color:var(--muted);font-weight:600;border-bottom:1px solid #c5ccd3}
details.rec>summary{cursor:pointer;list-style:none}
details.rec>summary::-webkit-details-marker{display:none}
details.rec>summary:hover{background:#f0f4f8}
details.rec>summary .type::before{content:"▸ ";color:var(--muted)}
details.rec[open]>summary .type::before{content:"▾ "}
details.rec[open]>summary{background:#eef3f9}
details.rec.run>summary{background:#f6f9fd}
details.rec .body{padding:6px 10px 10px 24px;border-bottom:1px solid var(--line)}
.len{text-align:right;font-variant-numeric:tabular-nums}
.fields{color:#323f4b;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.lay{display:inline-block;padding:0 6px;border-radius:8px;font-size:11px;color:#fff}
.lay-libxc{background:#2f6fbf}.lay-libxl{background:#e07b39}.lay-header{background:#8d96a0}.lay-trailing{background:#c0392b}
.omitted{padding:8px 6px;color:var(--muted);font-style:italic;border-bottom:1px solid var(--line);background:repeating-linear-gradient(45deg,#fafbfc,#fafbfc 6px,#f1f3f5 6px,#f1f3f5 12px)}
.rec-error{padding:8px 6px;border:1px solid #fda29b;background:#fef3f2;color:var(--bad);font-weight:600}
.detail-grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:12px}
@media (max-width:900px){.detail-grid{grid-template-columns:1fr}}
footer{margin-top:32px;color:var(--muted);font-size:12px}
`;

/** Shows the toolbar (hidden for readers without scripts) and wires its buttons. */
export const REPORT_SCRIPT = `
(function(){
  var bar=document.getElementById('row-tools');if(!bar)return;bar.hidden=false;
  function all(open){var d=document.querySelectorAll('details.rec');for(var i=0;i<d.length;i++)d[i].open=open;}
  document.getElementById('expand-all').addEventListener('click',function(){all(true);});
  document.getElementById('collapse-all').addEventListener('click',function(){all(false);});
})();
`;
