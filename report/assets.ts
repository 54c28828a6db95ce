/**
 * The page's stylesheet and its one small script, inlined into index.html (the report opens offline:
 * nothing is fetched). The script only opens and closes the details panel; every drawing is static.
 */

export const CSS = `
:root { --fg: #1b1b1b; --muted: #555; --line: #bbb; --panel: #fafafa; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); }
body { margin: 0; line-height: 1.45; }
header, main > section { padding: 0 24px; }
header { border-bottom: 1px solid var(--line); padding-bottom: 8px; }
h1 { font-size: 1.5rem; margin: 16px 0 4px; }
h2 { font-size: 1.2rem; margin: 28px 0 8px; border-bottom: 2px solid #ddd; }
h3 { font-size: 1.02rem; margin: 12px 0 4px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px; z-index: 10; }
nav ul { display: flex; flex-wrap: wrap; gap: 4px 18px; list-style: none; padding: 0; margin: 6px 0; }
.verdict.pass { color: #2e7d32; } .verdict.fail { color: #c62828; }
.quiet { color: var(--muted); }
.scroll { overflow: auto; max-width: 100%; border: 1px solid #eee; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 20px; align-items: center; margin: 6px 0; font-size: .92rem; }
.legend svg { vertical-align: middle; }
.swatch { display: inline-block; width: 18px; height: 14px; border: 1px solid #888; vertical-align: middle; border-radius: 3px; }
svg text { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; fill: #111; }
svg .box rect, svg .head { stroke: #666; fill-opacity: 1; }
svg .head { fill: #eceff1; }
svg .life { stroke: #999; stroke-dasharray: 3 3; }
svg .line { fill: none; stroke-width: 2; }
svg .hit { fill: none; stroke: transparent; stroke-width: 12; pointer-events: stroke; }
svg rect.hit { fill: transparent; stroke: none; pointer-events: all; }
svg .lbl-bg { fill: #fff; }
svg [role=button] { cursor: pointer; outline: none; }
svg [role=button]:hover .line, svg [role=button]:focus .line { stroke-width: 4; }
svg [role=button]:focus .lbl-bg, svg [role=button]:focus rect.hit { stroke: #0d47a1; stroke-width: 2; fill: #e3f2fd; }
svg [role=button].selected .lbl-bg, svg [role=button].selected rect.hit { fill: #fff59d; }
.cas { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.ca { border: 2px solid #1565c0; border-radius: 8px; padding: 8px 12px; background: #f5f9ff; flex: 1 1 100%; min-width: 0; }
.ca.branch-etcd, .ca.branch-front-proxy { flex: 1 1 520px; }
.ca.branch-etcd { border-color: #00695c; background: #f0faf7; border-style: double; border-width: 5px; }
.ca.branch-front-proxy { border-color: #6d4c41; background: #fbf7f5; }
.ca.branch-other { border-color: #757575; background: #f7f7f7; }
.ca .note { font-size: .9rem; color: var(--muted); margin: 2px 0 6px; }
table { border-collapse: collapse; font-size: .86rem; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.certs td.sans { max-width: 260px; overflow-wrap: anywhere; }
tr.cert { cursor: pointer; } tr.cert:focus, tr.cert:hover { outline: 2px solid #0d47a1; background: #e3f2fd; }
.step { content-visibility: auto; contain-intrinsic-size: auto 900px; display: grid; grid-template-columns: minmax(260px, 1fr) 2fr; gap: 16px; border-top: 1px solid #e0e0e0; padding: 8px 0 14px; }
.step .narration { font-size: .93rem; white-space: pre-line; }
.step .narration ul { padding-left: 18px; margin: 4px 0; white-space: normal; }
.ok { color: #2e7d32; } .bad { color: #c62828; }
.matrix td.cell { cursor: pointer; white-space: nowrap; font-family: monospace; }
.matrix td.cell:focus { outline: 3px solid #0d47a1; }
.d-allowed { background: #e8f5e9; } .d-forbidden { background: #f3e5f5; } .d-unauthenticated { background: #fff3e0; }
.d-refused { background: #ffebee; } .d-failed { background: #eeeeee; }
.matrix td.differs { outline: 3px solid #ff6f00; outline-offset: -3px; font-weight: bold; }
.matrix td.differs::after { content: " ≠ golden"; font-weight: normal; color: #bf360c; }
#details { position: fixed; right: 0; top: 0; bottom: 0; width: min(460px, 92vw); overflow: auto; background: #fff; border-left: 3px solid #0d47a1;
  box-shadow: -4px 0 12px rgba(0,0,0,.15); padding: 12px 16px; z-index: 5; }
#details[hidden] { display: none; }
#details dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 4px 0 10px; font-size: .88rem; }
#details dt { color: var(--muted); } #details dd { margin: 0; overflow-wrap: anywhere; }
#details .words { background: var(--panel); border-left: 4px solid #999; padding: 4px 8px; margin: 4px 0; font-family: monospace; font-size: .85rem; overflow-wrap: anywhere; }
#details button.close { float: right; }
#details ul.members { max-height: 40vh; overflow: auto; padding-left: 18px; font-size: .88rem; }
#details ul.members button { font: inherit; text-align: left; background: none; border: none; padding: 1px 2px; color: #0d47a1; cursor: pointer; text-decoration: underline; }
tr.fold-row td { background: #fffde7; } button.toggle { font: inherit; cursor: pointer; white-space: nowrap; }
svg .box.folded rect { stroke: #8d6e63; }
@media print {
  #details, nav, .skip, .hint { display: none !important; }
  .scroll { overflow: visible; border: none; }
  svg.graph, svg.seq { max-width: 100%; height: auto; }
  .step { grid-template-columns: 1fr; break-inside: avoid-page; content-visibility: visible; }
  .ca { break-inside: avoid-page; }
  body { font-size: 10pt; }
  a { color: inherit; text-decoration: none; }
}
`;

/**
 * Opens the details of whatever carries data-detail (click, Enter or Space); Escape closes them. One
 * listener on the document for all of them; nothing is measured or laid out by the script.
 */
export const SCRIPT = `
(() => {
  // The details are parsed on the first click, not while the page loads.
  let data = null;
  const details = () => data || (data = JSON.parse(document.getElementById('report-data').textContent));
  const panel = document.getElementById('details');
  const body = document.getElementById('details-body');
  let opener = null;
  const open = (el) => {
    const id = el.getAttribute('data-detail');
    const data = details();
    const expand = (key, depth) => (data.ids[key] || []).map((f) => (typeof f === 'number' ? data.pool[f] : depth < 4 ? expand(f.slice(1), depth + 1) : '')).join('');
    if (!data.ids[id]) return;
    const html = expand(id, 0);
    document.querySelectorAll('.selected').forEach((s) => s.classList.remove('selected'));
    el.classList.add('selected');
    // A member opened from a folded list in the panel: Escape goes back to what opened the list.
    if (!panel.contains(el)) opener = el;
    body.innerHTML = html;
    panel.hidden = false;
    panel.focus();
  };
  const close = () => {
    panel.hidden = true;
    if (opener) opener.focus();
  };
  // Folded rows of the trust tree: the button shows or hides the rows it stands for.
  const toggle = (b) => {
    const rows = document.getElementById(b.getAttribute('data-toggle'));
    rows.hidden = !rows.hidden;
    b.setAttribute('aria-expanded', String(!rows.hidden));
    b.textContent = (rows.hidden ? '▸ ' : '▾ ') + b.textContent.slice(2);
  };
  document.addEventListener('click', (ev) => {
    const t = ev.target.closest('[data-toggle]');
    if (t) { toggle(t); return; }
    const el = ev.target.closest('[data-detail]');
    if (el) open(el);
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !panel.hidden) { ev.preventDefault(); close(); return; }
    const el = ev.target.closest && ev.target.closest('[data-detail]');
    if (el && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); open(el); }
  });
  document.getElementById('details-close').addEventListener('click', close);
})();
`;
