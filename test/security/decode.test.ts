import { expect } from 'chai';
import { KubeClient, resourcePath } from '../../components/client/kube-client.js';
import { ApiStatusError } from '../../components/api/errors.js';
import { MAX_BODY } from '../../components/kube-apiserver/http.js';
import { copyJson, parseJson } from '../../components/kube-apiserver/json.js';
import { jsonPatch, mergePatch, strategicMergePatch, type Json } from '../../components/kube-apiserver/patch.js';
import { decodeProtobufObject } from '../../components/kube-apiserver/protobuf.js';
import { caPem, issuePki, type Pki } from '../../pki/store.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

const POISON = ['__proto__', 'constructor', 'prototype'] as const;

/** Nothing reachable from a fresh object literal was added by a request. */
function expectPrototypesClean(): void {
  const probe = {} as Record<string, unknown>;
  for (const k of ['subjects', 'polluted', 'x', 'y']) expect(probe[k], `Object.prototype.${k}`).to.equal(undefined);
  expect(Object.getPrototypeOf(probe)).to.equal(Object.prototype);
  expect(Object.keys(Object.prototype)).to.deep.equal([]);
}

const statusOf = (fn: () => unknown): { code: number; reason: string; message: string } => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiStatusError) return err.status;
    throw err;
  }
  throw new Error('expected a Status error');
};

describe('request decoding: no request can reach a prototype', () => {
  afterEach(expectPrototypesClean);

  it('the JSON decoder makes __proto__, constructor and prototype plain members of null-prototype objects', () => {
    const v = parseJson('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"a":[{"__proto__":{"x":1}}]}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).to.equal(null);
    expect(Object.keys(v)).to.deep.equal(['__proto__', 'constructor', 'a']);
    expect((v.__proto__ as Record<string, unknown>).polluted).to.equal(1);
    expect(Object.getPrototypeOf((v.a as object[])[0])).to.equal(null);
    expect(JSON.parse(JSON.stringify(copyJson(v)))).to.deep.equal(JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"a":[{"__proto__":{"x":1}}]}'));
  });

  for (const key of POISON) {
    const target = (): Json => JSON.parse('{"metadata":{"name":"n","labels":{"a":"1"}},"spec":{"containers":[{"name":"c"}]}}') as Json;

    it(`JSON patch: a path through ${key} is a missing member (422), never the prototype`, () => {
      for (const path of [`/${key}/subjects`, `/${key}/polluted`, `/metadata/${key}/polluted`, `/spec/containers/0/${key}/x`, `/constructor/prototype/polluted`]) {
        const s = statusOf(() => jsonPatch(target(), [{ op: 'add', path, value: [{ kind: 'Group', name: 'system:unauthenticated' }] }]));
        expect(s, path).to.deep.include({ code: 422, reason: 'Invalid', message: 'the server rejected our request due to an error in our request' });
      }
      for (const op of ['replace', 'remove', 'test']) {
        expect(statusOf(() => jsonPatch(target(), [{ op, path: `/${key}/polluted`, value: 1 }])).code, op).to.equal(422);
      }
      expect(statusOf(() => jsonPatch(target(), [{ op: 'copy', from: `/${key}`, path: '/x' }])).code).to.equal(422);
      expect(statusOf(() => jsonPatch(target(), [{ op: 'move', from: `/${key}`, path: '/x' }])).code).to.equal(422);
      // Adding the member itself is data on the copy, as in Go's map: an own member, not a prototype.
      const out = jsonPatch(target(), [{ op: 'add', path: `/${key}`, value: { polluted: 1 } }]) as Record<string, unknown>;
      expect(Object.hasOwn(out, key)).to.equal(true);
      expect((out as { polluted?: unknown }).polluted).to.equal(undefined);
    });

    it(`merge and strategic merge patches keep a ${key} member as data`, () => {
      for (const apply of [mergePatch, strategicMergePatch]) {
        const patch = parseJson(`{"${key}":{"polluted":1,"subjects":[1]},"metadata":{"labels":{"${key}":"v"},"${key}":{"x":1}},"spec":{"containers":[{"name":"c","${key}":{"y":1}}]}}`) as Json;
        const out = apply(target(), patch) as Record<string, Record<string, unknown>>;
        expect(Object.hasOwn(out, key), apply.name).to.equal(true);
        expect((out as { subjects?: unknown }).subjects).to.equal(undefined);
        expect(Object.hasOwn(out.metadata!, key)).to.equal(true);
        expect((out.metadata!.labels as Record<string, unknown>)[key]).to.equal('v');
        expect((out.metadata as { x?: unknown }).x).to.equal(undefined);
      }
    });

    it(`protobuf: a map key ${key} is data`, () => {
      // v1 ConfigMap {metadata {name: c, labels {KEY: v}}, data {KEY: v}}
      const ld = (no: number, payload: Buffer | string): Buffer => {
        const b = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
        return Buffer.concat([Buffer.from([(no << 3) | 2, b.length]), b]);
      };
      const entry = ld(1, key);
      const typeMeta = ld(1, Buffer.concat([ld(1, 'v1'), ld(2, 'ConfigMap')]));
      const cm = Buffer.concat([ld(1, Buffer.concat([ld(1, 'c'), ld(11, Buffer.concat([entry, ld(2, 'v')]))])), ld(2, Buffer.concat([entry, ld(2, 'w')]))]);
      const body = Buffer.concat([Buffer.from('k8s\0', 'latin1'), typeMeta, ld(2, cm)]);
      const obj = decodeProtobufObject(body) as { metadata: { labels: Record<string, unknown> }; data: Record<string, unknown> };
      expect(Object.hasOwn(obj.data, key)).to.equal(true);
      expect(obj.data[key]).to.equal('w');
      expect(obj.metadata.labels[key]).to.equal('v');
    });
  }
});

describe('request bodies against a running control plane', () => {
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  let anonymous: KubeClient;

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    anonymous = new KubeClient({ name: 'anonymous', server: cp.url, serverCa: caPem(pki, 'ca') });
  });
  after(async () => {
    anonymous?.close();
    await cp?.stop();
  });
  afterEach(expectPrototypesClean);

  const cms = (name?: string): string => resourcePath({ resource: 'configmaps', namespace: 'default', ...(name ? { name } : {}) });
  const json = (body: string): Record<string, unknown> => JSON.parse(body) as Record<string, unknown>;

  it('the issue\'s attack: a kubelet\'s JSON patch through /__proto__ is refused (422) and anonymous still gets 403 on secrets', async () => {
    await admin.create(resourcePath({ resource: 'nodes' }), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
    // A ClusterRoleBinding with no subjects of its own: it must never apply to anyone.
    await admin.create(resourcePath({ group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' }), {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'no-subjects' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    });
    const secrets = resourcePath({ resource: 'secrets' });
    expect((await anonymous.raw('GET', secrets)).status).to.equal(403);
    const kubelet = cp.client('nodes/node-1/kubelet.conf');
    const attack = [{ op: 'add', path: '/__proto__/subjects', value: [{ kind: 'Group', name: 'system:unauthenticated' }] }];
    const r = await kubelet.raw('PATCH', resourcePath({ resource: 'nodes', name: 'node-1', subresource: 'status' }), attack, 'application/json-patch+json');
    expect(r.status, r.body).to.equal(422);
    expect(json(r.body)).to.deep.include({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422, message: 'the server rejected our request due to an error in our request' });
    expect(({} as { subjects?: unknown }).subjects).to.equal(undefined);
    const after = await anonymous.raw('GET', secrets);
    expect(after.status, after.body).to.equal(403);
    // The same through a merge patch and a strategic merge patch: the member is unknown to Node, dropped with a warning.
    for (const ct of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
      const m = await kubelet.raw('PATCH', resourcePath({ resource: 'nodes', name: 'node-1', subresource: 'status' }), '{"__proto__":{"subjects":[{"kind":"Group","name":"system:unauthenticated"}]}}', ct);
      expect(m.status, `${ct}: ${m.body}`).to.be.oneOf([200, 422]);
      expect((await anonymous.raw('GET', secrets)).status).to.equal(403);
    }
  });

  it('answers a body over 3 MiB with a 413 Status the client receives, and keeps serving', async () => {
    const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { a: 'x'.repeat(MAX_BODY + 1024) } });
    const r = await admin.raw('POST', cms(), big);
    expect(r.status).to.equal(413);
    expect(json(r.body)).to.deep.include({ kind: 'Status', reason: 'RequestEntityTooLarge', code: 413, message: 'Request entity too large: limit is 3145728' });
    expect(r.headers.connection).to.equal('close');
    const ok = await admin.raw('GET', cms());
    expect(ok.status).to.equal(200);
  });

  it('refuses a text/plain body with 415 as NegotiateInputSerializer words it; YAML is served', async () => {
    const r = await admin.raw('POST', cms(), JSON.stringify({ metadata: { name: 'plain' } }), 'text/plain');
    expect(r.status).to.equal(415);
    expect(json(r.body)).to.deep.include({ reason: 'UnsupportedMediaType', message: 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf' });
    const y = await admin.raw('POST', cms(), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  __proto__: "x"\n', 'application/yaml');
    expect(y.status, y.body).to.equal(201);
    expect(json(y.body).data).to.deep.equal(JSON.parse('{"__proto__":"x"}'));
  });

  it('decodes YAML bodies (create and update) into null-prototype objects: __proto__ and constructor keys are data, aliases and depth are bounded', async () => {
    const body = [
      'apiVersion: v1', 'kind: ConfigMap', '__proto__: {polluted: "yes"}', 'constructor: {prototype: {polluted: "yes"}}',
      'metadata:', '  name: yaml-proto', '  labels: {constructor: "x", prototype: "y"}',
      'data:', '  __proto__: "p"', '  constructor: "c"', '  polluted: &a "z"', '  prototype: *a', '',
    ].join('\n');
    const c = await admin.raw('POST', cms(), body, 'application/yaml');
    expect(c.status, c.body).to.equal(201);
    expect(c.headers.warning).to.include('unknown field \\"__proto__\\"');
    const created = json(c.body);
    expect(created.data).to.deep.equal(JSON.parse('{"__proto__":"p","constructor":"c","polluted":"z","prototype":"z"}'));
    expect((created.metadata as Record<string, unknown>).labels).to.deep.equal({ constructor: 'x', prototype: 'y' });
    const rv = String((created.metadata as Record<string, unknown>).resourceVersion);
    const put = await admin.raw('PUT', cms('yaml-proto'), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: yaml-proto, resourceVersion: "${rv}"}\ndata: {__proto__: {polluted: "yes"}}\n`, 'application/yaml');
    expect(put.status, put.body).to.equal(400);
    expect(json(put.body).message).to.equal('ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal object into Go struct field ConfigMap.data of type string');
    const put2 = await admin.raw('PUT', cms('yaml-proto'), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: yaml-proto, resourceVersion: "${rv}"}\ndata: {__proto__: "q"}\n`, 'application/yaml');
    expect(put2.status, put2.body).to.equal(200);
    expect(json(put2.body).data).to.deep.equal(JSON.parse('{"__proto__":"q"}'));
    // A billion-laughs document (aliases of aliases) and a very deep one: 400, and the server keeps serving.
    const laughs = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_v, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`), 'metadata: {name: laughs}'].join('\n');
    const bomb = await admin.raw('POST', cms(), laughs, 'application/yaml');
    expect(bomb.status, bomb.body.slice(0, 200)).to.equal(400);
    const deep = await admin.raw('POST', cms(), `metadata: {name: deep-yaml}\ndata: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`, 'application/yaml');
    expect(deep.status, deep.body.slice(0, 200)).to.equal(400);
    expect((await admin.raw('GET', cms('yaml-proto'))).status).to.equal(200);
  });

  it('decodes JSON nested 5,000 deep without a 500: a type error where it lands in a typed field, Go\'s depth limit beyond 10,000', async () => {
    const deep = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const typed = await admin.raw('POST', cms(), `{"metadata":{"name":"deep"},"data":${deep(5000)}}`);
    expect(typed.status, typed.body).to.equal(400);
    expect(json(typed.body).message).to.equal('ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal object into Go struct field ConfigMap.data of type string');
    const unknownField = await admin.raw('POST', cms(), `{"metadata":{"name":"deep2"},"deep":${deep(5000)}}`);
    expect(unknownField.status, unknownField.body).to.equal(201);
    expect(unknownField.headers.warning).to.equal('299 - "unknown field \\"deep\\""');
    const tooDeep = await admin.raw('POST', cms(), `{"metadata":{"name":"deep3"},"data":${deep(10_001)}}`);
    expect(tooDeep.status).to.equal(400);
    expect(json(tooDeep.body).message).to.equal('the object provided is unrecognized (ConfigMap: {"metadata":{"name":"deep3"}," ...)');
    for (const ct of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
      const p = await admin.raw('PATCH', cms('deep2'), `{"data":${deep(5000)}}`, ct);
      expect(p.status, `${ct}: ${p.body.slice(0, 200)}`).to.equal(422);
    }
    const jp = await admin.raw('PATCH', cms('deep2'), `[{"op":"add","path":"/data","value":${deep(5000)}}]`, 'application/json-patch+json');
    expect(jp.status, jp.body.slice(0, 200)).to.equal(422);
    expect(json(jp.body).message).to.match(/^ "" is invalid: patch: Invalid value: ".*": json: cannot unmarshal object into Go struct field ConfigMap\.data of type string$/s);
  });

  it('validates label keys and values and annotation keys as ValidateLabels/ValidateAnnotations do (422)', async () => {
    const r = await admin.raw('POST', cms(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'lbl', labels: { 'bad key!': 'ok' } } });
    expect(r.status).to.equal(422);
    expect(json(r.body).message).to.equal('ConfigMap "lbl" is invalid: metadata.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyName\',  or \'my.name\',  or \'123-abc\', regex used for validation is \'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\')');
    const v = await admin.raw('POST', cms(), { metadata: { name: 'lbl', labels: { ok: 'bad value!' } } });
    expect(v.status).to.equal(422);
    expect(json(v.body).message).to.match(/metadata\.labels: Invalid value: "bad value!": a valid label must be an empty string or consist of/);
    const a = await admin.raw('POST', cms(), { metadata: { name: 'lbl', annotations: { 'example.com/Fine': 'x', '-bad': 'x' } } });
    expect(a.status).to.equal(422);
    expect(json(a.body).message).to.match(/^ConfigMap "lbl" is invalid: metadata\.annotations: Invalid value: "-bad": name part must consist/);
    await admin.create(cms(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'lbl', labels: { 'app.kubernetes.io/name': 'web' } } });
    const p = await admin.raw('PATCH', cms('lbl'), { metadata: { labels: { 'bad key!': 'x' } } }, 'application/merge-patch+json');
    expect(p.status).to.equal(422);
  });

  it('refuses non-string ConfigMap data with Go\'s decode error (400)', async () => {
    const r = await admin.raw('POST', cms(), { metadata: { name: 'nums' }, data: { a: 1 } });
    expect(r.status).to.equal(400);
    expect(json(r.body)).to.deep.include({ reason: 'BadRequest', message: 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string' });
  });

  it('server-side field validation: Warn (default) drops with a warning, Strict refuses, Ignore drops, anything else is refused', async () => {
    const deploy = (name: string): object => ({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
      spec: { foo: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx', bar: true }] } } },
    });
    const path = (q = ''): string => resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default' }) + q;
    const warn = await admin.raw('POST', path(), deploy('warn'));
    expect(warn.status, warn.body).to.equal(201);
    expect(warn.headers.warning).to.equal('299 - "unknown field \\"spec.foo\\"", 299 - "unknown field \\"spec.template.spec.containers[0].bar\\""');
    const stored = json(warn.body) as { spec: Record<string, unknown> & { template: { spec: { containers: Record<string, unknown>[] } } } };
    expect(stored.spec).to.not.have.property('foo');
    expect(stored.spec.template.spec.containers[0]).to.not.have.property('bar');
    const strict = await admin.raw('POST', path('?fieldValidation=Strict'), deploy('strict'));
    expect(strict.status).to.equal(400);
    expect(json(strict.body).message).to.equal('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[0].bar"');
    const ignore = await admin.raw('POST', path('?fieldValidation=Ignore'), deploy('ignore'));
    expect(ignore.status).to.equal(201);
    expect(ignore.headers.warning).to.equal(undefined);
    const bogus = await admin.raw('POST', path('?fieldValidation=Bogus'), deploy('bogus'));
    expect(bogus.status).to.equal(422);
    expect(json(bogus.body).message).to.equal('CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Bogus": supported values: "", "Ignore", "Strict", "Warn"');
    const patch = await admin.raw('PATCH', path('/warn?fieldValidation=Strict'), { spec: { baz: 1 } }, 'application/merge-patch+json');
    expect(patch.status).to.equal(422);
    expect(json(patch.body).message).to.match(/^ "" is invalid: patch: Invalid value: ".*": strict decoding error: unknown field "spec.baz"$/s);
    const patchWarn = await admin.raw('PATCH', path('/warn'), { spec: { baz: 1 } }, 'application/strategic-merge-patch+json');
    expect(patchWarn.status).to.equal(200);
    expect(patchWarn.headers.warning).to.equal('299 - "unknown field \\"spec.baz\\""');
  });

  it('refuses expirationSeconds that overflow their Go type (400) or exceed 2^32 (422), for TokenRequest and CSR', async () => {
    await admin.create(resourcePath({ resource: 'serviceaccounts', namespace: 'default' }), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'tok' } });
    const token = resourcePath({ resource: 'serviceaccounts', namespace: 'default', name: 'tok', subresource: 'token' });
    const huge = await admin.raw('POST', token, '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":1e300}}');
    expect(huge.status, huge.body).to.equal(400);
    expect(json(huge.body).message).to.equal('TokenRequest in version "v1" cannot be handled as a TokenRequest: json: cannot unmarshal number 1e300 into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64');
    const over = await admin.raw('POST', token, '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":4294967297}}');
    expect(over.status, over.body).to.equal(422);
    expect(json(over.body).message).to.equal('TokenRequest.authentication.k8s.io "tok" is invalid: spec.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds');
    const csrs = resourcePath({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests' });
    const csr = (seconds: string): string => `{"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{"name":"c"},"spec":{"request":"","signerName":"kubernetes.io/kube-apiserver-client","usages":["client auth"],"expirationSeconds":${seconds}}}`;
    for (const s of ['1e300', '4294967297', '600.5']) {
      const r = await admin.raw('POST', csrs, csr(s));
      expect(r.status, r.body).to.equal(400);
      expect(json(r.body).message).to.equal(`CertificateSigningRequest in version "v1" cannot be handled as a CertificateSigningRequest: json: cannot unmarshal number ${s} into Go struct field CertificateSigningRequestSpec.spec.expirationSeconds of type int32`);
    }
  });

  it('names a kind mismatch as the codec does, not "API version (v1) does not match (v1)"', async () => {
    const r = await admin.raw('POST', cms(), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'k' } });
    expect(r.status).to.equal(400);
    expect(json(r.body).message).to.equal('Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to (ConfigMap): unknown conversion');
    const v = await admin.raw('POST', cms(), { apiVersion: 'v2', kind: 'ConfigMap', metadata: { name: 'k' } });
    expect(v.status).to.equal(400);
    expect(json(v.body).message).to.equal('the API version in the data (v2) does not match the expected API version (v1)');
  });
});

describe('request decoding: what the field tables do not cover is kept', () => {
  it('keeps a Volume\'s inline VolumeSource members (secret, configMap), which the tables do not list', async () => {
    const { decodeInto } = await import('../../components/kube-apiserver/decode.js');
    const pod = parseJson('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}],"volumes":[{"name":"s","secret":{"secretName":"db"}}]}}') as Record<string, unknown>;
    expect(decodeInto('v1', 'Pod', pod as never).unknown).to.deep.equal([]);
    expect(JSON.parse(JSON.stringify(pod)).spec.volumes).to.deep.equal([{ name: 's', secret: { secretName: 'db' } }]);
  });
});
