import { waitFor } from '../../sim/wait.js';
import { expect } from 'chai';
import { resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import { resourceByName } from '../../components/api/resources.js';
import { storageKey } from '../../components/kube-apiserver/routes.js';
import type { EndpointSlice, KubeList } from '../../components/api/types.js';
import type { Pki } from '../../pki/store.js';
import type { RequestEvent } from '../../components/client/trace.js';
import type { ControlPlane } from '../helpers/control-plane.js';
import { freshControlPlane } from '../helpers/fresh-control-plane.js';
import { apiError } from '../helpers/api-error.js';

const slices = (ns = 'default', name?: string): string => resourcePath({ group: 'discovery.k8s.io', resource: 'endpointslices', namespace: ns, ...(name ? { name } : {}) });

const slice = (o: Partial<EndpointSlice> & { name?: string } = {}): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { ...(o.name ? { name: o.name } : { generateName: 'web-' }), labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: o.addressType ?? 'IPv4',
  endpoints: o.endpoints ?? [{ addresses: ['10.244.1.5'], conditions: { ready: true } }],
  ports: o.ports ?? [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

describe('kube-apiserver: discovery.k8s.io/v1 endpointslices', function () {
  this.timeout(30_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  let proxy: KubeClient;

  before(async () => {
    ({ pki, cp, admin } = await freshControlPlane());
    proxy = cp.client('kube-proxy.conf');
  });
  after(async () => { await cp?.stop(); });

  it('is in API discovery: the group in /apis, the namespaced resource in /apis/discovery.k8s.io/v1', async () => {
    const groups = JSON.parse((await admin.raw('GET', '/apis')).body) as { groups: { name: string; preferredVersion: { groupVersion: string } }[] };
    expect(groups.groups.find((g) => g.name === 'discovery.k8s.io')?.preferredVersion.groupVersion).to.equal('discovery.k8s.io/v1');
    const list = JSON.parse((await admin.raw('GET', '/apis/discovery.k8s.io/v1')).body) as { groupVersion: string; resources: { name: string; singularName: string; namespaced: boolean; kind: string; verbs: string[] }[] };
    expect(list.groupVersion).to.equal('discovery.k8s.io/v1');
    expect(list.resources).to.have.length(1);
    expect(list.resources[0]).to.deep.include({ name: 'endpointslices', singularName: 'endpointslice', namespaced: true, kind: 'EndpointSlice' });
    expect(list.resources[0]!.verbs).to.include.members(['create', 'delete', 'get', 'list', 'update', 'watch']);
    expect(storageKey(resourceByName('endpointslices', 'discovery.k8s.io'), 'default', 'web-abcde')).to.equal('/registry/endpointslices/default/web-abcde');
  });

  it('holds the kubernetes EndpointSlice the apiserver writes beside its Endpoints', async () => {
    const k = await admin.get<EndpointSlice>(slices('default', 'kubernetes'));
    expect(k.metadata.labels).to.deep.equal({ 'kubernetes.io/service-name': 'kubernetes' });
    expect(k.addressType).to.equal('IPv4');
    expect(k.endpoints).to.deep.equal([{ addresses: ['127.0.1.1'], conditions: { ready: true } }]);
    expect(k.ports).to.deep.equal([{ name: 'https', port: Number(new URL(cp.url).port), protocol: 'TCP' }]);
  });

  it('creates with generateName, counts generations of real changes only, and deletes', async () => {
    const created = await admin.create<EndpointSlice>(slices(), slice());
    expect(created.metadata.name).to.match(/^web-[a-z0-9]{5}$/);
    expect(created.metadata.generation).to.equal(1);
    expect(created.kind).to.equal('EndpointSlice');
    const path = slices('default', created.metadata.name);
    const same = await admin.update<EndpointSlice>(path, { ...created, metadata: { ...created.metadata, annotations: { note: 'x' } } });
    expect(same.metadata.generation, 'an annotation is not a new generation').to.equal(1);
    const changed = await admin.update<EndpointSlice>(path, { ...same, endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: false } }] });
    expect(changed.metadata.generation).to.equal(2);
    const relabelled = await admin.update<EndpointSlice>(path, { ...changed, metadata: { ...changed.metadata, labels: { 'kubernetes.io/service-name': 'other' } } });
    expect(relabelled.metadata.generation, 'labels count').to.equal(3);
    const list = await admin.list<EndpointSlice>(slices(), { labelSelector: 'kubernetes.io/service-name=other' });
    expect(list.items.map((s) => s.metadata.name)).to.deep.equal([created.metadata.name]);
    await admin.delete(path);
    const gone = await apiError(admin.get(path));
    expect(gone.httpStatus).to.equal(404);
    expect(gone.message).to.equal(`endpointslices.discovery.k8s.io "${created.metadata.name!}" not found`);
  });

  it('refuses invalid slices with 422 and Kubernetes\' messages', async () => {
    const bad = await apiError(admin.create(slices(), { ...slice({ name: 'bad' }), addressType: 'IPv5' as EndpointSlice['addressType'] }));
    expect(bad.httpStatus).to.equal(422);
    expect(bad.reason).to.equal('Invalid');
    expect(bad.message).to.equal('EndpointSlice.discovery.k8s.io "bad" is invalid: addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"');
    const noAddr = await apiError(admin.create(slices(), slice({ name: 'bad', endpoints: [{ addresses: [] }] })));
    expect(noAddr.message).to.equal('EndpointSlice.discovery.k8s.io "bad" is invalid: endpoints[0].addresses: Required value: must contain at least 1 address');
    const notIp = await apiError(admin.create(slices(), slice({ name: 'bad', endpoints: [{ addresses: ['web.example'] }] })));
    expect(notIp.message).to.include('endpoints[0].addresses[0]: Invalid value: "web.example": must be a valid IPv4 address');
    const ok = await admin.create<EndpointSlice>(slices(), slice({ name: 'fixed' }));
    const immutable = await apiError(admin.update(slices('default', 'fixed'), { ...ok, addressType: 'IPv6', endpoints: [{ addresses: ['fd00::1'] }] }));
    expect(immutable.httpStatus).to.equal(422);
    expect(immutable.message).to.equal('EndpointSlice.discovery.k8s.io "fixed" is invalid: addressType: Invalid value: "IPv6": field is immutable');
  });

  it('serves the Table kubectl asks for: Name, AddressType, Ports, Endpoints, Age', async () => {
    await admin.create<EndpointSlice>(slices(), slice({
      name: 'many', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'https', port: 443, protocol: 'TCP' }],
      endpoints: ['1', '2', '3', '4', '5'].map((i) => ({ addresses: [`10.244.2.${i}`] })),
    }));
    await admin.create<EndpointSlice>(slices(), slice({ name: 'empty', ports: [], endpoints: [] }));
    const res = await admin.raw('GET', `${slices()}?limit=500`, undefined, undefined, 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json');
    expect(res.status).to.equal(200);
    const table = JSON.parse(res.body) as { kind: string; columnDefinitions: { name: string }[]; rows: { cells: (string | number)[] }[] };
    expect(table.kind).to.equal('Table');
    expect(table.columnDefinitions.map((c) => c.name)).to.deep.equal(['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
    const row = (n: string): (string | number)[] | undefined => table.rows.find((r) => r.cells[0] === n)?.cells.slice(0, 4);
    expect(row('many')).to.deep.equal(['many', 'IPv4', '80,443', '10.244.2.1,10.244.2.2,10.244.2.3 + 2 more...']);
    expect(row('empty')).to.deep.equal(['empty', 'IPv4', '<unset>', '<unset>']);
    expect(row('kubernetes')?.slice(1)).to.deep.equal(['IPv4', new URL(cp.url).port, '127.0.1.1']);
  });

  it('lets system:kube-proxy (system:node-proxier) list and watch endpointslices, not create them', async () => {
    const list = await proxy.list<EndpointSlice>(resourcePath({ group: 'discovery.k8s.io', resource: 'endpointslices' }));
    expect((list as KubeList<EndpointSlice>).items.some((s) => s.metadata.name === 'kubernetes')).to.equal(true);
    const seen: string[] = [];
    const w = proxy.watch<EndpointSlice>(resourcePath({ group: 'discovery.k8s.io', resource: 'endpointslices' }), { resourceVersion: list.metadata.resourceVersion ?? '' }, (e) => { seen.push(`${e.type} ${e.object.metadata.name ?? ''}`); });
    try {
      await admin.create<EndpointSlice>(slices(), slice({ name: 'watched' }));
      await waitFor('the ADDED event', () => (seen.includes('ADDED watched') ? true : undefined), 10_000, 20);
    } finally {
      w.stop();
    }
    const err = await apiError(proxy.create(slices(), slice({ name: 'sneaky' })));
    expect(err.httpStatus).to.equal(403);
    expect(err.reason).to.equal('Forbidden');
    expect(err.message).to.equal('endpointslices.discovery.k8s.io is forbidden: User "system:kube-proxy" cannot create resource "endpointslices" in API group "discovery.k8s.io" in the namespace "default"');
    const denied = cp.recorder.events.find((e): e is RequestEvent => e.type === 'request' && e.user === 'system:kube-proxy' && e.method === 'POST');
    expect(denied).to.include({ decision: 'deny', status: 403, resource: 'endpointslices' });
  });
});
