/**
 * The layer each request event records: the one that decided it, set by the apiserver from the error
 * its handler chain threw (authentication, the authorizer, admission plugins, validation, storage, the
 * router), `none` when the request was served. Read from the trace, as narration and the probes read it.
 */
import { expect } from 'chai';
import { KubeClient, resourcePath } from '../../components/client/kube-client.js';
import type { RequestEvent, RequestLayer } from '../../components/client/trace.js';
import type { KubeObject } from '../../components/api/types.js';
import { caPem, issuePki, type Pki } from '../../pki/store.js';
import { waitFor } from '../../sim/wait.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

const RBAC = 'rbac.authorization.k8s.io';

describe('kube-apiserver: the layer that decided each request, in the trace', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  const extra: KubeClient[] = [];

  /** Sends one request and returns its status and the request event the apiserver recorded for it. */
  async function decided(client: KubeClient, method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; event: RequestEvent }> {
    const mark = cp.recorder.events.length;
    const r = await client.raw(method, path, body, contentType);
    const event = await waitFor(`the request event of ${method} ${path}`, () => cp.recorder.events.slice(mark)
      .find((e): e is RequestEvent => e.type === 'request' && e.method === method && e.path === path));
    return { status: r.status, event };
  }

  const expectLayer = (got: { status: number; event: RequestEvent }, status: number, layer: RequestLayer): void => {
    expect(got.status, JSON.stringify(got.event)).to.equal(status);
    expect(got.event.status).to.equal(status);
    expect(got.event.layer, JSON.stringify(got.event)).to.equal(layer);
  };

  before(async function () {
    pki = await issuePki({ nodes: ['node-1', 'node-2'] });
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    for (const name of ['node-1', 'node-2']) await admin.create(resourcePath({ resource: 'nodes' }), { apiVersion: 'v1', kind: 'Node', metadata: { name } });
    await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  });
  after(async function () {
    for (const c of extra) c.close();
    await cp?.stop();
  });

  it('200: none (the request was served)', async function () {
    const got = await decided(admin, 'GET', '/api/v1/namespaces/default/pods');
    expectLayer(got, 200, 'none');
    expect(got.event.decision).to.equal('allow');
  });

  it('401: authentication (a bearer token nobody issued)', async function () {
    const stranger = new KubeClient({ name: 'stranger', server: cp.url, serverCa: caPem(pki, 'ca'), token: 'not-a-token' });
    extra.push(stranger);
    const got = await decided(stranger, 'GET', '/api/v1/namespaces/default/pods');
    expectLayer(got, 401, 'authentication');
    expect(got.event.decision).to.equal('unauthenticated');
  });

  it('403 from RBAC: authorization (kube-proxy creating a pod)', async function () {
    const got = await decided(cp.client('kube-proxy.conf'), 'POST', '/api/v1/namespaces/default/pods',
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    expectLayer(got, 403, 'authorization');
    expect(got.event.decision).to.equal('deny');
  });

  it('403 from NodeRestriction: admission (node-1 patching node-2\'s status, which the Node authorizer allowed)', async function () {
    const got = await decided(cp.client('nodes/node-1/kubelet.conf'), 'PATCH', '/api/v1/nodes/node-2/status',
      JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'x' }] } }), 'application/strategic-merge-patch+json');
    expectLayer(got, 403, 'admission');
    expect(got.event.decision, 'the authorizer allowed it').to.equal('allow');
  });

  it('403 from the RBAC escalation check: admission (binding cluster-admin without holding it)', async function () {
    const role = { apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name: 'binder' }, rules: [{ apiGroups: [RBAC], resources: ['rolebindings'], verbs: ['create'] }] };
    await admin.create(resourcePath({ group: RBAC, resource: 'roles', namespace: 'team' }), role as unknown as KubeObject);
    await admin.create(resourcePath({ resource: 'serviceaccounts', namespace: 'team' }), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'mallory' } });
    const subject = { kind: 'ServiceAccount', name: 'mallory', namespace: 'team' };
    await admin.create(resourcePath({ group: RBAC, resource: 'rolebindings', namespace: 'team' }),
      { apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'binder' }, roleRef: { apiGroup: RBAC, kind: 'Role', name: 'binder' }, subjects: [subject] } as unknown as KubeObject);
    const tr = await admin.create<KubeObject & { status: { token: string } }>(resourcePath({ resource: 'serviceaccounts', namespace: 'team', name: 'mallory', subresource: 'token' }),
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: 'mallory' }, spec: {} } as KubeObject);
    const mallory = new KubeClient({ name: 'mallory', server: cp.url, serverCa: caPem(pki, 'ca'), token: tr.status.token });
    extra.push(mallory);
    const got = await decided(mallory, 'POST', resourcePath({ group: RBAC, resource: 'rolebindings', namespace: 'team' }),
      { apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'pwn' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [subject] });
    expectLayer(got, 403, 'admission');
  });

  it('404 for a namespace that does not exist: admission (NamespaceLifecycle)', async function () {
    const got = await decided(admin, 'POST', '/api/v1/namespaces/ghost/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
    expectLayer(got, 404, 'admission');
  });

  it('422: validation (a name that is not a DNS subdomain)', async function () {
    const got = await decided(admin, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_A_Name' } });
    expectLayer(got, 422, 'validation');
  });

  it('404 for an object that is not there and 409 for one that already is: storage', async function () {
    expectLayer(await decided(admin, 'GET', '/api/v1/namespaces/default/configmaps/nothing-here'), 404, 'storage');
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'twice' } };
    expectLayer(await decided(admin, 'POST', '/api/v1/namespaces/default/configmaps', cm), 201, 'none');
    expectLayer(await decided(admin, 'POST', '/api/v1/namespaces/default/configmaps', cm), 409, 'storage');
  });

  it('404 for a path that names no resource: handler (the router)', async function () {
    expectLayer(await decided(admin, 'GET', '/apis/no.such.group/v1'), 404, 'handler');
  });
});
