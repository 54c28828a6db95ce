/**
 * Protobuf request bodies: kubectl >= 1.32 sends SelfSubjectAccessReview (auth can-i), Namespace and
 * ConfigMap (create namespace|configmap) as `application/vnd.kubernetes.protobuf`. The fixtures are
 * the bytes kubectl 1.33 sent, captured on the wire.
 */
import { expect } from 'chai';
import https from 'node:https';
import { decodeProtobufObject } from '../../components/kube-apiserver/protobuf.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
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

describe('kube-apiserver protobuf bodies', () => {
  describe('decodeProtobufObject', () => {
    it('decodes kubectl 1.33\'s SelfSubjectAccessReview for a resource', () => {
      expect(decodeProtobufObject(Buffer.from(captured.ssarResource, 'hex'))).to.deep.equal({
        apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {},
        spec: { resourceAttributes: { namespace: 'kube-system', verb: 'list', resource: 'pods' } },
      });
    });

    it('decodes a non-resource SelfSubjectAccessReview', () => {
      expect(decodeProtobufObject(Buffer.from(captured.ssarNonResource, 'hex'))).to.deep.equal({
        apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {},
        spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } },
      });
    });

    it('decodes a Namespace and a ConfigMap', () => {
      expect(decodeProtobufObject(Buffer.from(captured.namespace, 'hex'))).to.deep.equal({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'capt' } });
      expect(decodeProtobufObject(Buffer.from(captured.configMap, 'hex'))).to.deep.equal({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm1', namespace: 'capt' }, data: { a: 'b' } });
    });

    it('leaves other kinds undecoded and refuses a body without the magic number', () => {
      const pod = Buffer.from(captured.namespace, 'hex');
      const asPod = Buffer.from(pod.toString('latin1').replace('\x09Namespace', '\x09Pod\x00\x00\x00\x00\x00\x00'), 'latin1');
      expect(decodeProtobufObject(asPod)).to.equal(undefined);
      expect(() => decodeProtobufObject(Buffer.from('{"kind":"Namespace"}'))).to.throw('magic number');
      expect(() => decodeProtobufObject(Buffer.from(captured.ssarResource, 'hex').subarray(0, 30))).to.throw('truncated');
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

    const post = (credName: string, path: string, hex: string): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
      const url = new URL(cp.url);
      const c = credential(pki, credName);
      const body = Buffer.from(hex, 'hex');
      const req = https.request({
        host: url.hostname, port: url.port, path, method: 'POST', ca: caPem(pki, 'ca'), cert: c.certPem, key: c.keyPem,
        headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/vnd.kubernetes.protobuf, */*', 'Content-Length': body.length },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
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

    it('creates a Namespace from protobuf, and refuses a protobuf kind it does not decode with 415', async () => {
      const ns = await post('admin.conf', '/api/v1/namespaces', captured.namespace);
      expect(ns.status, ns.body).to.equal(201);
      expect(JSON.parse(ns.body) as object).to.deep.include({ kind: 'Namespace' });
      const pod = Buffer.from(captured.namespace, 'hex').toString('latin1').replace('\x09Namespace', '\x09Pod\x00\x00\x00\x00\x00\x00');
      const r = await post('admin.conf', '/api/v1/namespaces/default/pods', Buffer.from(pod, 'latin1').toString('hex'));
      expect(r.status).to.equal(415);
      expect(JSON.parse(r.body) as object).to.deep.include({ reason: 'UnsupportedMediaType' });
    });
  });
});
