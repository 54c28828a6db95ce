import { expect } from 'chai';
import { Kubelet } from '../../components/kubelet/index.js';
import { KubeScheduler, type ScheduleOutcome } from '../../components/kube-scheduler/index.js';
import { resourcePath } from '../../components/client/kube-client.js';
import type { Node, Pod } from '../../components/api/types.js';
import { caPem, credential, issuePki, kubeletClientName, kubeletServingName, type LeafName, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import { waitFor } from '../../sim/wait.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { flakyFront, type FlakyFront } from '../helpers/flaky-front.js';

const identity = (pki: Pki, name: LeafName): { cert: string; key: string } => {
  const c = credential(pki, name);
  return { cert: c.certPem, key: c.keyPem };
};
const PODS = resourcePath({ resource: 'pods', namespace: 'default' });

/**
 * Under load a write can fail for no fault of the writer (the apiserver's etcd call times out: 504).
 * The real scheduler and kubelet retry such a write; a pod must not stay Pending for good.
 */
describe('a write the apiserver did not take is tried again', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;
  let front: FlakyFront | undefined;

  before(async () => {
    pki = await issuePki({ nodes: ['node-1'] });
    cp = await startControlPlane(pki);
  });
  afterEach(async () => { await front?.close(); front = undefined; });
  after(async () => { await cp?.stop(); });

  it('kube-scheduler: a Binding answered 504 goes to the backoff queue and is bound on the next attempt', async () => {
    const admin = cp.client('admin.conf');
    const created = await admin.create<Node>(resourcePath({ resource: 'nodes' }), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-9' }, spec: {} });
    await admin.update(resourcePath({ resource: 'nodes', name: 'node-9', subresource: 'status' }), {
      ...created, status: { allocatable: { cpu: '2', memory: '4Gi', pods: '110' }, capacity: { cpu: '2', memory: '4Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    front = await flakyFront(pki, cp.url, 'scheduler.conf', (m, p) => m === 'POST' && p.endsWith('/pods/late/binding'));
    const scheduler = new KubeScheduler({ apiserver: front.url, identity: identity(pki, 'scheduler.conf'), serverCa: caPem(pki, 'ca'), podInitialBackoffMs: 50 }, { logger: silentLogger() });
    const outcomes: ScheduleOutcome[] = [];
    scheduler.onOutcome((o) => { if (o.pod === 'default/late') outcomes.push(o); });
    await scheduler.start();
    try {
      const bound = scheduler.waitForBinding('default/late');
      await admin.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'late', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } as Pod);
      expect((await bound).node).to.equal('node-9');
      expect(front.failed).to.deep.equal(['POST /api/v1/namespaces/default/pods/late/binding']);
      expect(outcomes.map((o) => o.result)).to.deep.equal(['error', 'bound']);
      expect(outcomes[0]?.message).to.contain('Timeout: request did not complete within requested timeout');
      const metrics = (scheduler as unknown as { metrics(): string }).metrics();
      expect(metrics).to.contain('scheduler_schedule_attempts_total{profile="default-scheduler",result="error"} 1');
      expect(metrics).to.contain('scheduler_pending_pods{queue="backoff"} 0');
    } finally {
      await scheduler.stop();
      await admin.delete(resourcePath({ resource: 'nodes', name: 'node-9' }));
    }
  });

  it('kubelet: a pod status answered 504 is sent again by the status manager, and the pod becomes Running', async () => {
    const admin = cp.client('admin.conf');
    front = await flakyFront(pki, cp.url, kubeletClientName('node-1'), (m, p) => m === 'PATCH' && p.endsWith('/pods/steady/status'));
    const kubelet = new Kubelet({
      nodeName: 'node-1', nodeIP: '127.0.2.1', podCIDR: '10.244.1.0/24', apiserver: front.url,
      identity: identity(pki, kubeletClientName('node-1')), serverCa: caPem(pki, 'ca'),
      servingIdentity: identity(pki, kubeletServingName('node-1')), clientCa: caPem(pki, 'ca'),
      port: 0, retryMs: 50, statusSyncPeriodMs: 100,
    }, { logger: silentLogger() });
    await kubelet.start();
    try {
      await admin.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'steady', namespace: 'default' }, spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'nginx' }] } } as Pod);
      const pod = await waitFor('steady Running', async () => {
        const p = await admin.get<Pod>(`${PODS}/steady`);
        return p.status?.phase === 'Running' ? p : undefined;
      });
      expect(front.failed).to.deep.equal(['PATCH /api/v1/namespaces/default/pods/steady/status']);
      expect(pod.status?.podIP).to.match(/^10\.244\.1\.\d+$/);
    } finally {
      await kubelet.stop();
    }
  });
});
