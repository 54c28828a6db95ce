/**
 * Protobuf request bodies: kubectl >= 1.32's typed clients send what they create (`create deployment`,
 * `service`, `secret`, `serviceaccount`, `role`, `rolebinding`, `clusterrole`, `clusterrolebinding`,
 * `namespace`, `configmap`, `token`), `certificate approve`, `auth can-i` and drain's DeleteOptions as
 * `application/vnd.kubernetes.protobuf`. The fixtures are the bytes real kubectl sent, captured on the
 * wire (`captured` below: kubectl 1.33; fixtures/kubectl-protobuf.json: kubectl 1.32, each with the same
 * command's `--dry-run=client -o json`, the JSON kubectl itself makes of the object: the oracle).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { decodeProtobufObject, ProtobufError } from '../../components/kube-apiserver/protobuf.js';
import { caPem, credential, issuePki, type LeafName, type Pki } from '../../pki/store.js';
import type { Pod } from '../../components/api/types.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

const captured = {
  // kubectl auth can-i list pods -n kube-system
  ssarResource: '6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a65637441636365737352657669657712410a100a0012001a0022002a0032003800420012230a210a0b6b7562652d73797374656d12046c6973741a0022002a04706f647332003a001a08080012001a0020001a002200',
  // kubectl auth can-i get /healthz
  ssarNonResource: '6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a656374416363657373526576696577122f0a100a0012001a0022002a003200380042001211120f0a082f6865616c74687a12036765741a08080012001a0020001a002200',
  // kubectl create ns capt
  namespace: '6b3873000a0f0a02763112094e616d657370616365121c0a140a046361707412001a0022002a0032003800420012001a020a001a002200',
  // kubectl create configmap cm1 --from-literal=a=b -n capt
  configMap: '6b3873000a0f0a0276311209436f6e6669674d617012210a170a03636d3112001a046361707422002a0032003800420012060a01611201621a002200',
};

interface Fixture { readonly command: string; readonly method: string; readonly path: string; readonly body: string; readonly kubectlJson?: Record<string, unknown> }
const FIXTURES = (JSON.parse(readFileSync(new URL('./fixtures/kubectl-protobuf.json', import.meta.url), 'utf8')) as { requests: Fixture[] }).requests;
const fixture = (command: string): Fixture => FIXTURES.find((f) => f.command.startsWith(command))!;

/** encoding/json's form without the nulls Go writes for a zero Time (creationTimestamp: null). */
const withoutNulls = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
  return v;
};

/** A minimal protobuf writer, to make bodies kubectl would not send. */
const varint = (n: number): Buffer => {
  const out: number[] = [];
  for (let v = n; ; v = Math.floor(v / 128)) { if (v < 128) { out.push(v); break; } out.push((v % 128) | 128); }
  return Buffer.from(out);
};
const ld = (no: number, b: Buffer | string): Buffer => { const v = Buffer.from(b); return Buffer.concat([varint((no << 3) | 2), varint(v.length), v]); };
const vi = (no: number, n: number): Buffer => Buffer.concat([varint(no << 3), varint(n)]);
const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([Buffer.from('k8s\0', 'latin1'), ld(1, Buffer.concat([ld(1, apiVersion), ld(2, kind)])), ld(2, raw)]);

describe('kube-apiserver protobuf bodies', () => {
  describe('decodeProtobufObject', () => {
    it('decodes kubectl 1.33\'s SelfSubjectAccessReview for a resource', () => {
      expect(decodeProtobufObject(Buffer.from(captured.ssarResource, 'hex'))).to.deep.equal({
        apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {},
        spec: { resourceAttributes: { namespace: 'kube-system', verb: 'list', resource: 'pods' } }, status: {},
      });
    });

    it('decodes a non-resource SelfSubjectAccessReview', () => {
      expect(decodeProtobufObject(Buffer.from(captured.ssarNonResource, 'hex'))).to.deep.equal({
        apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {},
        spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } }, status: {},
      });
    });

    it('decodes a Namespace and a ConfigMap', () => {
      expect(decodeProtobufObject(Buffer.from(captured.namespace, 'hex'))).to.deep.equal({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'capt' }, spec: {}, status: {} });
      expect(decodeProtobufObject(Buffer.from(captured.configMap, 'hex'))).to.deep.equal({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm1', namespace: 'capt' }, data: { a: 'b' } });
    });

    for (const f of FIXTURES.filter((x) => x.kubectlJson)) {
      it(`decodes what kubectl 1.32 sends for "${f.command.replace(/^kubectl /, '')}" as kubectl's own JSON of it`, () => {
        expect(decodeProtobufObject(Buffer.from(f.body, 'hex'))).to.deep.equal(withoutNulls(f.kubectlJson));
      });
    }

    it('decodes a TokenRequest (kubectl create token --duration=10m)', () => {
      expect(decodeProtobufObject(Buffer.from(fixture('kubectl create token').body, 'hex'))).to.deep.include({
        apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 },
      });
    });

    it('decodes kubectl certificate approve: the request as base64 PEM, the Approved condition with its times', () => {
      const csr = decodeProtobufObject(Buffer.from(fixture('kubectl certificate approve').body, 'hex')) as {
        spec: { request: string; signerName: string; expirationSeconds: number; usages: string[]; username: string; groups: string[] };
        status: { conditions: { type: string; status: string; reason: string; message: string; lastUpdateTime: string }[] };
      };
      expect(Buffer.from(csr.spec.request, 'base64').toString()).to.match(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
      expect(csr.spec).to.deep.include({ signerName: 'kubernetes.io/kube-apiserver-client', expirationSeconds: 86400, usages: ['client auth'], username: 'kubernetes-admin' });
      expect(csr.spec.groups).to.include('system:authenticated');
      expect(csr.status.conditions).to.have.length(1);
      expect(csr.status.conditions[0]).to.deep.include({ type: 'Approved', status: 'True', reason: 'KubectlApprove', message: 'This CSR was approved by kubectl certificate approve.' });
      expect(csr.status.conditions[0]!.lastUpdateTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    });

    it('decodes the DeleteOptions kubectl drain sends with a pod deletion', () => {
      expect(decodeProtobufObject(Buffer.from(fixture('kubectl drain').body, 'hex'))).to.deep.include({ apiVersion: 'v1', kind: 'DeleteOptions' });
    });

    it('keeps a pointer field at its zero value (replicas: 0) and leaves other zero values out, as encoding/json does', () => {
      const spec = Buffer.concat([vi(1, 0), ld(2, Buffer.alloc(0)), vi(5, 0)]); // replicas=0 (*int32), selector={}, minReadySeconds=0 (int32)
      expect(decodeProtobufObject(envelope('apps/v1', 'Deployment', Buffer.concat([ld(1, ld(1, 'd')), ld(2, spec)])))).to.deep.equal({
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 0, selector: {} },
      });
    });

    it('refuses, naming it, a kind it does not decode and a field it does not know; a malformed body is another error', () => {
      const unknownKind = (): unknown => decodeProtobufObject(envelope('batch/v1', 'Job', ld(1, ld(1, 'j'))));
      expect(unknownKind).to.throw(ProtobufError, 'batch/v1 Job is not decoded from protobuf by this simulation');
      expect(() => decodeProtobufObject(envelope('v1', 'ConfigMap', Buffer.concat([ld(1, ld(1, 'c')), ld(99, 'x')]))))
        .to.throw(ProtobufError, 'ConfigMap: field 99 of k8s.io.api.core.v1.ConfigMap is not decoded by this simulation');
      expect(() => decodeProtobufObject(envelope('v1', 'ConfigMap', ld(1, Buffer.concat([ld(1, 'c'), ld(99, 'x')])))))
        .to.throw(ProtobufError, 'ConfigMap.metadata: field 99 of k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta is not decoded');
      try { unknownKind(); } catch (err) { expect((err as ProtobufError).unsupported).to.equal(true); }
      expect(() => decodeProtobufObject(Buffer.from('{"kind":"Namespace"}'))).to.throw('magic number');
      try {
        decodeProtobufObject(Buffer.from(captured.ssarResource, 'hex').subarray(0, 30));
        expect.fail('a truncated body decoded');
      } catch (err) {
        expect((err as ProtobufError).message).to.match(/truncated/);
        expect((err as ProtobufError).unsupported).to.equal(false);
      }
    });
  });

  describe('over the wire', () => {
    let pki: Pki;
    let cp: ControlPlane;
    before(async () => {
      pki = await issuePki({ nodes: [] });
      cp = await startControlPlane(pki);
    });
    after(async () => {
      await cp?.stop();
    });

    const post = (credName: LeafName, path: string, hex: string, method = 'POST'): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
      const url = new URL(cp.url);
      const c = credential(pki, credName);
      const body = Buffer.from(hex, 'hex');
      const req = https.request({
        host: url.hostname, port: url.port, path, method, ca: caPem(pki, 'ca'), cert: c.certPem, key: c.keyPem,
        headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/vnd.kubernetes.protobuf, */*', 'Content-Length': body.length },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });

    type Stored = { subjects?: unknown; spec?: { ports?: unknown[] } };
    const get = (credName: LeafName, path: string): Promise<Stored> => new Promise((resolve, reject) => {
      const url = new URL(cp.url);
      const c = credential(pki, credName);
      https.get({ host: url.hostname, port: url.port, path, ca: caPem(pki, 'ca'), cert: c.certPem, key: c.keyPem }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => resolve(JSON.parse(text) as Stored));
      }).on('error', reject);
    });

    it('answers a protobuf SelfSubjectAccessReview in JSON, allowed by RBAC for admin and within the scheduler\'s own rights', async () => {
      const admin = await post('admin.conf', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', captured.ssarResource);
      expect(admin.status).to.equal(201);
      expect((JSON.parse(admin.body) as { status: { allowed: boolean } }).status.allowed).to.equal(true);
      const sched = await post('scheduler.conf', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', captured.ssarResource);
      expect(sched.status).to.equal(201);
      expect((JSON.parse(sched.body) as { status: { allowed: boolean } }).status.allowed).to.equal(true); // the scheduler lists pods everywhere
      const healthz = await post('scheduler.conf', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', captured.ssarNonResource);
      expect((JSON.parse(healthz.body) as { status: { allowed: boolean } }).status.allowed).to.equal(true); // system:public-info-viewer
    });

    it('creates a Namespace from protobuf, and refuses a protobuf kind it does not decode with 415 naming it', async () => {
      const ns = await post('admin.conf', '/api/v1/namespaces', captured.namespace);
      expect(ns.status, ns.body).to.equal(201);
      expect(JSON.parse(ns.body) as object).to.deep.include({ kind: 'Namespace' });
      const r = await post('admin.conf', '/api/v1/namespaces/default/configmaps', envelope('v1', 'ConfigMap', Buffer.concat([ld(1, ld(1, 'c')), ld(99, 'x')])).toString('hex'));
      expect(r.status).to.equal(415);
      expect(JSON.parse(r.body) as object).to.deep.include({ reason: 'UnsupportedMediaType' });
      expect((JSON.parse(r.body) as { message: string }).message).to.match(/field 99 of k8s\.io\.api\.core\.v1\.ConfigMap/);
      const bad = await post('admin.conf', '/api/v1/namespaces/default/configmaps', Buffer.from('k8s\0\x0a', 'latin1').toString('hex'));
      expect(bad.status).to.equal(400);
    });

    it('creates what kubectl 1.32 sends as protobuf (a Deployment, Services, Secrets, a ServiceAccount, RBAC objects) and deletes a pod with drain\'s DeleteOptions', async () => {
      for (const f of FIXTURES.filter((x) => x.method === 'POST' && x.kubectlJson)) {
        const r = await post('admin.conf', f.path, f.body);
        expect(r.status, `${f.command}: ${r.body}`).to.equal(201);
        const made = JSON.parse(r.body) as { kind: string; metadata: { name: string; uid?: string } };
        expect(made.kind).to.equal(f.kubectlJson!.kind);
        expect(made.metadata.name).to.equal((f.kubectlJson!.metadata as { name: string }).name);
        expect(made.metadata.uid).to.be.a('string');
      }
      const rb = await get('admin.conf', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/rb1');
      expect(rb.subjects).to.deep.equal([
        { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' },
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' },
        { kind: 'ServiceAccount', name: 'sa1', namespace: 'default' },
      ]);
      const drain = fixture('kubectl drain');
      const pod = await cp.client('admin.conf').create<Pod>('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as Pod);
      const deleted = await post('admin.conf', drain.path, drain.body, 'DELETE');
      expect(deleted.status, deleted.body).to.equal(200);
      expect(pod.metadata.name).to.equal('p1');
      const svc = await get('admin.conf', '/api/v1/namespaces/default/services/svc1');
      expect(svc.spec?.ports).to.deep.include({ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 });
    });
  });
});
