import { expect } from 'chai';
import { KubeControllerManager } from '../../components/kube-controller-manager/index.js';
import { resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import type { Deployment, Endpoints, KubeEvent, KubeObject, Lease, Pod, ReplicaSet, Service } from '../../components/api/types.js';
import type { RequestEvent } from '../../components/client/trace.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { waitFor } from '../../sim/wait.js';

const template = (app: string, image = 'nginx'): Deployment['spec']['template'] => ({
  metadata: { labels: { app } },
  spec: { containers: [{ name: 'web', image, ports: [{ name: 'http', containerPort: 8080 }] }] },
});

describe('kube-controller-manager against the apiserver', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  let kcm: KubeControllerManager;
  const podsPath = resourcePath({ resource: 'pods', namespace: 'default' });
  const rsPath = resourcePath({ group: 'apps', resource: 'replicasets', namespace: 'default' });
  const deployPath = resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default' });
  const requests = (): RequestEvent[] => cp.recorder.events.filter((e): e is RequestEvent => e.type === 'request');
  const podsOf = async (pred: (p: Pod) => boolean): Promise<Pod[]> => (await admin.list<Pod>(podsPath)).items.filter(pred);
  const ownedBy = (uid: string | undefined) => (p: KubeObject): boolean => p.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller === true) ?? false;
  // Each test makes its own objects (names and labels of its own), so any one runs alone (it.only) or in any order.
  const replicaSet = async (name: string, replicas: number): Promise<{ rs: ReplicaSet; pods: Pod[] }> => {
    const rs = await admin.create<ReplicaSet>(rsPath, {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name },
      spec: { replicas, selector: { matchLabels: { app: name } }, template: template(name) },
    });
    const pods = await waitFor(`${replicas} pods of ${name}`, async () => { const p = await podsOf(ownedBy(rs.metadata.uid)); return p.length === replicas ? p : undefined; });
    return { rs, pods };
  };
  const deployment = async (name: string, replicas: number): Promise<{ d: Deployment; rs: ReplicaSet; pods: Pod[] }> => {
    const d = await admin.create<Deployment>(deployPath, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
      spec: { replicas, selector: { matchLabels: { app: name } }, template: template(name) },
    });
    const rs = await waitFor(`the ReplicaSet of ${name}`, async () => (await admin.list<ReplicaSet>(rsPath)).items.find(ownedBy(d.metadata.uid)));
    const pods = await waitFor(`${replicas} pods of ${name}`, async () => { const p = await podsOf(ownedBy(rs.metadata.uid)); return p.length === replicas ? p : undefined; });
    return { d, rs, pods };
  };

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    const cred = credential(pki, 'controller-manager.conf');
    kcm = new KubeControllerManager({ apiserver: cp.url, identity: { cert: cred.certPem, key: cred.keyPem }, serverCa: caPem(pki, 'ca') }, { logger: process.env.DEBUG_KCM ? (await import('pino')).default({ level: 'info' }, process.stderr) : silentLogger(), trace: cp.trace });
    await kcm.start();
  });

  after(async () => {
    await kcm?.stop();
    await cp?.stop();
  });

  it('creates the controllers\' service accounts and gets their tokens through TokenRequest, as itself', async () => {
    for (const sa of ['replicaset-controller', 'deployment-controller', 'endpoint-controller', 'generic-garbage-collector']) {
      await admin.get(resourcePath({ resource: 'serviceaccounts', namespace: 'kube-system', name: sa }));
      const tr = requests().find((e) => e.method === 'POST' && e.path.startsWith(`/api/v1/namespaces/kube-system/serviceaccounts/${sa}/token`));
      expect(tr, sa).to.include({ user: 'system:kube-controller-manager', decision: 'allow', status: 201 });
    }
    // The informers list and watch as the controller-manager itself.
    const list = requests().find((e) => e.method === 'GET' && e.path.startsWith('/api/v1/pods'));
    expect(list?.user).to.equal('system:kube-controller-manager');
  });

  it('ReplicaSet: creates pods to match replicas under its own service account, then deletes the surplus', async () => {
    const mark = requests().length;
    const { rs, pods } = await replicaSet('solo', 3);
    for (const p of pods) {
      expect(p.metadata.name).to.match(/^solo-[a-z0-9]{5}$/);
      expect(p.metadata.labels).to.deep.equal({ app: 'solo' });
      expect(p.metadata.ownerReferences?.[0]).to.include({ kind: 'ReplicaSet', name: 'solo', controller: true });
    }
    const creates = requests().slice(mark).filter((e) => e.method === 'POST' && e.path === podsPath && e.status === 201);
    expect(creates.map((e) => e.user)).to.deep.equal(Array(3).fill('system:serviceaccount:kube-system:replicaset-controller'));
    expect(creates.every((e) => e.groups.includes('system:serviceaccounts:kube-system'))).to.equal(true);
    await waitFor('status.replicas 3', async () => ((await admin.get<ReplicaSet>(`${rsPath}/solo`)).status?.replicas === 3 ? true : undefined));
    // The recorder writes its events after the sync, in the background (client-go's broadcaster).
    await kcm.idle();
    const events = (await admin.list<KubeEvent>(resourcePath({ resource: 'events', namespace: 'default' }))).items.filter((e) => e.involvedObject.name === 'solo');
    expect(events.map((e) => e.message).sort()).to.deep.equal(pods.map((p) => `Created pod: ${p.metadata.name ?? ''}`).sort());
    expect(events[0]).to.deep.include({ reason: 'SuccessfulCreate', type: 'Normal', source: { component: 'replicaset-controller' } });

    await admin.patch(`${rsPath}/solo`, { spec: { replicas: 1 } });
    await waitFor('1 pod', async () => ((await podsOf(ownedBy(rs.metadata.uid))).length === 1 ? true : undefined));
    const status = await waitFor('status.replicas 1', async () => { const s = (await admin.get<ReplicaSet>(`${rsPath}/solo`)).status; return s?.replicas === 1 ? s : undefined; });
    expect(status).to.include({ replicas: 1 });
    // readyReplicas and availableReplicas are omitempty: at zero Kubernetes leaves them out.
    expect(status).to.not.have.any.keys('readyReplicas', 'availableReplicas', 'conditions');
    const deletes = requests().filter((e) => e.method === 'DELETE' && e.path.startsWith(`${podsPath}/solo-`));
    expect(deletes.map((e) => e.user)).to.deep.equal(Array(2).fill('system:serviceaccount:kube-system:replicaset-controller'));
  });

  it('ReplicaSet: replaces a pod that is deleted', async () => {
    const { rs, pods: [pod] } = await replicaSet('phoenix', 1);
    await admin.delete(`${podsPath}/${pod?.metadata.name ?? ''}`);
    const replacement = await waitFor('a replacement', async () => {
      const p = await podsOf(ownedBy(rs.metadata.uid));
      return p.length === 1 && p[0]?.metadata.name !== pod?.metadata.name ? p[0] : undefined;
    });
    expect(replacement.metadata.name).to.match(/^phoenix-/);
  });

  it('ReplicaSet: adopts a matching orphan pod and releases a pod whose labels no longer match', async () => {
    const { rs } = await replicaSet('keeper', 1);
    const orphan = await admin.create<Pod>(podsPath, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { app: 'keeper' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    // Adopted (a controller reference added), so there is one pod too many: one is deleted.
    await waitFor('one pod owned', async () => {
      const all = await podsOf(() => true);
      const owned = all.filter(ownedBy(rs.metadata.uid));
      const stray = all.find((p) => p.metadata.name === 'stray');
      return owned.length === 1 && (stray === undefined || ownedBy(rs.metadata.uid)(stray)) ? true : undefined;
    });
    const adopt = requests().find((e) => e.method === 'PATCH' && e.path === `${podsPath}/stray`);
    expect(adopt).to.include({ user: 'system:serviceaccount:kube-system:replicaset-controller', status: 200 });
    expect(orphan.metadata.ownerReferences).to.equal(undefined);
    // Relabel the one it owns: released, and replaced.
    const [owned] = await podsOf(ownedBy(rs.metadata.uid));
    await admin.patch(`${podsPath}/${owned?.metadata.name ?? ''}`, { metadata: { labels: { app: 'elsewhere' } } });
    await waitFor('released and replaced', async () => {
      const mine = await podsOf(ownedBy(rs.metadata.uid));
      const released = (await podsOf((p) => p.metadata.name === owned?.metadata.name))[0];
      return mine.length === 1 && mine[0]?.metadata.name !== owned?.metadata.name && released && !released.metadata.ownerReferences?.length ? true : undefined;
    });
  });

  it('Deployment: makes a ReplicaSet <name>-<pod-template-hash>, which makes the pods; status is summed', async () => {
    const mark = requests().length;
    const { rs, pods } = await deployment('web', 2);
    const hash = rs.metadata.labels?.['pod-template-hash'] ?? '';
    expect(rs.metadata.name).to.equal(`web-${hash}`);
    expect(rs.spec.selector.matchLabels).to.deep.equal({ app: 'web', 'pod-template-hash': hash });
    expect(rs.spec.replicas).to.equal(2);
    const rsCreates = requests().slice(mark).filter((e) => e.method === 'POST' && e.path === rsPath && e.user !== 'kubernetes-admin');
    expect(rsCreates.map((e) => e.user)).to.deep.equal(['system:serviceaccount:kube-system:deployment-controller']);
    expect(pods.every((p) => p.metadata.name?.startsWith(`web-${hash}-`) && p.metadata.labels?.['pod-template-hash'] === hash)).to.equal(true);
    const scaled = await waitFor('ScalingReplicaSet event', async () => (await admin.list<KubeEvent>(resourcePath({ resource: 'events', namespace: 'default' }))).items
      .find((e) => e.involvedObject.kind === 'Deployment' && e.involvedObject.name === 'web' && e.reason === 'ScalingReplicaSet'));
    expect(scaled.message).to.equal(`Scaled up replica set web-${hash} to 2`);
    await waitFor('deployment status', async () => {
      const s = (await admin.get<Deployment>(`${deployPath}/web`)).status;
      return s?.replicas === 2 && s.updatedReplicas === 2 ? s : undefined;
    });
  });

  it('Deployment: a new template rolls out within maxSurge and maxUnavailable', async () => {
    const { d } = await deployment('roll', 2);
    await admin.patch(`${deployPath}/roll`, { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 8080 }] }] } } } });
    const sizes = async (): Promise<{ fresh?: number; old?: number; revision?: string }> => {
      const l = (await admin.list<ReplicaSet>(rsPath)).items.filter(ownedBy(d.metadata.uid));
      const n = l.find((r) => r.spec.template.spec.containers[0]?.image === 'nginx:1.27');
      const o = l.find((r) => r !== n);
      return { ...(n ? { fresh: n.spec.replicas ?? 0, revision: n.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '' } : {}), ...(o ? { old: o.spec.replicas ?? 0 } : {}) };
    };
    // 2 replicas: maxSurge 25% → 1, maxUnavailable 25% → 0. No pod ever becomes available without a
    // kubelet, so the rollout stops with one surge pod and the old ReplicaSet untouched — as the real one would.
    const stuck = await waitFor('surge pod', async () => { const s = await sizes(); return s.fresh === 1 ? s : undefined; });
    expect(stuck).to.deep.equal({ fresh: 1, old: 2, revision: '2' });
    // Allow every replica to be unavailable: the old ReplicaSet goes to 0 and the new one to 2.
    await admin.patch(`${deployPath}/roll`, { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%' } } } });
    await waitFor('rollout done', async () => { const s = await sizes(); return s.fresh === 2 && s.old === 0 ? true : undefined; });
  });

  it('Endpoints: lists ready pods in addresses and the rest in notReadyAddresses, following readiness', async () => {
    const mk = async (name: string, ip: string, ready: boolean): Promise<void> => {
      const p = await admin.create<Pod>(podsPath, { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'api' } }, spec: { nodeName: 'node-1', ...template('api').spec } });
      await admin.update(`${podsPath}/${name}/status`, { ...p, status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
    };
    await mk('api-a', '10.244.1.10', true);
    await mk('api-b', '10.244.1.11', false);
    await admin.create<Service>(resourcePath({ resource: 'services', namespace: 'default' }), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    const epPath = resourcePath({ resource: 'endpoints', namespace: 'default', name: 'api' });
    const ep = await waitFor('endpoints', () => admin.get<Endpoints>(epPath));
    expect(ep.subsets).to.have.length(1);
    expect(ep.subsets?.[0]?.addresses?.map((a) => a.ip)).to.deep.equal(['10.244.1.10']);
    expect(ep.subsets?.[0]?.notReadyAddresses?.map((a) => a.ip)).to.deep.equal(['10.244.1.11']);
    expect(ep.subsets?.[0]?.ports).to.deep.equal([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(ep.subsets?.[0]?.addresses?.[0]).to.deep.include({ nodeName: 'node-1' });
    expect(ep.subsets?.[0]?.addresses?.[0]?.targetRef).to.include({ kind: 'Pod', name: 'api-a', namespace: 'default' });
    expect(requests().find((e) => e.method === 'POST' && e.path === '/api/v1/namespaces/default/endpoints')?.user).to.equal('system:serviceaccount:kube-system:endpoint-controller');

    const b = await admin.get<Pod>(`${podsPath}/api-b`);
    await admin.update(`${podsPath}/api-b/status`, { ...b, status: { ...b.status, conditions: [{ type: 'Ready', status: 'True' }] } });
    await waitFor('api-b ready', async () => ((await admin.get<Endpoints>(epPath)).subsets?.[0]?.addresses?.length === 2 ? true : undefined));
    await admin.delete(`${podsPath}/api-a`);
    const after = await waitFor('api-a gone', async () => { const e = await admin.get<Endpoints>(epPath); return e.subsets?.[0]?.addresses?.length === 1 ? e : undefined; });
    expect(after.subsets?.[0]?.addresses?.[0]?.ip).to.equal('10.244.1.11');
    expect(after.subsets?.[0]?.notReadyAddresses).to.equal(undefined);
  });

  it('garbage collector: deleting a Deployment removes its ReplicaSets and their pods', async () => {
    const { d } = await deployment('doomed', 2);
    const rsUids = (await admin.list<ReplicaSet>(rsPath)).items.filter(ownedBy(d.metadata.uid)).map((r) => r.metadata.uid);
    await admin.delete(`${deployPath}/doomed`);
    await waitFor('ReplicaSets gone', async () => ((await admin.list<ReplicaSet>(rsPath)).items.some(ownedBy(d.metadata.uid)) ? undefined : true));
    await waitFor('pods gone', async () => ((await podsOf((p) => rsUids.some((u) => ownedBy(u)(p)))).length === 0 ? true : undefined));
    expect(requests().some((e) => e.method === 'DELETE' && e.path.startsWith(`${rsPath}/doomed-`) && e.user === 'system:serviceaccount:kube-system:generic-garbage-collector')).to.equal(true);
  });

  it('with leader election, takes the kube-controller-manager Lease as itself before running', async () => {
    const cred = credential(pki, 'controller-manager.conf');
    const elected = new KubeControllerManager({
      apiserver: cp.url, identity: { cert: cred.certPem, key: cred.keyPem }, serverCa: caPem(pki, 'ca'), leaderElect: true, controllers: [],
    }, { logger: silentLogger(), trace: cp.trace });
    await elected.start();
    try {
      const lease = await admin.get<Lease>(resourcePath({ group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-system', name: 'kube-controller-manager' }));
      expect(lease.spec.holderIdentity).to.match(/^cp-1_[0-9a-f-]{36}$/);
      const create = requests().find((e) => e.method === 'POST' && e.path === '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases');
      expect(create).to.include({ user: 'system:kube-controller-manager', status: 201 });
    } finally {
      await elected.stop();
    }
  });

  it('asks for a fresh service-account token when 80% of the old one\'s lifetime has passed', async () => {
    const cred = credential(pki, 'controller-manager.conf');
    // The controller-manager's clock runs an hour ahead, less 1.25 s: the 3600 s tokens the apiserver
    // issues look 1.25 s from expiry, so the refresh falls due after one second.
    const ahead = { now: () => new Date(Date.now() + 3600_000 - 1250) };
    const tokenPosts = (): number => requests().filter((e) => e.method === 'POST' && e.path.startsWith('/api/v1/namespaces/kube-system/serviceaccounts/endpoint-controller/token')).length;
    const before = tokenPosts();
    const refreshing = new KubeControllerManager({
      apiserver: cp.url, identity: { cert: cred.certPem, key: cred.keyPem }, serverCa: caPem(pki, 'ca'), controllers: ['endpoint'],
    }, { logger: silentLogger(), trace: cp.trace, clock: ahead });
    await refreshing.start();
    try {
      expect(tokenPosts()).to.equal(before + 1);
      await waitFor('a second TokenRequest', async () => (tokenPosts() >= before + 2 ? true : undefined), 10_000);
    } finally {
      await refreshing.stop();
    }
  });
});
