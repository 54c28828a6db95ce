import { expect } from 'chai';
import { ApiError, resourcePath, withQuery, type KubeClient } from '../../components/client/kube-client.js';
import type { KubeList, Pod, Service, Status } from '../../components/api/types.js';
import { issuePki, type Pki } from '../../pki/store.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { apiError } from '../helpers/api-error.js';

const pod = (name: string, labels: Record<string, string> = {}, extra: Partial<Pod['spec']> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }], ...extra },
});

const pods = (ns = 'default', name?: string, subresource?: string): string => resourcePath({ resource: 'pods', namespace: ns, ...(name ? { name } : {}), ...(subresource ? { subresource } : {}) });

describe('kube-apiserver REST', () => {
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
  });
  after(async () => { await cp?.stop(); });

  it('creates the system namespaces and the kubernetes Service with its Endpoints at start', async () => {
    const ns = await admin.list(resourcePath({ resource: 'namespaces' }));
    expect(ns.items.map((n) => n.metadata.name)).to.include.members(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
    const svc = await admin.get<Service>(resourcePath({ resource: 'services', namespace: 'default', name: 'kubernetes' }));
    expect(svc.spec.clusterIP).to.equal('10.96.0.1');
    expect(svc.spec.ports![0]).to.include({ name: 'https', port: 443 });
    const ep = await admin.get<{ metadata: object; subsets: { addresses: { ip: string }[]; ports: { port: number }[] }[] }>(resourcePath({ resource: 'endpoints', namespace: 'default', name: 'kubernetes' }));
    expect(ep.subsets[0]!.addresses[0]!.ip).to.equal('127.0.1.1');
    expect(ep.subsets[0]!.ports[0]!.port).to.equal(cp.apiserver.address!.port);
  });

  it('stores objects under /registry/<resource>/<namespace>/<name> with resourceVersion = mod_revision', async () => {
    const created = await admin.create<Pod>(pods(), pod('web-1'));
    expect(created.metadata.uid).to.match(/^[0-9a-f-]{36}$/);
    expect(created.metadata.creationTimestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(created.status?.phase).to.equal('Pending');
    expect(created.spec.restartPolicy).to.equal('Always');
    expect(created.spec.schedulerName).to.equal('default-scheduler');
    const kv = cp.etcd.store.range(Buffer.from('/registry/pods/default/web-1'), Buffer.alloc(0));
    expect(kv.kvs).to.have.length(1);
    expect(String(kv.kvs[0]!.modRevision)).to.equal(created.metadata.resourceVersion);
    expect(JSON.parse(kv.kvs[0]!.value.toString()).metadata).to.not.have.property('resourceVersion');
    expect(cp.etcd.store.range(Buffer.from('/registry/services/specs/default/kubernetes'), Buffer.alloc(0)).kvs).to.have.length(1);
    expect(cp.etcd.store.range(Buffer.from('/registry/namespaces/kube-system'), Buffer.alloc(0)).kvs).to.have.length(1);
  });

  it('answers 409 AlreadyExists and 404 NotFound as Status objects', async () => {
    await admin.create(pods(), pod('dup'));
    const dup = await apiError(admin.create(pods(), pod('dup')));
    expect(dup.httpStatus).to.equal(409);
    expect(dup.status).to.deep.include({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', message: 'pods "dup" already exists', code: 409 });
    expect(dup.status?.details).to.deep.equal({ name: 'dup', kind: 'pods' });
    const missing = await apiError(admin.get(pods('default', 'nope')));
    expect(missing.status).to.deep.include({ reason: 'NotFound', message: 'pods "nope" not found', code: 404 });
    const deploy = await apiError(admin.get(resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default', name: 'x' })));
    expect(deploy.status).to.deep.include({ message: 'deployments.apps "x" not found' });
    expect(deploy.status?.details).to.deep.equal({ name: 'x', group: 'apps', kind: 'deployments' });
    const noNs = await apiError(admin.create(pods('nowhere'), pod('p')));
    expect(noNs.status).to.deep.include({ reason: 'NotFound', message: 'namespaces "nowhere" not found' });
  });

  it('refuses an update with a stale resourceVersion with the real Conflict message', async () => {
    const p = await admin.create<Pod>(pods(), pod('cas', { v: '1' }));
    const first = await admin.update<Pod>(pods('default', 'cas'), { ...p, metadata: { ...p.metadata, labels: { v: '2' } } });
    expect(Number(first.metadata.resourceVersion)).to.be.greaterThan(Number(p.metadata.resourceVersion));
    const stale = await apiError(admin.update<Pod>(pods('default', 'cas'), { ...p, metadata: { ...p.metadata, labels: { v: '3' } } }));
    expect(stale.httpStatus).to.equal(409);
    expect(stale.status?.reason).to.equal('Conflict');
    expect(stale.message).to.equal('Operation cannot be fulfilled on pods "cas": the object has been modified; please apply your changes to the latest version and try again');
    expect((await admin.get<Pod>(pods('default', 'cas'))).metadata.labels).to.deep.equal({ v: '2' });
  });

  it('lets exactly one of two concurrent updates from the same resourceVersion win', async () => {
    const p = await admin.create<Pod>(pods(), pod('race'));
    const writes = await Promise.allSettled(['a', 'b', 'c'].map((v) => admin.update<Pod>(pods('default', 'race'), { ...p, metadata: { ...p.metadata, labels: { v } } })));
    expect(writes.filter((w) => w.status === 'fulfilled')).to.have.length(1);
    for (const w of writes.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
      expect((w.reason as ApiError).httpStatus).to.equal(409);
      expect((w.reason as ApiError).reason).to.equal('Conflict');
    }
    // Patches without a resourceVersion are retried by the server against the current object: all land.
    await Promise.all(['x', 'y', 'z'].map((k) => admin.patch(pods('default', 'race'), { metadata: { labels: { [k]: '1' } } })));
    expect(Object.keys((await admin.get<Pod>(pods('default', 'race'))).metadata.labels ?? {})).to.include.members(['x', 'y', 'z']);
  });

  it('patches with merge, strategic-merge (containers by name) and JSON patch', async () => {
    await admin.create(pods(), { ...pod('patchy'), spec: { containers: [{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }] } });
    const merged = await admin.patch<Pod>(pods('default', 'patchy'), { metadata: { labels: { tier: 'web' } } }, 'merge');
    expect(merged.metadata.labels).to.deep.equal({ tier: 'web' });
    const strategic = await admin.patch<Pod>(pods('default', 'patchy'), { spec: { containers: [{ name: 'b', image: 'b:2' }] } }, 'strategic');
    expect(strategic.spec.containers.map((c) => `${c.name}=${c.image}`)).to.deep.equal(['a=a:1', 'b=b:2']);
    const json = await admin.patch<Pod>(pods('default', 'patchy'), [{ op: 'add', path: '/metadata/labels/x', value: 'y' }, { op: 'remove', path: '/metadata/labels/tier' }], 'json');
    expect(json.metadata.labels).to.deep.equal({ x: 'y' });
    const status = await admin.patch<Pod>(pods('default', 'patchy', 'status'), { status: { phase: 'Running' }, metadata: { labels: { ignored: 'no' } }, spec: { nodeName: 'sneaky' } }, 'merge');
    expect(status.status?.phase).to.equal('Running');
    expect(status.spec.nodeName).to.equal(undefined);
    const main = await admin.patch<Pod>(pods('default', 'patchy'), { status: { phase: 'Failed' } }, 'merge');
    expect(main.status?.phase, 'the main resource keeps the stored status').to.equal('Running');
    // An unknown patch type: 415 listing the four served (server-side apply among them: server-side-apply.test.ts).
    const bad = await admin.raw('PATCH', pods('default', 'patchy'), '{}', 'application/x-patch');
    expect(bad.status).to.equal(415);
    expect((JSON.parse(bad.body) as Status).message).to.equal('the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got application/x-patch)');
  });

  it('deletes with 200 and the object, then 404', async () => {
    await admin.create(pods(), pod('gone'));
    const res = await admin.raw('DELETE', pods('default', 'gone'), { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body)).to.deep.include({ kind: 'Pod', apiVersion: 'v1' });
    expect((await apiError(admin.get(pods('default', 'gone')))).httpStatus).to.equal(404);
  });

  it('binds a pod once with a PodScheduled condition, then refuses with 409', async () => {
    await admin.create(pods(), pod('bindme'));
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bindme' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } };
    const ok = await admin.raw('POST', pods('default', 'bindme', 'binding'), binding);
    expect(ok.status).to.equal(201);
    expect((JSON.parse(ok.body) as Status).status).to.equal('Success');
    const bound = await admin.get<Pod>(pods('default', 'bindme'));
    expect(bound.spec.nodeName).to.equal('node-1');
    expect(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).to.equal('True');
    const again = await apiError(admin.create(pods('default', 'bindme', 'binding'), { ...binding, target: { kind: 'Node', name: 'node-2' } }));
    expect(again.httpStatus).to.equal(409);
    expect(again.message).to.equal('Operation cannot be fulfilled on pods/binding "bindme": pod bindme is already assigned to node "node-1"');
  });

  it('filters lists by label and field selectors', async () => {
    await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sel' } });
    await admin.create(pods('sel'), pod('a', { app: 'web', tier: 'front' }));
    await admin.create(pods('sel'), pod('b', { app: 'web' }, { nodeName: 'node-1' }));
    await admin.create(pods('sel'), pod('c', { app: 'db' }));
    const names = async (q: Record<string, string>): Promise<string[]> =>
      (await admin.request<KubeList<Pod>>('GET', withQuery(pods('sel'), q))).items.map((p) => p.metadata.name!).sort();
    expect(await names({ labelSelector: 'app=web' })).to.deep.equal(['a', 'b']);
    expect(await names({ labelSelector: 'app==web,tier' })).to.deep.equal(['a']);
    expect(await names({ labelSelector: 'app!=web' })).to.deep.equal(['c']);
    expect(await names({ labelSelector: 'app in (db, web),!tier' })).to.deep.equal(['b', 'c']);
    expect(await names({ labelSelector: 'app notin (web)' })).to.deep.equal(['c']);
    expect(await names({ fieldSelector: 'spec.nodeName=' })).to.deep.equal(['a', 'c']);
    expect(await names({ fieldSelector: 'spec.nodeName=node-1' })).to.deep.equal(['b']);
    expect(await names({ fieldSelector: 'metadata.name=c,status.phase=Pending' })).to.deep.equal(['c']);
    const bad = await apiError(admin.list(pods('sel'), { fieldSelector: 'spec.foo=bar' }));
    expect(bad.status).to.deep.include({ code: 400, reason: 'BadRequest', message: 'field label not supported: spec.foo' });
    const list = await admin.list(pods('sel'));
    expect(list.kind).to.equal('PodList');
    expect(Number(list.metadata.resourceVersion)).to.be.at.least(Number(list.items.at(-1)!.metadata.resourceVersion));
  });

  it('pages a list with limit and continue', async () => {
    const first = await admin.list(pods('sel'), { limit: 2 });
    expect(first.items.map((p) => p.metadata.name)).to.deep.equal(['a', 'b']);
    expect(first.metadata.continue).to.be.a('string');
    const rest = await admin.request<KubeList>('GET', withQuery(pods('sel'), { limit: 2, continue: first.metadata.continue }));
    expect(rest.items.map((p) => p.metadata.name)).to.deep.equal(['c']);
    expect(rest.metadata.continue).to.equal(undefined);
  });

  it('allocates a ClusterIP from 10.96.0.0/12 and defaults the ports', async () => {
    const svc = await admin.create<Service>(resourcePath({ resource: 'services', namespace: 'default' }), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    const [a, b] = svc.spec.clusterIP!.split('.').map(Number);
    expect(a).to.equal(10);
    expect(b).to.be.within(96, 111);
    expect(svc.spec.clusterIP).to.not.equal('10.96.0.1');
    expect(svc.spec.ports![0]).to.deep.include({ port: 80, protocol: 'TCP', targetPort: 80 });
    expect(svc.spec.type).to.equal('ClusterIP');
  });

  it('stores an ExternalName Service as a DNS alias: no ClusterIP, no ports; refuses one without externalName or with a ClusterIP', async () => {
    const path = resourcePath({ resource: 'services', namespace: 'default' });
    const alias = await admin.create<Service>(path, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'docs' }, spec: { type: 'ExternalName', externalName: 'kubernetes.io' } });
    expect(alias.spec).to.deep.equal({ type: 'ExternalName', externalName: 'kubernetes.io', sessionAffinity: 'None' });
    const noName = await admin.create(path, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a1' }, spec: { type: 'ExternalName' } }).catch((e: unknown) => e);
    expect((noName as ApiError).httpStatus).to.equal(422);
    expect((noName as Error).message).to.equal('Service "a1" is invalid: spec.externalName: Required value');
    const withIp = await admin.create(path, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a2' }, spec: { type: 'ExternalName', externalName: 'x.example', clusterIP: '10.96.0.50' } }).catch((e: unknown) => e);
    expect((withIp as Error).message).to.equal('Service "a2" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.50"}: may not be set for ExternalName services');
  });

  it('counts generation on spec changes of a Deployment and serves its scale', async () => {
    const path = resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default' });
    const d = await admin.create<{ metadata: { generation?: number; resourceVersion?: string }; spec: { replicas: number } } & Pod>(path, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
    } as never);
    expect(d.metadata.generation).to.equal(1);
    expect(d.spec.replicas).to.equal(1);
    const labelled = await admin.patch<typeof d>(`${path}/web`, { metadata: { labels: { x: 'y' } } });
    expect(labelled.metadata.generation).to.equal(1);
    const scaled = await admin.patch<{ metadata: object; spec: { replicas: number }; status: { selector: string } }>(`${path}/web/scale`, { spec: { replicas: 3 } } as never);
    expect(scaled.spec.replicas).to.equal(3);
    expect(scaled.status.selector).to.equal('app=web');
    const after = await admin.get<typeof d>(`${path}/web`);
    expect(after.metadata.generation).to.equal(2);
    expect(after.spec.replicas).to.equal(3);
  });

  it('defaults a Deployment on update as on create, so re-sending the same manifest changes nothing', async () => {
    const path = resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default' });
    const manifest = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'same' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'same' } }, template: { metadata: { labels: { app: 'same' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
    };
    type D = { metadata: { generation?: number; resourceVersion?: string }; spec: { template: { spec: Record<string, unknown> } } };
    const created = await admin.create<D & Pod>(path, manifest as never);
    const updated = await admin.update<D & Pod>(`${path}/same`, { ...manifest, metadata: { ...manifest.metadata, resourceVersion: created.metadata.resourceVersion } } as never);
    expect(updated.spec.template.spec).to.deep.equal(created.spec.template.spec);
    expect(updated.spec.template.spec['restartPolicy']).to.equal('Always');
    expect(updated.metadata.generation).to.equal(1);
  });
});

describe('kube-apiserver namespace deletion', () => {
  let cp: ControlPlane;
  let admin: KubeClient;

  before(async () => {
    cp = await startControlPlane(await issuePki());
    admin = cp.client('admin.conf');
  });
  after(async () => { await cp?.stop(); });

  it('deletes a namespace with its content and refuses the system namespaces', async () => {
    await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tmp' } });
    await admin.create(pods('tmp'), pod('p'));
    await admin.create(resourcePath({ resource: 'configmaps', namespace: 'tmp' }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
    const res = await admin.delete<{ status: { phase: string }; metadata: { deletionTimestamp?: string } }>(resourcePath({ resource: 'namespaces', name: 'tmp' }));
    expect(res.status.phase).to.equal('Terminating');
    expect(res.metadata.deletionTimestamp).to.be.a('string');
    expect(cp.etcd.store.range(Buffer.from('/registry/pods/tmp/'), Buffer.from('/registry/pods/tmp0')).kvs).to.have.length(0);
    expect(cp.etcd.store.range(Buffer.from('/registry/configmaps/tmp/'), Buffer.from('/registry/configmaps/tmp0')).kvs).to.have.length(0);
    expect((await apiError(admin.get(resourcePath({ resource: 'namespaces', name: 'tmp' })))).httpStatus).to.equal(404);
    const sys = await apiError(admin.delete(resourcePath({ resource: 'namespaces', name: 'kube-system' })));
    expect(sys.status).to.deep.include({ code: 403, reason: 'Forbidden', message: 'namespaces "kube-system" is forbidden: this namespace may not be deleted' });
  });
});
