import { expect } from 'chai';
import {
  ENDPOINTSLICE_CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, planSlices, podToEndpoint, sliceLabels,
} from '../../components/kube-controller-manager/endpointslice.js';
import { KubeControllerManager } from '../../components/kube-controller-manager/index.js';
import { resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import type { EndpointSlice, Pod, Service } from '../../components/api/types.js';
import type { RequestEvent } from '../../components/client/trace.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { waitFor } from '../../sim/wait.js';

const mkPod = (name: string, ip: string | undefined, ready: boolean, o: { labels?: Record<string, string>; phase?: 'Running' | 'Succeeded'; deleting?: boolean; ports?: boolean } = {}): Pod => ({
  metadata: {
    name, namespace: 'default', uid: `uid-${name}`, labels: o.labels ?? { app: 'web' },
    ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
  },
  spec: { nodeName: 'node-1', containers: [{ name: 'web', image: 'nginx', ...(o.ports === false ? {} : { ports: [{ name: 'http', containerPort: 8080 }] }) }] },
  status: { phase: o.phase ?? 'Running', ...(ip ? { podIP: ip } : {}), conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

const svc: Service = {
  metadata: { name: 'web', namespace: 'default', uid: 'uid-svc', labels: { team: 'shop' } },
  spec: { selector: { app: 'web' }, clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
};

/** A slice as the apiserver would return the one the controller creates from a plan entry. */
const stored = (name: string, c: { ports: EndpointSlice['ports']; endpoints: EndpointSlice['endpoints'] }, uid = 'uid-svc'): EndpointSlice => ({
  metadata: {
    name, namespace: 'default', uid: `uid-${name}`, generation: 1, labels: sliceLabels(svc),
    ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid, controller: true, blockOwnerDeletion: true }],
  },
  addressType: 'IPv4', endpoints: c.endpoints, ports: c.ports ?? [],
});

describe('endpointslice reconciliation', () => {
  it('turns the selected pods with an IP into endpoints with ready/serving/terminating, terminating pods included', () => {
    const pods = [
      mkPod('b', '10.244.1.10', true), mkPod('a', '10.244.1.9', true), mkPod('c', '10.244.2.3', false),
      mkPod('t', '10.244.2.4', true, { deleting: true }), mkPod('n', undefined, true), mkPod('s', '10.244.2.5', false, { phase: 'Succeeded' }),
      mkPod('x', '10.244.2.6', true, { labels: { app: 'db' } }),
    ];
    const plan = planSlices(svc, pods, []);
    expect(plan.update).to.deep.equal([]);
    expect(plan.delete).to.deep.equal([]);
    expect(plan.create).to.have.length(1);
    const [slice] = plan.create;
    expect(slice!.ports).to.deep.equal([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(slice!.endpoints.map((e) => [e.addresses[0], e.conditions])).to.deep.equal([
      ['10.244.1.9', { ready: true, serving: true, terminating: false }],
      ['10.244.1.10', { ready: true, serving: true, terminating: false }],
      ['10.244.2.3', { ready: false, serving: false, terminating: false }],
      // a terminating pod still serves but is not ready
      ['10.244.2.4', { ready: false, serving: true, terminating: true }],
    ]);
    expect(slice!.endpoints[0]).to.deep.equal({
      addresses: ['10.244.1.9'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1',
      targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' },
    });
  });

  it('labels slices with the service name and the managing controller, over the Service\'s own labels, and marks headless ones', () => {
    expect(sliceLabels(svc)).to.deep.equal({ team: 'shop', [LABEL_SERVICE_NAME]: 'web', [LABEL_MANAGED_BY]: ENDPOINTSLICE_CONTROLLER_NAME });
    const sneaky: Service = { ...svc, metadata: { ...svc.metadata, labels: { [LABEL_MANAGED_BY]: 'me', [LABEL_SERVICE_NAME]: 'other' } }, spec: { ...svc.spec, clusterIP: 'None' } };
    expect(sliceLabels(sneaky)).to.deep.equal({ 'service.kubernetes.io/headless': '', [LABEL_SERVICE_NAME]: 'web', [LABEL_MANAGED_BY]: ENDPOINTSLICE_CONTROLLER_NAME });
  });

  it('keeps a placeholder slice (no ports, no endpoints) for a Service that selects nothing', () => {
    const plan = planSlices(svc, [mkPod('x', '10.244.2.6', true, { labels: { app: 'db' } })], []);
    expect(plan.create).to.deep.equal([{ ports: [], endpoints: [] }]);
    const again = planSlices(svc, [], [stored('web-aaaaa', { ports: [], endpoints: [] })]);
    expect(again).to.deep.equal({ create: [], update: [], delete: [] });
  });

  it('updates a slice in place when an endpoint changes and leaves it alone when nothing does', () => {
    const first = planSlices(svc, [mkPod('a', '10.244.1.9', true), mkPod('b', '10.244.1.10', false)], []).create[0]!;
    const current = stored('web-aaaaa', first);
    expect(planSlices(svc, [mkPod('a', '10.244.1.9', true), mkPod('b', '10.244.1.10', false)], [current])).to.deep.equal({ create: [], update: [], delete: [] });
    const plan = planSlices(svc, [mkPod('b', '10.244.1.10', true)], [current]);
    expect(plan.create).to.deep.equal([]);
    expect(plan.update).to.have.length(1);
    expect(plan.update[0]!.metadata.name).to.equal('web-aaaaa');
    expect(plan.update[0]!.endpoints).to.deep.equal([podToEndpoint(mkPod('b', '10.244.1.10', true), svc)]);
  });

  it('fills slices up to the maximum, then starts new ones; reuses a slice instead of deleting one and creating another', () => {
    const pods = ['1', '2', '3', '4', '5'].map((i) => mkPod(`p${i}`, `10.244.1.${i}`, true));
    const plan = planSlices(svc, pods, [], 2);
    expect(plan.create.map((c) => c.endpoints.map((e) => e.addresses[0]))).to.deep.equal([['10.244.1.1', '10.244.1.2'], ['10.244.1.3', '10.244.1.4'], ['10.244.1.5']]);
    // the placeholder becomes the real slice (an update, same name)
    const fromPlaceholder = planSlices(svc, pods.slice(0, 1), [stored('web-ppppp', { ports: [], endpoints: [] })]);
    expect(fromPlaceholder.create).to.deep.equal([]);
    expect(fromPlaceholder.delete).to.deep.equal([]);
    expect(fromPlaceholder.update.map((s) => [s.metadata.name, s.ports, s.endpoints?.length])).to.deep.equal([['web-ppppp', [{ name: 'http', port: 8080, protocol: 'TCP' }], 1]]);
  });

  it('groups pods by the ports they resolve, and deletes slices owned by another Service of the same name', () => {
    const plan = planSlices(svc, [mkPod('a', '10.244.1.9', true), mkPod('b', '10.244.1.10', true, { ports: false })], []);
    expect(plan.create.map((c) => [c.ports, c.endpoints.map((e) => e.addresses[0])])).to.deep.equal([
      [[{ name: 'http', port: 8080, protocol: 'TCP' }], ['10.244.1.9']],
      [[], ['10.244.1.10']],
    ]);
    const foreign = stored('web-zzzzz', { ports: [], endpoints: [] }, 'uid-of-an-old-web');
    const mine = stored('web-aaaaa', planSlices(svc, [mkPod('a', '10.244.1.9', true)], []).create[0]!);
    const p2 = planSlices(svc, [mkPod('a', '10.244.1.9', true)], [foreign, mine]);
    expect(p2.delete.map((s) => s.metadata.name)).to.deep.equal(['web-zzzzz']);
    expect(p2.create).to.deep.equal([]);
  });
});

describe('EndpointSlice controller against the apiserver', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  let kcm: KubeControllerManager;
  const podsPath = resourcePath({ resource: 'pods', namespace: 'default' });
  const slicesPath = resourcePath({ group: 'discovery.k8s.io', resource: 'endpointslices', namespace: 'default' });
  const requests = (): RequestEvent[] => cp.recorder.events.filter((e): e is RequestEvent => e.type === 'request');
  const slicesOf = async (service: string): Promise<EndpointSlice[]> =>
    (await admin.list<EndpointSlice>(slicesPath, { labelSelector: `${LABEL_SERVICE_NAME}=${service}` })).items;
  const mk = async (name: string, app: string, ip: string, ready: boolean): Promise<Pod> => {
    const p = await admin.create<Pod>(podsPath, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app } },
      spec: { nodeName: 'node-1', containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] },
    });
    return admin.update<Pod>(`${podsPath}/${name}/status`, { ...p, status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
  };
  const setReady = async (name: string, ready: boolean): Promise<void> => {
    const p = await admin.get<Pod>(`${podsPath}/${name}`);
    await admin.update(`${podsPath}/${name}/status`, { ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
  };

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    const cred = credential(pki, 'controller-manager.conf');
    kcm = new KubeControllerManager({
      apiserver: cp.url, identity: { cert: cred.certPem, key: cred.keyPem }, serverCa: caPem(pki, 'ca'), controllers: ['endpointslice', 'garbagecollector'],
    }, { logger: silentLogger(), trace: cp.trace });
    await kcm.start();
  });

  after(async () => {
    await kcm?.stop();
    await cp?.stop();
  });

  it('creates <service>-xxxxx, labelled and owned by the Service, as system:serviceaccount:kube-system:endpointslice-controller', async () => {
    await mk('api-a', 'api', '10.244.1.10', true);
    await mk('api-b', 'api', '10.244.1.11', false);
    const service = await admin.create<Service>(resourcePath({ resource: 'services', namespace: 'default' }), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', labels: { tier: 'backend' } }, spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    const [slice] = await waitFor('a slice with both pods', async () => { const s = await slicesOf('api'); return s[0]?.endpoints?.length === 2 ? s : undefined; });
    expect(slice!.metadata.name).to.match(/^api-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(slice!.metadata.generateName).to.equal('api-');
    expect(slice!.metadata.labels).to.deep.equal({ tier: 'backend', 'kubernetes.io/service-name': 'api', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    expect(slice!.metadata.ownerReferences).to.deep.equal([{ apiVersion: 'v1', kind: 'Service', name: 'api', uid: service.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(slice!.addressType).to.equal('IPv4');
    expect(slice!.ports).to.deep.equal([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(slice!.endpoints!.map((e) => [e.addresses, e.conditions, e.nodeName, e.targetRef?.name])).to.deep.equal([
      [['10.244.1.10'], { ready: true, serving: true, terminating: false }, 'node-1', 'api-a'],
      [['10.244.1.11'], { ready: false, serving: false, terminating: false }, 'node-1', 'api-b'],
    ]);
    const post = requests().find((e) => e.method === 'POST' && e.path.startsWith(slicesPath));
    expect(post).to.include({ user: 'system:serviceaccount:kube-system:endpointslice-controller', decision: 'allow', status: 201 });
  });

  it('updates the same slice as pods become ready and go away, bumping its generation; never a second slice', async () => {
    const [before] = await slicesOf('api');
    await setReady('api-b', true);
    const readyB = await waitFor('api-b ready in the slice', async () => {
      const [s] = await slicesOf('api');
      return s?.endpoints?.find((e) => e.addresses[0] === '10.244.1.11')?.conditions?.ready === true ? s : undefined;
    });
    expect(readyB.metadata.name).to.equal(before!.metadata.name);
    expect(readyB.metadata.generation).to.equal((before!.metadata.generation ?? 0) + 1);
    await admin.delete(`${podsPath}/api-a`);
    const after = await waitFor('api-a gone from the slice', async () => { const [s] = await slicesOf('api'); return s?.endpoints?.length === 1 ? s : undefined; });
    expect(after.metadata.name).to.equal(before!.metadata.name);
    expect(after.endpoints![0]!.targetRef?.name).to.equal('api-b');
    await kcm.idle();
    expect(await slicesOf('api')).to.have.length(1);
    const writes = requests().filter((e) => e.path.startsWith(slicesPath) && ['POST', 'PUT', 'DELETE'].includes(e.method));
    expect(writes.filter((e) => e.method === 'POST')).to.have.length(1);
    expect(writes.every((e) => e.user === 'system:serviceaccount:kube-system:endpointslice-controller' && e.status < 300)).to.equal(true);
  });

  it('recreates a slice someone deletes, and keeps a placeholder for a Service selecting nothing', async () => {
    const [current] = await slicesOf('api');
    await admin.delete(`${slicesPath}/${current!.metadata.name!}`);
    const [again] = await waitFor('a new slice', async () => { const s = await slicesOf('api'); return s.length === 1 && s[0]!.metadata.name !== current!.metadata.name ? s : undefined; });
    expect(again!.endpoints!.map((e) => e.addresses[0])).to.deep.equal(['10.244.1.11']);

    await admin.create<Service>(resourcePath({ resource: 'services', namespace: 'default' }), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'lonely' }, spec: { selector: { app: 'nobody' }, ports: [{ port: 80 }] },
    });
    const [placeholder] = await waitFor('a placeholder slice', async () => { const s = await slicesOf('lonely'); return s.length ? s : undefined; });
    expect(placeholder!.endpoints).to.deep.equal([]);
    expect(placeholder!.ports).to.deep.equal([]);
  });

  it('leaves Services without a selector alone; the garbage collector deletes a Service\'s slices with it', async () => {
    await admin.create<Service>(resourcePath({ resource: 'services', namespace: 'default' }), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] },
    });
    const mark = requests().length;
    await admin.delete(resourcePath({ resource: 'services', namespace: 'default', name: 'api' }));
    await waitFor('the api slices gone', async () => ((await slicesOf('api')).length === 0 ? true : undefined));
    const del = requests().slice(mark).find((e) => e.method === 'DELETE' && e.path.startsWith(`${slicesPath}/api-`));
    expect(del).to.include({ user: 'system:serviceaccount:kube-system:generic-garbage-collector', status: 200 });
    await kcm.idle();
    expect(await slicesOf('manual')).to.deep.equal([]);
  });
});
