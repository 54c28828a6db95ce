import { expect } from 'chai';
import { resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import type { Pod } from '../../components/api/types.js';
import type { PodDisruptionBudget } from '../../components/api/policy.js';
import { issuePki, type Pki } from '../../pki/store.js';
import { apiError } from '../helpers/api-error.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

const pods = (name?: string, subresource?: string): string =>
  resourcePath({ resource: 'pods', namespace: 'default', ...(name ? { name } : {}), ...(subresource ? { subresource } : {}) });
const pdbs = (name?: string): string => resourcePath({ group: 'policy', resource: 'poddisruptionbudgets', namespace: 'default', ...(name ? { name } : {}) });
const eviction = (name: string, apiVersion = 'policy/v1'): object => ({ apiVersion, kind: 'Eviction', metadata: { name, namespace: 'default' } });

describe('kube-apiserver: pods/eviction (EvictionREST) honouring PodDisruptionBudgets', function () {
  this.timeout(90_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;

  /** A pod bound to node-1, Running, and Ready or not. */
  async function pod(name: string, ready: boolean, labels: Record<string, string> = { app: 'web' }): Promise<void> {
    await admin.create<Pod>(pods(), { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx' }] } });
    const cur = await admin.get<Pod>(pods(name));
    await admin.update<Pod>(pods(name, 'status'), { ...cur, status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
  }
  const exists = async (name: string): Promise<boolean> => (await admin.raw('GET', pods(name))).status === 200;

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
  });
  after(async () => { await cp?.stop(); });

  it('is in discovery as pods/eviction, kind policy/v1 Eviction, verb create', async () => {
    const list = JSON.parse((await admin.raw('GET', '/api/v1')).body) as { resources: Record<string, unknown>[] };
    expect(list.resources.find((r) => r.name === 'pods/eviction')).to.deep.equal({
      name: 'pods/eviction', singularName: '', namespaced: true, kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1',
    });
  });

  it('deletes a pod no budget selects, answering 201 Success (policy/v1 and policy/v1beta1 bodies)', async () => {
    await pod('lone', true, { app: 'lone' });
    const r = await admin.raw('POST', pods('lone', 'eviction'), JSON.stringify(eviction('lone')));
    expect(r.status, r.body).to.equal(201);
    expect(JSON.parse(r.body)).to.deep.include({ kind: 'Status', status: 'Success', code: 201 });
    expect(await exists('lone')).to.equal(false);
    await pod('lone2', true, { app: 'lone' });
    const beta = await admin.raw('POST', pods('lone2', 'eviction'), JSON.stringify(eviction('lone2', 'policy/v1beta1')));
    expect(beta.status, beta.body).to.equal(201);
  });

  it('refuses an Eviction naming another pod (400) and a missing pod (404)', async () => {
    await pod('named', true, { app: 'named' });
    const e = await apiError(admin.create(pods('named', 'eviction'), eviction('other') as Pod));
    expect(e.httpStatus).to.equal(400);
    expect(e.message).to.equal('name in URL does not match name in Eviction object');
    const missing = await apiError(admin.create(pods('ghost', 'eviction'), eviction('ghost') as Pod));
    expect(missing.httpStatus).to.equal(404);
  });

  it('answers 429 with the DisruptionBudget cause while the budget allows no disruption, and evicts once it does', async () => {
    await pod('web-1', true);
    await pod('web-2', true);
    await admin.create<PodDisruptionBudget>(pdbs(), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, minAvailable: 2 } });
    const blocked = await apiError(admin.create(pods('web-1', 'eviction'), eviction('web-1') as Pod));
    expect(blocked.httpStatus).to.equal(429);
    expect(blocked.status?.reason).to.equal('TooManyRequests');
    expect(blocked.message).to.equal("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(blocked.status?.details?.causes).to.deep.equal([{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }]);
    expect(await exists('web-1')).to.equal(true);
    const seen = await admin.get<PodDisruptionBudget>(pdbs('web'));
    expect(seen.status).to.deep.include({ disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2, observedGeneration: 1 });

    await admin.patch(pdbs('web'), { spec: { minAvailable: 1 } });
    const ok = await admin.raw('POST', pods('web-1', 'eviction'), JSON.stringify(eviction('web-1')));
    expect(ok.status, ok.body).to.equal(201);
    expect(await exists('web-1')).to.equal(false);
    const after = await admin.get<PodDisruptionBudget>(pdbs('web'));
    expect(after.status).to.deep.include({ disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 1, observedGeneration: 2 });
    expect(Object.keys((after.status as { disruptedPods?: object }).disruptedPods ?? {})).to.deep.equal(['web-1']);

    const again = await apiError(admin.create(pods('web-2', 'eviction'), eviction('web-2') as Pod));
    expect(again.httpStatus).to.equal(429);
    expect(again.status?.details?.causes?.[0]?.message).to.equal('The disruption budget web needs 1 healthy pods and has 1 currently');
  });

  it('evicts an unready pod while the budget has enough healthy pods, and a pending one without a check', async () => {
    await pod('web-3', false);
    const r = await admin.raw('POST', pods('web-3', 'eviction'), JSON.stringify(eviction('web-3')));
    expect(r.status, r.body).to.equal(201);
    await admin.create<Pod>(pods(), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-pending', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    const p = await admin.raw('POST', pods('web-pending', 'eviction'), JSON.stringify(eviction('web-pending')));
    expect(p.status, p.body).to.equal(201);
  });

  it('persists nothing on dryRun=All', async () => {
    await pod('dry', true, { app: 'dry' });
    const r = await admin.raw('POST', `${pods('dry', 'eviction')}?dryRun=All`, JSON.stringify(eviction('dry')));
    expect(r.status, r.body).to.equal(201);
    expect(await exists('dry')).to.equal(true);
  });

  it('lets a kubelet evict only pods bound to its node (NodeRestriction)', async () => {
    await pod('on-node-1', true, { app: 'n1' });
    const kubelet2 = cp.client('nodes/node-2/kubelet.conf' as never);
    const e = await apiError(kubelet2.create(pods('on-node-1', 'eviction'), eviction('on-node-1') as Pod));
    expect(e.httpStatus).to.equal(403);
    expect(e.message).to.include('node node-2 can only evict pods with spec.nodeName set to itself');
  });
});
