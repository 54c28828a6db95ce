/**
 * A small strict XML 1.0 parser for tests (no DTDs, no namespaces needed): it throws on what a
 * conforming parser rejects and a JUnit consumer would choke on: a tag not closed or closed out of
 * order, an attribute twice or unquoted, a raw `<` or `&` that is no reference, an unknown entity, a
 * control character, text outside the root, more than one root.
 */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string, where: number): string {
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s)) throw new Error(`XML: control character at ${where}`);
  if (s.includes('<')) throw new Error(`XML: raw "<" at ${where}`);
  return s.replace(/&([^;\s&<]*);|&/g, (m, ref: string | undefined) => {
    if (ref === undefined) throw new Error(`XML: a bare "&" at ${where}`);
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const e = ENTITIES[ref];
    if (e === undefined) throw new Error(`XML: unknown entity &${ref}; at ${where}`);
    return e;
  });
}

export function parseXml(xml: string): XmlElement {
  let i = 0;
  const decl = /^<\?xml\s+version="1\.[0-9]"(\s+encoding="[A-Za-z0-9._-]+")?(\s+standalone="(yes|no)")?\s*\?>/.exec(xml);
  if (decl) i = decl[0].length;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    if (stack.length === 0) {
      if (text.trim() !== '') throw new Error(`XML: text outside the root element at ${i}`);
    } else {
      stack.at(-1)!.text += decode(text, i);
    }
    if (lt === -1) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end === -1) throw new Error('XML: unterminated comment');
      i = end + 3;
      continue;
    }
    if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i);
      if (end === -1 || stack.length === 0) throw new Error('XML: bad CDATA section');
      stack.at(-1)!.text += xml.slice(i + 9, end);
      i = end + 3;
      continue;
    }
    if (xml.startsWith('</', i)) {
      const m = NAME.exec(xml.slice(i + 2));
      const close = m ? xml.slice(i + 2 + m[0].length).match(/^\s*>/) : null;
      if (!m || !close) throw new Error(`XML: bad end tag at ${i}`);
      const open = stack.pop();
      if (open?.name !== m[0]) throw new Error(`XML: </${m[0]}> closes <${open?.name ?? 'nothing'}> at ${i}`);
      i += 2 + m[0].length + close[0].length;
      continue;
    }
    const m = NAME.exec(xml.slice(i + 1));
    if (!m) throw new Error(`XML: bad tag at ${i}`);
    i += 1 + m[0].length;
    const attributes: Record<string, string> = {};
    for (;;) {
      const a = /^\s+([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(xml.slice(i));
      if (!a) break;
      if (a[1]! in attributes) throw new Error(`XML: attribute ${a[1]!} twice at ${i}`);
      attributes[a[1]!] = decode(a[3] ?? a[4] ?? '', i);
      i += a[0].length;
    }
    const end = /^\s*(\/?)>/.exec(xml.slice(i));
    if (!end) throw new Error(`XML: malformed start tag <${m[0]}> at ${i}`);
    i += end[0].length;
    const el: XmlElement = { name: m[0], attributes, children: [], text: '' };
    if (stack.length === 0) {
      if (root) throw new Error('XML: more than one root element');
      root = el;
    } else {
      stack.at(-1)!.children.push(el);
    }
    if (end[1] !== '/') stack.push(el);
  }
  if (stack.length > 0) throw new Error(`XML: <${stack.at(-1)!.name}> is not closed`);
  if (!root) throw new Error('XML: no root element');
  return root;
}
