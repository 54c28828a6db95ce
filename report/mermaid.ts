/**
 * The component graph and the timeline as Mermaid text (`--mermaid FILE`), for slides and docs: a
 * `flowchart LR` with one edge per arrow, styled by outcome, and a `sequenceDiagram` with each step as a note.
 * Alike nodes are folded as in the page (report/fold.ts): one box, edge and message for all of them.
 */
import type { ReportModel } from './model.js';
import { OUTCOME_WORDS } from './model.js';
import { fold } from './fold.js';
import { drawnLabel } from './sequence.js';
import { STYLE } from './svg.js';
import { arrowLabel } from './graph.js';
import { translator } from '../sim/i18n/index.js';

/** The Mermaid text stays English. */
const EN = translator('en');

/** Text Mermaid reads literally inside a quoted label or a message (its entity codes for the characters it parses). */
const text = (s: string): string => s.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/;/g, '#59;').replace(/[<>]/g, (c) => (c === '<' ? '#lt;' : '#gt;')).replace(/\n/g, ' ');

export function mermaid(model: ReportModel, foldAt?: number): string {
  const byId = new Map([...model.certs, ...model.cas].map((c) => [c.id, c]));
  const cn = (id: string | null): string => (id === null ? 'no client certificate' : `CN=${byId.get(id)?.cn ?? '?'}`);
  const folding = fold(model, (a) => arrowLabel(a, cn), foldAt);
  const ids = new Map(folding.boxes.map((c, i) => [c.name, `c${i}`]));
  const out: string[] = [`%% ${model.title} (scenario ${model.scenario}): the component graph`, 'flowchart LR'];
  for (const c of folding.boxes) out.push(`  ${ids.get(c.name)}["${text(c.name)}"]`);
  folding.arrows.forEach((a) => out.push(`  ${ids.get(a.client)} -->|"${text(a.members.length > 1 ? `${a.label} ×${a.members.length}` : a.label)}"| ${ids.get(a.server)}`));
  folding.arrows.forEach((a, i) => {
    const s = STYLE[a.outcome];
    out.push(`  linkStyle ${i} stroke:${s.color},stroke-width:2px${s.dash ? `,stroke-dasharray:${s.dash.replace(/ /g, ' ')}` : ''}`);
  });
  out.push(`  %% legend: ${Object.entries(STYLE).map(([o, s]) => `${s.color} ${OUTCOME_WORDS[o as keyof typeof OUTCOME_WORDS]}`).join(' · ')}`);
  out.push('', `%% ${model.title}: the timeline`, 'sequenceDiagram');
  const drawn = model.sections.map((s) => folding.entries(s.entries));
  const used = new Set(drawn.flatMap((es) => es.flatMap((e) => [e.client, e.server])));
  for (const c of folding.boxes) if (used.has(c.name)) out.push(`  participant ${ids.get(c.name)} as ${text(c.name)}`);
  const first = folding.boxes.find((c) => used.has(c.name));
  model.sections.forEach((s, k) => {
    const entries = drawn[k]!;
    if (entries.length === 0) return;
    const over = [...new Set(entries.flatMap((e) => [e.client, e.server]))].map((n) => ids.get(n)!);
    const left = folding.boxes.map((c) => ids.get(c.name)!).find((id) => over.includes(id)) ?? ids.get(first!.name)!;
    out.push(`  Note over ${left}: ${text(s.title)}`);
    for (const e of entries) {
      const arrow = e.outcome === 'refused' ? '-x' : e.outcome === 'allowed' ? '->>' : '--)';
      const tag = e.outcome === 'allowed' ? '' : ` [${OUTCOME_WORDS[e.outcome]}]`;
      out.push(`  ${ids.get(e.client)}${arrow}${ids.get(e.server)}: ${text(drawnLabel(e, EN) + tag)}`);
    }
  });
  return `${out.join('\n')}\n`;
}
