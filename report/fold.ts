/**
 * Folding a big cluster for drawing: the components of many nodes that differ only by the node's name
 * (`kubelet (node-1)` … `kubelet (node-200)`) are drawn as one box, `kubelet (node-1 … node-200) ×200`,
 * and the arrows, timeline rows and certificates that differ only by that name are drawn as one, with
 * how many it stands for (`data-n`) and the list of its members one click away (each opens its own
 * details). Nothing is dropped: the counts of the folded drawing add up to the trace's. Families smaller
 * than `foldAt` are drawn as they are, so a small cluster's report is unchanged.
 */
import type { Arrow, CertView, Group, Outcome, ReportModel, TimelineEntry } from './model.js';

/** Families of at least this many nodes are folded (a cluster of a few nodes is drawn node by node). */
export const FOLD_AT = 8;

/** The stand-in for a node's name in a folded label (as Kubernetes' docs write `system:node:<nodeName>`). */
export const NODE = '<node>';

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `s` with every whole occurrence of `node` (not `node-1` inside `node-10`) written as NODE. */
export function generic(s: string, node: string | undefined): string {
  if (!node) return s;
  return s.replace(new RegExp(`(?<![A-Za-z0-9.-])${escapeRe(node)}(?![A-Za-z0-9.-])`, 'g'), NODE);
}

export interface DrawnBox {
  /** The name drawn: the component's, or for a family `kubelet (node-1 … node-200) ×200`. */
  readonly name: string;
  readonly group: Group;
  readonly members: readonly string[];
}

export interface DrawnArrow {
  /** The arrow's own id (one member), or `fold-arrow-<n>` for a folded one. */
  readonly id: string;
  readonly client: string;
  readonly server: string;
  readonly outcome: Outcome;
  readonly members: readonly Arrow[];
  /** The label: the arrow's, or for a folded one its members' with the node written as NODE. */
  readonly label: string;
}

export interface DrawnEntry {
  readonly id: string;
  readonly client: string;
  readonly server: string;
  readonly outcome: Outcome;
  readonly kind: TimelineEntry['kind'];
  readonly members: readonly TimelineEntry[];
  /** The label with the node written as NODE (for a folded entry). */
  readonly label: string;
  /** How many distinct nodes the members belong to. */
  readonly nodes: number;
}

export interface Folding {
  readonly foldAt: number;
  /** The drawn name of a component. */
  box(name: string): string;
  /** The node a component belongs to when its family is folded. */
  nodeOf(name: string): string | undefined;
  readonly boxes: readonly DrawnBox[];
  readonly arrows: readonly DrawnArrow[];
  /** A section's entries, alike ones of folded components drawn as one (the same objects for the same list). */
  entries(entries: readonly TimelineEntry[]): DrawnEntry[];
}

const nodeOfGroup = (g: Group): string | undefined => (g.startsWith('node ') ? g.slice(5) : undefined);

export function fold(model: ReportModel, arrowLabel: (a: Arrow) => string, foldAt = FOLD_AT): Folding {
  // Families: node components with the node's name taken out.
  const families = new Map<string, { group: Group; members: { name: string; node: string }[] }>();
  const familyOf = new Map<string, string>();
  for (const c of model.components) {
    const node = nodeOfGroup(c.group);
    if (!node) continue;
    const fam = generic(c.name, node);
    if (fam === c.name) continue;
    let f = families.get(fam);
    if (!f) { f = { group: c.group, members: [] }; families.set(fam, f); }
    f.members.push({ name: c.name, node });
    familyOf.set(c.name, fam);
  }
  const drawn = new Map<string, string>();
  const nodeOf = new Map<string, string>();
  const folded = new Map<string, DrawnBox>();
  for (const [fam, f] of families) {
    const nodes = [...new Set(f.members.map((m) => m.node))];
    if (nodes.length < foldAt) continue;
    const name = `${fam.replace(NODE, `${nodes[0]} … ${nodes.at(-1)}`)} ×${nodes.length}`;
    folded.set(fam, { name, group: f.group, members: f.members.map((m) => m.name) });
    for (const m of f.members) { drawn.set(m.name, name); nodeOf.set(m.name, m.node); }
  }
  const box = (name: string): string => drawn.get(name) ?? name;
  const boxes: DrawnBox[] = [];
  const seen = new Set<string>();
  for (const c of model.components) {
    const name = box(c.name);
    if (seen.has(name)) continue;
    seen.add(name);
    const fam = familyOf.get(c.name);
    boxes.push((fam !== undefined ? folded.get(fam) : undefined) ?? { name, group: c.group, members: [c.name] });
  }
  // Arrows: alike but for the node of a folded end.
  const byKey = new Map<string, { client: string; server: string; outcome: Outcome; label: string; members: Arrow[] }>();
  for (const a of model.arrows) {
    const node = nodeOf.get(a.client) ?? nodeOf.get(a.server);
    const label = generic(arrowLabel(a), node);
    const key = node === undefined ? `own|${a.id}` : `${box(a.client)}|${box(a.server)}|${label}|${a.outcome}`;
    let d = byKey.get(key);
    if (!d) { d = { client: box(a.client), server: box(a.server), outcome: a.outcome, label, members: [] }; byKey.set(key, d); }
    d.members.push(a);
  }
  let n = 0;
  const arrows: DrawnArrow[] = [...byKey].map(([key, d]) => ({ ...d, id: key.startsWith('own|') ? d.members[0]!.id : `fold-arrow-${n++}` }));
  let e = 0;
  const memo = new Map<readonly TimelineEntry[], DrawnEntry[]>();
  const entries = (list: readonly TimelineEntry[]): DrawnEntry[] => {
    const done = memo.get(list);
    if (done) return done;
    const out = new Map<string, { x: DrawnEntry; m: TimelineEntry[]; nodes: Set<string> }>();
    for (const t of list) {
      const node = nodeOf.get(t.client) ?? nodeOf.get(t.server);
      const label = generic(t.label, node);
      const key = node === undefined ? `own|${t.id}` : `${t.kind}|${box(t.client)}|${box(t.server)}|${label}|${t.outcome}`;
      let d = out.get(key);
      if (!d) {
        const m: TimelineEntry[] = [];
        d = { x: { id: node === undefined ? t.id : `fold-entry-${e++}`, client: box(t.client), server: box(t.server), outcome: t.outcome, kind: t.kind, members: m, label, nodes: 0 }, m, nodes: new Set() };
        out.set(key, d);
      }
      d.m.push(t);
      if (node !== undefined) d.nodes.add(node);
    }
    const drawnEntries = [...out.values()].map((d) => ({ ...d.x, nodes: d.nodes.size }));
    memo.set(list, drawnEntries);
    return drawnEntries;
  };
  return { foldAt, box, nodeOf: (name) => nodeOf.get(name), boxes, arrows, entries };
}

/** The node a certificate names: `nodes/<node>/...` in the PKI, or the CN `system:node:<node>`. */
const certNode = (c: CertView, nodes: ReadonlySet<string>): string | undefined => {
  const n = /^nodes\/([^/]+)\//.exec(c.name ?? '')?.[1] ?? /^system:node:(.+)$/.exec(c.cn)?.[1];
  return n !== undefined && nodes.has(n) ? n : undefined;
};

export interface CertFold {
  /** The certificates drawn as one row: alike but for their node's name (one alone: not folded). */
  readonly members: readonly CertView[];
  /** The folded row's fields, the node written as NODE. */
  readonly row?: CertView;
}

/** A CA's certificates in order, runs of certificates alike but for their node folded (at least `foldAt`). */
export function foldCerts(certs: readonly CertView[], nodes: ReadonlySet<string>, foldAt = FOLD_AT): CertFold[] {
  const groups = new Map<string, { node: string; members: CertView[] }>();
  const out: (CertFold | { key: string })[] = [];
  const day = (s: string | undefined): string => s?.slice(0, 10) ?? '';
  // Each node's serving certificate names the node's own address: alike, but for that too.
  const ip = (san: string): string => (san.startsWith('IP Address:') ? 'IP Address:<ip>' : san);
  for (const c of certs) {
    const node = certNode(c, nodes);
    if (node === undefined) { out.push({ members: [c] }); continue; }
    const g = (s: string): string => generic(s, node);
    const key = JSON.stringify([g(c.name ?? ''), g(c.cn), c.o.map(g), c.eku, c.sans.map((x) => ip(g(x))), day(c.notBefore), day(c.notAfter), c.key, c.held.map(g), c.uses.map(g)]);
    const f = groups.get(key);
    if (f) { f.members.push(c); continue; }
    groups.set(key, { node, members: [c] });
    out.push({ key });
  }
  return out.flatMap((x): CertFold[] => {
    if (!('key' in x)) return [x];
    const { node, members } = groups.get(x.key)!;
    if (members.length < foldAt) return members.map((m) => ({ members: [m] }));
    const c = members[0]!;
    const g = (s: string): string => generic(s, node);
    const sans = c.sans.map((x, i) => (members.every((m) => m.sans[i] === x) ? x : x.startsWith('IP Address:') ? `IP Address:<${NODE.slice(1, -1)}'s address>` : g(x)));
    return [{ members, row: { ...c, ...(c.name ? { name: g(c.name) } : {}), cn: g(c.cn), o: c.o.map(g), sans, held: c.held.map(g), uses: c.uses.map(g) } }];
  });
}

/** Names such as `kube-proxy (node-7) (client)`, those of at least `foldAt` nodes alike written `kube-proxy (node-1 … node-200) ×200 (client)`. */
export function foldNames(names: readonly string[], nodes: ReadonlySet<string>, foldAt = FOLD_AT): string[] {
  const fams = new Map<string, string[]>();
  const order: string[] = [];
  for (const n of names) {
    const node = [...n.matchAll(/\(([^)]+)\)/g)].map((m) => m[1]!).find((x) => nodes.has(x));
    const fam = node === undefined ? `=${n}` : generic(n, node);
    let f = fams.get(fam);
    if (!f) { f = []; fams.set(fam, f); order.push(fam); }
    f.push(node ?? n);
  }
  return order.flatMap((fam) => {
    const f = fams.get(fam)!;
    if (fam.startsWith('=') || f.length < foldAt) return fam.startsWith('=') ? [fam.slice(1)] : f.map((node) => fam.replace(NODE, node));
    return [fam.replace(NODE, `${f[0]} … ${f.at(-1)}`).replace(/\)/, `) ×${f.length}`)];
  });
}
