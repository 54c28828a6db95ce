/**
 * Issue 11, item 5: `?dryRun=All` runs authentication, authorization, admission, defaulting and
 * validation and answers what would be stored, but persists nothing: no etcd write, no revision, no
 * watch event, no ClusterIP or NodePort taken. An unknown value is refused as apimachinery's
 * ValidateDryRun refuses it (422 Invalid, not silently a real write).
 */
import { expect } from 'chai';
import { KubeClient, type RawResponse } from '../../components/client/kube-client.js';
import type { KubeObject, Status, WatchEvent } from '../../components/api/types.js';
import { caPem, issuePki, type Pki } from '../../pki/store.js';
import { waitFor } from '../../sim/wait.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

type Obj = KubeObject & Record<string, unknown>;

const NS = 'dry';
const CMS = `/api/v1/namespaces/${NS}/configmaps`;

describe('kube-apiserver dry run (?dryRun=All)', () => {
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  const watched: WatchEvent<KubeObject>[] = [];

  /** The stored value of an etcd key, straight from etcd's store (undefined when absent). */
  const etcdValue = (key: string): Obj | undefined => {
    const kv = cp.etcd.store.range(Buffer.from(key), Buffer.alloc(0)).kvs[0];
    return kv ? JSON.parse(kv.value.toString()) as Obj : undefined;
  };
  const revision = (): number => cp.etcd.store.revision;
  const json = <T = Obj>(r: RawResponse): T => JSON.parse(r.body) as T;
  const send = (method: string, path: string, body?: unknown, contentType?: string): Promise<RawResponse> => admin.raw(method, path, body, contentType);
  const cm = (name: string, data: Record<string, string> = { k: 'v' }, labels?: Record<string, string>): Obj =>
    ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data });

  /** Runs `fn` and checks that it changed nothing in etcd: same revision, same value at every key given. */
  async function persistsNothing<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const before = revision();
    const values = keys.map(etcdValue);
    const out = await fn();
    expect(revision(), 'etcd revision').to.equal(before);
    keys.forEach((k, i) => expect(etcdValue(k), k).to.deep.equal(values[i]));
    return out;
  }

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    await admin.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await admin.create(CMS, cm('kept', { k: 'v' }, { tier: 'dry' }));
    await admin.create(CMS, cm('kept2', { k: 'v' }, { tier: 'dry' }));
    // Every configmap event in the namespace from now on: dry runs must add none.
    const list = await admin.list(CMS);
    admin.watch(CMS, { resourceVersion: list.metadata.resourceVersion ?? '' }, (e) => { watched.push(e); });
  });
  after(async () => { await cp?.stop(); });

  it('create: answers 201 with the defaulted object (uid, creationTimestamp, no resourceVersion) and stores nothing', async () => {
    const res = await persistsNothing([`/registry/configmaps/${NS}/x`], () => send('POST', `${CMS}?dryRun=All`, cm('x')));
    expect(res.status).to.equal(201);
    const obj = json(res);
    expect(obj).to.deep.include({ kind: 'ConfigMap', apiVersion: 'v1', data: { k: 'v' } });
    expect(obj.metadata).to.include({ name: 'x', namespace: NS });
    expect(obj.metadata.uid).to.match(/^[0-9a-f-]{36}$/);
    expect(obj.metadata.creationTimestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(obj.metadata).to.not.have.property('resourceVersion');
    expect((await send('GET', `${CMS}/x`)).status).to.equal(404);
  });

  it('create: generateName is filled in, and an existing name is still 409 AlreadyExists', async () => {
    const gen = await persistsNothing([], () => send('POST', `${CMS}?dryRun=All`, { ...cm(''), metadata: { generateName: 'gen-' } }));
    expect(gen.status).to.equal(201);
    expect(json(gen).metadata.name).to.match(/^gen-[a-z0-9]{5}$/);
    const dup = await persistsNothing([], () => send('POST', `${CMS}?dryRun=All`, cm('kept')));
    expect(dup.status).to.equal(409);
    expect(json<Status>(dup)).to.deep.include({ reason: 'AlreadyExists', message: 'configmaps "kept" already exists' });
  });

  it('update: answers the updated object and leaves the stored one as it was', async () => {
    const current = await admin.get<Obj>(`${CMS}/kept`);
    const res = await persistsNothing([`/registry/configmaps/${NS}/kept`], () =>
      send('PUT', `${CMS}/kept?dryRun=All`, { ...current, data: { k: 'changed' } }));
    expect(res.status).to.equal(200);
    expect(json(res).data).to.deep.equal({ k: 'changed' });
    expect(json(res).metadata.resourceVersion).to.equal(current.metadata.resourceVersion);
    expect((await admin.get<Obj>(`${CMS}/kept`)).data).to.deep.equal({ k: 'v' });
    // A stale resourceVersion is still a conflict.
    const stale = await send('PUT', `${CMS}/kept?dryRun=All`, { ...current, metadata: { ...current.metadata, resourceVersion: '1' } });
    expect(stale.status).to.equal(409);
  });

  it('patch (merge, strategic, json): answers the patched object and stores nothing', async () => {
    for (const [type, body] of [
      ['application/merge-patch+json', { data: { k: 'merged' } }],
      ['application/strategic-merge-patch+json', { data: { k: 'merged' } }],
      ['application/json-patch+json', [{ op: 'replace', path: '/data/k', value: 'merged' }]],
    ] as const) {
      const res = await persistsNothing([`/registry/configmaps/${NS}/kept`], () => send('PATCH', `${CMS}/kept?dryRun=All`, body, type));
      expect(res.status, type).to.equal(200);
      expect(json(res).data, type).to.deep.equal({ k: 'merged' });
    }
  });

  it('delete: with DeleteOptions.dryRun in the body (kubectl delete --dry-run=server) or ?dryRun=All, answers the object and keeps it', async () => {
    const key = `/registry/configmaps/${NS}/kept`;
    const body = await persistsNothing([key], () => send('DELETE', `${CMS}/kept`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', dryRun: ['All'] }));
    expect(body.status).to.equal(200);
    expect(json(body).metadata.name).to.equal('kept');
    const query = await persistsNothing([key], () => send('DELETE', `${CMS}/kept?dryRun=All`));
    expect(query.status).to.equal(200);
    expect(etcdValue(key)).to.not.equal(undefined);
    // Preconditions are still checked.
    const pre = await send('DELETE', `${CMS}/kept`, { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'], preconditions: { uid: 'not-the-uid' } });
    expect(pre.status).to.equal(409);
    // A missing object is still 404.
    expect((await send('DELETE', `${CMS}/absent?dryRun=All`)).status).to.equal(404);
  });

  it('deletecollection: answers the list it would delete and deletes nothing', async () => {
    const keys = [`/registry/configmaps/${NS}/kept`, `/registry/configmaps/${NS}/kept2`];
    const res = await persistsNothing(keys, () => send('DELETE', `${CMS}?labelSelector=tier%3Ddry&dryRun=All`));
    expect(res.status).to.equal(200);
    expect(json<{ items: KubeObject[] }>(res).items.map((i) => i.metadata.name)).to.deep.equal(['kept', 'kept2']);
    const viaBody = await persistsNothing(keys, () => send('DELETE', `${CMS}?labelSelector=tier%3Ddry`, { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'] }));
    expect(json<{ items: KubeObject[] }>(viaBody).items).to.have.length(2);
  });

  it('a namespace delete answers it Terminating and deletes neither it nor its content', async () => {
    const res = await persistsNothing([`/registry/namespaces/${NS}`, `/registry/configmaps/${NS}/kept`], () => send('DELETE', `/api/v1/namespaces/${NS}?dryRun=All`));
    expect(res.status).to.equal(200);
    expect(json(res).status).to.deep.equal({ phase: 'Terminating' });
    expect(json(res).metadata.deletionTimestamp).to.be.a('string');
    expect(etcdValue(`/registry/namespaces/${NS}`)?.status).to.deep.equal({ phase: 'Active' });
  });

  it('a Service takes no ClusterIP and no NodePort: the answer has the dry-run allocators\' placeholders', async () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }] } };
    const res = await persistsNothing([`/registry/services/specs/${NS}/web`], () => send('POST', `/api/v1/namespaces/${NS}/services?dryRun=All`, svc));
    expect(res.status).to.equal(201);
    const spec = json<{ spec: { clusterIP: string; clusterIPs: string[]; ports: { nodePort: number }[] } }>(res).spec;
    // ipallocator's dry run answers the range's network address; portallocator's 32769, 32770, ...
    expect(spec.clusterIP).to.equal('10.96.0.0');
    expect(spec.clusterIPs).to.deep.equal(['10.96.0.0']);
    expect(spec.ports.map((p) => p.nodePort)).to.deep.equal([32769, 32770]);
  });

  it('subresources: pods/binding, status and scale answer as for a real write and store nothing', async () => {
    await admin.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, spec: {} });
    await admin.create(`/api/v1/namespaces/${NS}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } });
    const podKey = `/registry/pods/${NS}/p`;
    const bind = await persistsNothing([podKey], () => send('POST', `/api/v1/namespaces/${NS}/pods/p/binding?dryRun=All`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } }));
    expect(bind.status).to.equal(201);
    expect(json<Status>(bind)).to.include({ status: 'Success', code: 201 });
    expect((etcdValue(podKey)?.spec as { nodeName?: string }).nodeName).to.equal(undefined);

    const status = await persistsNothing([podKey], () => send('PATCH', `/api/v1/namespaces/${NS}/pods/p/status?dryRun=All`, { status: { phase: 'Running' } }, 'application/merge-patch+json'));
    expect(status.status).to.equal(200);
    expect((json(status).status as { phase: string }).phase).to.equal('Running');

    await admin.create(`/apis/apps/v1/namespaces/${NS}/deployments`, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } },
    } as KubeObject);
    const scale = await persistsNothing([`/registry/deployments/${NS}/d`], () =>
      send('PATCH', `/apis/apps/v1/namespaces/${NS}/deployments/d/scale?dryRun=All`, { spec: { replicas: 5 } }, 'application/merge-patch+json'));
    expect(scale.status).to.equal(200);
    expect(json<{ spec: { replicas: number } }>(scale).spec.replicas).to.equal(5);
  });

  it('validation still refuses (422) and admission still refuses (NodeRestriction 403) under dry run', async () => {
    const bad = await persistsNothing([], () => send('POST', `${CMS}?dryRun=All`, cm('Bad_Name')));
    expect(bad.status).to.equal(422);
    expect(json<Status>(bad).reason).to.equal('Invalid');
    const noContainers = await send('POST', `/api/v1/namespaces/${NS}/pods?dryRun=All`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'empty' }, spec: { containers: [] } });
    expect(noContainers.status).to.equal(422);
    expect(json<Status>(noContainers).message).to.equal('Pod "empty" is invalid: spec.containers: Required value');

    await admin.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-2' }, spec: {} });
    const kubelet = cp.client('nodes/node-1/kubelet.conf');
    const other = await persistsNothing(['/registry/minions/node-2'], () =>
      kubelet.raw('PATCH', '/api/v1/nodes/node-2/status?dryRun=All', { status: { phase: 'Running' } }, 'application/merge-patch+json'));
    expect(other.status).to.equal(403);
    expect(json<Status>(other).message).to.equal('nodes "node-2" is forbidden: node "node-1" is not allowed to modify node "node-2"');
    // Authorization too: anonymous may not dry-run a create.
    const anonymous = new KubeClient({ name: 'curl', server: cp.url, serverCa: caPem(pki, 'ca') });
    try {
      const res = await anonymous.raw('POST', `${CMS}?dryRun=All`, cm('anon'));
      expect(res.status).to.equal(403);
      expect(json<Status>(res).message).to.equal(`configmaps is forbidden: User "system:anonymous" cannot create resource "configmaps" in API group "" in the namespace "${NS}"`);
    } finally {
      anonymous.close();
    }
  });

  it('refuses a dryRun other than All with 422 Invalid, worded as ValidateDryRun, and writes nothing', async () => {
    const cases: [string, string, unknown, string | undefined, string][] = [
      ['POST', `${CMS}?dryRun=Bogus`, cm('bogus'), undefined, 'CreateOptions'],
      ['PUT', `${CMS}/kept?dryRun=Bogus`, cm('kept'), undefined, 'UpdateOptions'],
      ['PATCH', `${CMS}/kept?dryRun=Bogus`, { data: { k: 'x' } }, 'application/merge-patch+json', 'PatchOptions'],
      ['DELETE', `${CMS}/kept?dryRun=Bogus`, undefined, undefined, 'DeleteOptions'],
      ['DELETE', `${CMS}/kept`, { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['Bogus'] }, undefined, 'DeleteOptions'],
      ['DELETE', `${CMS}?dryRun=Bogus`, undefined, undefined, 'DeleteOptions'],
    ];
    for (const [method, path, body, type, kind] of cases) {
      const res = await persistsNothing([`/registry/configmaps/${NS}/kept`, `/registry/configmaps/${NS}/bogus`], () => send(method, path, body, type));
      expect(res.status, `${method} ${path}`).to.equal(422);
      expect(json<Status>(res)).to.deep.equal({
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Invalid', code: 422,
        message: `${kind}.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Bogus"}: supported values: "All"`,
        details: { group: 'meta.k8s.io', kind, causes: [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: []string{"Bogus"}: supported values: "All"', field: 'dryRun' }] },
      });
    }
    const two = await send('POST', `${CMS}?dryRun=All&dryRun=Bogus`, cm('bogus'));
    expect(json<Status>(two).message).to.equal('CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"All", "Bogus"}: supported values: "All"');
  });

  it('ignores dryRun on a GET or LIST', async () => {
    expect((await send('GET', `${CMS}/kept?dryRun=Bogus`)).status).to.equal(200);
    expect((await send('GET', `${CMS}?dryRun=Bogus`)).status).to.equal(200);
  });

  it('sent no watch event for any dry run', async () => {
    await admin.create(CMS, cm('sentinel'));
    await waitFor('the sentinel configmap\'s ADDED event', () => (watched.some((e) => e.object.metadata.name === 'sentinel') ? true : undefined));
    expect(watched.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`)).to.deep.equal(['ADDED sentinel']);
  });
});
