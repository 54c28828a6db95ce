/**
 * The component graph and the timeline as Mermaid text (`--mermaid FILE`), for slides and docs: a
 * `flowchart LR` with one edge per arrow, styled by outcome, and a `sequenceDiagram` with each step as a note.
 */
import type { ReportModel } from './model.js';
import { OUTCOME_WORDS } from './model.js';
import { entryLabel } from './sequence.js';
import { STYLE } from './svg.js';
import { arrowLabel } from './graph.js';

/** Text Mermaid reads literally inside a quoted label or a message (its entity codes for the characters it parses). */
const text = (s: string): string => s.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/;/g, '#59;').replace(/[<>]/g, (c) => (c === '<' ? '#lt;' : '#gt;')).replace(/\n/g, ' ');

export function mermaid(model: ReportModel): string {
  const byId = new Map([...model.certs, ...model.cas].map((c) => [c.id, c]));
  const cn = (id: string | null): string => (id === null ? 'no client certificate' : `CN=${byId.get(id)?.cn ?? '?'}`);
  const ids = new Map(model.components.map((c, i) => [c.name, `c${i}`]));
  const out: string[] = [`%% ${model.title} (scenario ${model.scenario}): the component graph`, 'flowchart LR'];
  for (const c of model.components) out.push(`  ${ids.get(c.name)}["${text(c.name)}"]`);
  model.arrows.forEach((a) => out.push(`  ${ids.get(a.client)} -->|"${text(arrowLabel(a, cn))}"| ${ids.get(a.server)}`));
  model.arrows.forEach((a, i) => {
    const s = STYLE[a.outcome];
    out.push(`  linkStyle ${i} stroke:${s.color},stroke-width:2px${s.dash ? `,stroke-dasharray:${s.dash.replace(/ /g, ' ')}` : ''}`);
  });
  out.push(`  %% legend: ${Object.entries(STYLE).map(([o, s]) => `${s.color} ${OUTCOME_WORDS[o as keyof typeof OUTCOME_WORDS]}`).join(' · ')}`);
  out.push('', `%% ${model.title}: the timeline`, 'sequenceDiagram');
  const used = new Set(model.sections.flatMap((s) => s.entries.flatMap((e) => [e.client, e.server])));
  for (const c of model.components) if (used.has(c.name)) out.push(`  participant ${ids.get(c.name)} as ${text(c.name)}`);
  const first = model.components.find((c) => used.has(c.name));
  for (const s of model.sections) {
    if (s.entries.length === 0) continue;
    const over = [...new Set(s.entries.flatMap((e) => [e.client, e.server]))].map((n) => ids.get(n)!);
    const left = model.components.map((c) => ids.get(c.name)!).find((id) => over.includes(id)) ?? ids.get(first!.name)!;
    out.push(`  Note over ${left}: ${text(s.title)}`);
    for (const e of s.entries) {
      const arrow = e.outcome === 'refused' ? '-x' : e.outcome === 'allowed' ? '->>' : '--)';
      const tag = e.outcome === 'allowed' ? '' : ` [${OUTCOME_WORDS[e.outcome]}]`;
      out.push(`  ${ids.get(e.client)}${arrow}${ids.get(e.server)}: ${text(entryLabel(e) + tag)}`);
    }
  }
  return `${out.join('\n')}\n`;
}
