/**
 * The Kubernetes protobuf wire form (`application/vnd.kubernetes.protobuf`), decoded for the requests
 * real clients send that way: kubectl >= 1.32 posts SelfSubjectAccessReview (`kubectl auth can-i`) as
 * protobuf. The body is the 4-byte magic `k8s\0` and a runtime.Unknown {typeMeta = 1 {apiVersion = 1,
 * kind = 2}, raw = 2, contentEncoding = 3, contentType = 4}, whose `raw` is the object's own message
 * (field numbers from k8s.io/api/{authorization,core}/v1/generated.proto). Decoded: the access reviews,
 * and Namespace and ConfigMap (kubectl >= 1.32's `create namespace|configmap`). Other kinds are not
 * decoded here: the caller answers 415 for them.
 */

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

type Field = { readonly no: number; readonly wire: number; readonly bytes?: Buffer; readonly varint?: bigint };

/** The fields of one message, in order; throws on a truncated or malformed buffer. */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  };
  while (i < buf.length) {
    const key = varint();
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) out.push({ no, wire, varint: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error('truncated length-delimited field');
      out.push({ no, wire, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const str = (fs: readonly Field[], no: number): string | undefined => {
  const f = fs.find((x) => x.no === no && x.bytes);
  return f?.bytes?.toString('utf8');
};
const msg = (fs: readonly Field[], no: number): Field[] | undefined => {
  const f = fs.find((x) => x.no === no && x.bytes);
  return f?.bytes ? fields(f.bytes) : undefined;
};

/** Keeps the non-empty string fields (proto2 sends empty ones; JSON leaves them out). */
function strings(fs: readonly Field[], names: Readonly<Record<number, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [no, name] of Object.entries(names)) {
    const v = str(fs, Number(no));
    if (v) out[name] = v;
  }
  return out;
}

/** map<string,string> entries: repeated {key = 1, value = 2}. */
function stringMap(fs: readonly Field[], no: number): Record<string, string> | undefined {
  const entries = fs.filter((f) => f.no === no && f.bytes).map((f) => fields(f.bytes!));
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map((e) => [str(e, 1) ?? '', str(e, 2) ?? '']));
}

/** ObjectMeta as a client sends it on create: name = 1, generateName = 2, namespace = 3, labels = 11, annotations = 12, finalizers = 14. */
function objectMeta(fs: readonly Field[] | undefined): Record<string, unknown> {
  if (!fs) return {};
  const out: Record<string, unknown> = strings(fs, { 1: 'name', 2: 'generateName', 3: 'namespace' });
  const labels = stringMap(fs, 11);
  if (labels) out.labels = labels;
  const annotations = stringMap(fs, 12);
  if (annotations) out.annotations = annotations;
  const finalizers = fs.filter((f) => f.no === 14 && f.bytes).map((f) => f.bytes!.toString('utf8'));
  if (finalizers.length > 0) out.finalizers = finalizers;
  return out;
}

const RESOURCE_ATTRIBUTES = { 1: 'namespace', 2: 'verb', 3: 'group', 4: 'version', 5: 'resource', 6: 'subresource', 7: 'name' } as const;
const NON_RESOURCE_ATTRIBUTES = { 1: 'path', 2: 'verb' } as const;

function reviewSpec(spec: readonly Field[], subject: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ra = msg(spec, 1);
  if (ra) out.resourceAttributes = strings(ra, RESOURCE_ATTRIBUTES);
  const nra = msg(spec, 2);
  if (nra) out.nonResourceAttributes = strings(nra, NON_RESOURCE_ATTRIBUTES);
  if (subject) {
    const user = str(spec, 3);
    if (user) out.user = user;
    const groups = spec.filter((f) => f.no === 4 && f.bytes).map((f) => f.bytes!.toString('utf8'));
    if (groups.length > 0) out.groups = groups;
    const uid = str(spec, 6);
    if (uid) out.uid = uid;
  }
  return out;
}

/**
 * The JSON form of a protobuf request body, or undefined when it is not one of the kinds decoded here.
 * Throws (with the reason) when the body is not the Kubernetes protobuf envelope at all.
 */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> | undefined {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new Error('the body does not start with the k8s protobuf magic number');
  const unknown = fields(body.subarray(4));
  const typeMeta = msg(unknown, 1) ?? [];
  const apiVersion = str(typeMeta, 1) ?? '';
  const kind = str(typeMeta, 2) ?? '';
  const rawField = unknown.find((f) => f.no === 2 && f.bytes);
  if (!rawField?.bytes) return undefined;
  if (apiVersion === 'v1' && (kind === 'Namespace' || kind === 'ConfigMap')) {
    // kubectl >= 1.32's `create namespace` / `create configmap` (typed clients).
    const obj = fields(rawField.bytes);
    const out: Record<string, unknown> = { apiVersion, kind, metadata: objectMeta(msg(obj, 1)) };
    if (kind === 'Namespace') {
      const finalizers = (msg(obj, 2) ?? []).filter((f) => f.no === 1 && f.bytes).map((f) => f.bytes!.toString('utf8'));
      if (finalizers.length > 0) out.spec = { finalizers };
    } else {
      const data = stringMap(obj, 2);
      if (data) out.data = data;
      if (obj.some((f) => f.no === 3)) return undefined; // binaryData: not decoded here
    }
    return out;
  }
  if (apiVersion !== 'authorization.k8s.io/v1') return undefined;
  const kinds: Readonly<Record<string, boolean>> = { SelfSubjectAccessReview: false, SubjectAccessReview: true, LocalSubjectAccessReview: true };
  if (!(kind in kinds)) return undefined;
  const obj = fields(rawField.bytes);
  return { apiVersion, kind, metadata: objectMeta(msg(obj, 1)), spec: reviewSpec(msg(obj, 2) ?? [], kinds[kind]!) };
}
