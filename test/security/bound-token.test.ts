/**
 * Issue 11, item 8: a service-account token bound to a Pod, Secret or Node (TokenRequest
 * spec.boundObjectRef) lives only as long as that object. Once it is deleted, or replaced by another
 * object of the same name (a new uid), the token is a 401, with the reason claims.go's validator
 * gives. And TokenRequest only binds to an object that exists, of a kind Kubernetes v1.32 binds to.
 */
import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { signServiceAccountToken, verifyServiceAccountToken, type BoundObjectGetter } from '../../components/kube-apiserver/auth/serviceaccount-token.js';
import { KubeClient, type RawResponse } from '../../components/client/kube-client.js';
import type { KubeObject, Status } from '../../components/api/types.js';
import type { RequestEvent } from '../../components/client/trace.js';
import { caPem, issuePki, type Pki } from '../../pki/store.js';
import { waitFor } from '../../sim/wait.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

const NS = 'tok';
const SA = 'app';
const TOKEN = `/api/v1/namespaces/${NS}/serviceaccounts/${SA}/token`;
const WHOAMI = '/apis/authentication.k8s.io/v1/selfsubjectreviews';

type Review = { status: { userInfo: { username: string; extra?: Record<string, string[]> } } };

describe('kube-apiserver bound service-account tokens', () => {
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  const bearers: KubeClient[] = [];

  const json = <T>(r: RawResponse): T => JSON.parse(r.body) as T;
  const pod = (name: string, extra: Record<string, unknown> = {}): KubeObject =>
    ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { serviceAccountName: SA, containers: [{ name: 'c', image: 'busybox:1.36' }], ...extra } } as KubeObject);
  const tokenRequest = (boundObjectRef?: Record<string, string>): KubeObject =>
    ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { ...(boundObjectRef ? { boundObjectRef } : {}) } } as KubeObject);
  const issue = async (ref: Record<string, string>): Promise<string> => {
    const res = await admin.raw('POST', TOKEN, tokenRequest(ref));
    expect(res.status, res.body).to.equal(201);
    return json<{ status: { token: string } }>(res).status.token;
  };
  const claims = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  /** A client that presents only `token` (no client certificate). */
  const bearer = (token: string): KubeClient => {
    const c = new KubeClient({ name: 'bearer', server: cp.url, serverCa: caPem(pki, 'ca') });
    c.setToken(token);
    bearers.push(c);
    return c;
  };
  const whoami = (c: KubeClient): Promise<RawResponse> => c.raw('POST', WHOAMI, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  /** Waits until the token's request is a 401 whose logged reason is `reason` (the caches follow etcd by a few ms). */
  const refusedWith = (c: KubeClient, reason: string): Promise<true> => waitFor(`a 401 with reason "${reason}"`, async () => {
    const res = await whoami(c);
    if (res.status !== 401) return undefined;
    expect(json<Status>(res)).to.include({ reason: 'Unauthorized', message: 'Unauthorized' });
    const logged = cp.recorder.events.filter((e): e is RequestEvent => e.type === 'request' && e.decision === 'unauthenticated').at(-1);
    return logged?.reason === reason ? true : undefined;
  });

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    await admin.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await admin.create(`/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SA } });
    await admin.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, spec: {} } as KubeObject);
  });
  after(async () => {
    for (const c of bearers) c.close();
    await cp?.stop();
  });

  it('a Pod-bound token works while its pod lives, then is refused once the pod is deleted and when a new pod takes its name', async () => {
    const created = await admin.create(`/api/v1/namespaces/${NS}/pods`, pod('web', { nodeName: 'node-1' }));
    const token = await issue({ apiVersion: 'v1', kind: 'Pod', name: 'web' });
    const node = await admin.get('/api/v1/nodes/node-1');
    // The pod's node rides along (ServiceAccountTokenPodNodeInfo).
    expect(claims(token)['kubernetes.io']).to.deep.include({ pod: { name: 'web', uid: created.metadata.uid }, node: { name: 'node-1', uid: node.metadata.uid } });
    const c = bearer(token);
    const ok = await whoami(c);
    expect(ok.status).to.equal(201);
    expect(json<Review>(ok).status.userInfo.extra).to.deep.include({
      'authentication.kubernetes.io/pod-name': ['web'], 'authentication.kubernetes.io/pod-uid': [created.metadata.uid!],
      'authentication.kubernetes.io/node-name': ['node-1'], 'authentication.kubernetes.io/node-uid': [node.metadata.uid!],
    });

    await admin.delete(`/api/v1/namespaces/${NS}/pods/web`);
    await refusedWith(c, 'service account token has been invalidated');

    const again = await admin.create(`/api/v1/namespaces/${NS}/pods`, pod('web'));
    await refusedWith(c, `pod UID (${again.metadata.uid!}) does not match service account pod ref claim (${created.metadata.uid!})`);
  });

  it('a Secret-bound token is refused once the secret is deleted and when a new secret takes its name', async () => {
    const secret = await admin.create(`/api/v1/namespaces/${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bound' }, data: {} } as KubeObject);
    const token = await issue({ apiVersion: 'v1', kind: 'Secret', name: 'bound' });
    expect(claims(token)['kubernetes.io']).to.deep.include({ secret: { name: 'bound', uid: secret.metadata.uid } });
    const c = bearer(token);
    expect((await whoami(c)).status).to.equal(201);
    await admin.delete(`/api/v1/namespaces/${NS}/secrets/bound`);
    await refusedWith(c, 'service account token has been invalidated');
    const again = await admin.create(`/api/v1/namespaces/${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bound' }, data: {} } as KubeObject);
    await refusedWith(c, `secret UID (${again.metadata.uid!}) does not match service account secret ref claim (${secret.metadata.uid!})`);
  });

  it('a Node-bound token is refused once the node is deleted', async () => {
    await admin.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-9' }, spec: {} } as KubeObject);
    const token = await issue({ apiVersion: 'v1', kind: 'Node', name: 'node-9' });
    const c = bearer(token);
    const ok = await whoami(c);
    expect(ok.status).to.equal(201);
    expect(json<Review>(ok).status.userInfo.extra).to.have.property('authentication.kubernetes.io/node-name').that.deep.equals(['node-9']);
    await admin.delete('/api/v1/nodes/node-9');
    await refusedWith(c, 'service account token has been invalidated');
  });

  it('TokenRequest binds only to an existing Pod (of this service account), Secret or Node, with the given uid', async () => {
    const missing = await admin.raw('POST', TOKEN, tokenRequest({ apiVersion: 'v1', kind: 'Pod', name: 'nope' }));
    expect(missing.status).to.equal(404);
    expect(json<Status>(missing).message).to.equal('pods "nope" not found');

    const cm = await admin.raw('POST', TOKEN, tokenRequest({ apiVersion: 'v1', kind: 'ConfigMap', name: 'x' }));
    expect(cm.status).to.equal(400);
    expect(json<Status>(cm).message).to.equal('cannot bind token to object of type /v1, Kind=ConfigMap');

    await admin.create(`/api/v1/namespaces/${NS}/pods`, { ...pod('other'), spec: { serviceAccountName: 'default', containers: [{ name: 'c', image: 'busybox:1.36' }] } } as KubeObject);
    const otherSa = await admin.raw('POST', TOKEN, tokenRequest({ apiVersion: 'v1', kind: 'Pod', name: 'other' }));
    expect(otherSa.status).to.equal(400);
    expect(json<Status>(otherSa).message).to.equal('cannot bind token for serviceaccount "app" to pod running with different serviceaccount name.');

    const wrongUid = await admin.raw('POST', TOKEN, tokenRequest({ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: 'not-the-uid' }));
    expect(wrongUid.status).to.equal(409);
    expect(json<Status>(wrongUid)).to.deep.include({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on Node "node-1": the UID in the bound object reference (not-the-uid) does not match the UID in record. The object might have been deleted and then recreated',
    });
  });
});

describe('service-account token validator: bound objects (claims.go)', () => {
  const NOW = new Date('2025-06-01T12:00:00Z');
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const base = { namespace: 'ns', name: 'sa', uid: 'sa-uid', now: NOW };
  const none = { pod: () => undefined, secret: () => undefined, node: () => undefined };
  const verify = (token: string, boundObjects: BoundObjectGetter) => verifyServiceAccountToken(token, sa.publicKey, NOW, { serviceAccountUid: () => 'sa-uid', boundObjects });
  const ago = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString();

  it('accepts a pod deleting for less than the 60 s leeway, refuses one deleting for longer', () => {
    const token = signServiceAccountToken({ ...base, boundPod: { name: 'p', uid: 'pod-uid' } }, sa.privateKey);
    expect(verify(token, { ...none, pod: () => ({ uid: 'pod-uid', deletionTimestamp: ago(30) }) }).ok).to.equal(true);
    expect(verify(token, { ...none, pod: () => ({ uid: 'pod-uid', deletionTimestamp: ago(61) }) })).to.deep.equal({ ok: false, ours: true, reason: 'service account token has been invalidated' });
    expect(verify(token, none)).to.deep.equal({ ok: false, ours: true, reason: 'service account token has been invalidated' });
  });

  it('reads a pod-bound token\'s node claim as information only: the node need not exist', () => {
    const token = signServiceAccountToken({ ...base, boundPod: { name: 'p', uid: 'pod-uid' }, podNode: { name: 'n', uid: 'node-uid' } }, sa.privateKey);
    const r = verify(token, { ...none, pod: () => ({ uid: 'pod-uid' }) });
    expect(r.ok && r.user.extra).to.deep.include({ 'authentication.kubernetes.io/node-name': ['n'], 'authentication.kubernetes.io/node-uid': ['node-uid'] });
  });

  it('checks a node-bound token\'s node: gone or replaced is refused', () => {
    const token = signServiceAccountToken({ ...base, boundNode: { name: 'n', uid: 'node-uid' } }, sa.privateKey);
    expect(verify(token, { ...none, node: () => ({ uid: 'node-uid' }) }).ok).to.equal(true);
    expect(verify(token, none)).to.deep.include({ ok: false, reason: 'service account token has been invalidated' });
    expect(verify(token, { ...none, node: () => ({ uid: 'new-uid' }) })).to.deep.include({ ok: false, reason: 'node UID (new-uid) does not match service account node ref claim (node-uid)' });
  });
});
