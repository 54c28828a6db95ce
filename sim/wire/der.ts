/**
 * Just enough DER to print an X.501 Name (the certificate_authorities list of a CertificateRequest
 * carries bare DistinguishedNames, which node:crypto cannot read on their own).
 */
const ATTRIBUTES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
};

interface Tlv { readonly tag: number; readonly value: Buffer; readonly end: number }

function tlv(b: Buffer, at: number): Tlv {
  const tag = b[at]!;
  let len = b[at + 1]!;
  let off = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[off + i]!;
    off += n;
  }
  if (off + len > b.length) throw new Error('DER: truncated');
  return { tag, value: b.subarray(off, off + len), end: off + len };
}

function children(b: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < b.length;) { const t = tlv(b, at); out.push(t); at = t.end; }
  return out;
}

function oid(b: Buffer): string {
  const parts = [Math.floor(b[0]! / 40), b[0]! % 40];
  let v = 0;
  for (const byte of b.subarray(1)) { v = v * 128 + (byte & 0x7f); if (!(byte & 0x80)) { parts.push(v); v = 0; } }
  return parts.join('.');
}

/** `CN=etcd-ca` or `O=system:nodes, CN=system:node:node-1`, in the order the Name lists them. */
export function distinguishedName(der: Buffer): string {
  try {
    const name = tlv(der, 0);
    const parts = children(name.value).flatMap((set) => children(set.value).map((atv) => {
      const [type, value] = children(atv.value);
      const id = type ? oid(type.value) : '?';
      return `${ATTRIBUTES[id] ?? id}=${value ? value.value.toString(value.tag === 0x1e ? 'utf16le' : 'utf8') : ''}`;
    }));
    return parts.join(', ');
  } catch {
    return `(${der.length} bytes that are not a Name)`;
  }
}
