import { expect } from 'chai';
import { Kubelet } from '../../components/kubelet/index.js';
import type { RequestEvent, TlsClientEvent, TlsServerEvent, TraceEvent } from '../../components/client/trace.js';
import { issuePki, type Pki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { runScenario } from '../../sim/scenario.js';
import { workerCount } from '../../sim/workers.js';
import { SCENARIOS } from '../../scenarios/index.js';
import { waitFor } from '../../sim/wait.js';
import { Trace } from '../../components/client/trace.js';
import { resourcePath } from '../../components/client/kube-client.js';
import { TraceRecorder } from '../../sim/trace.js';

/** Whether a process with this id still exists (signal 0 checks without sending anything). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

describe('nodes in worker processes (sim/workers.ts)', function () {
  this.timeout(180_000);
  let pki: Pki;
  before(async function () { pki = await issuePki({ nodes: ['node-1', 'node-2', 'node-3'] }); });

  it('chooses in-process below 50 nodes with auto, and never more workers than nodes', () => {
    expect(workerCount(undefined, 500)).to.equal(0);
    expect(workerCount('auto', 49)).to.equal(0);
    expect(workerCount('auto', 50)).to.be.at.least(1);
    expect(workerCount(2, 1)).to.equal(1);
    expect(workerCount(4, 0)).to.equal(0);
    expect(() => workerCount(-1, 3)).to.throw(/not a number of processes/);
  });

  it('plays the tour with 3 nodes in 2 worker processes: every expectation holds, the workers\' handshakes are in the trace, no worker is left', async function () {
    const lines: string[] = [];
    const events: TraceEvent[] = [];
    let cluster: Cluster | undefined;
    const result = await runScenario(SCENARIOS.find((s) => s.name === 'tour')!, {
      pki, write: (l) => lines.push(l), onEvent: (e) => events.push(e),
      startCluster: async (p, trace) => {
        cluster = await new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral', workers: 2 }).start();
        return cluster;
      },
    });
    expect(result.expectations.filter((e) => !e.ok), lines.join('\n')).to.deep.equal([]);
    expect(result.ok).to.equal(true);
    const pids = cluster!.nodeWorkers!.pids;
    expect(pids).to.have.length(2);
    expect(pids).to.not.include(process.pid);
    expect([...cluster!.kubelets.values()].some((k) => k instanceof Kubelet)).to.equal(false);
    // Each node's kubelet and kube-proxy dialled the apiserver from its worker, with its own certificate.
    for (const node of ['node-1', 'node-2', 'node-3']) {
      const kubelet = events.find((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === `kubelet (${node})` && e.server === 'kube-apiserver' && e.handshake === 'ok');
      expect(kubelet?.clientCert?.cn, node).to.equal(`system:node:${node}`);
      const proxy = events.find((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === `kube-proxy (${node})` && e.handshake === 'ok');
      expect(proxy?.clientCert?.cn, node).to.equal('system:kube-proxy');
      // Both halves joined on the socket address pair: the apiserver's side is in this process.
      const server = events.find((e): e is TlsServerEvent => e.type === 'tls-server' && e.server === 'kube-apiserver' && e.peer === kubelet?.local);
      expect(server?.verified, node).to.equal(true);
    }
    // The apiserver → kubelet hop (logs, nodes/proxy) was verified by a kubelet in a worker.
    const hop = events.find((e): e is TlsServerEvent => e.type === 'tls-server' && e.server.startsWith('kubelet') && e.clientCert?.cn === 'kube-apiserver-kubelet-client');
    expect(hop?.verified).to.equal(true);
    expect(result.connections.some((c) => c.client === 'kube-apiserver' && c.server.startsWith('kubelet') && c.result === 'ok' && c.serverTrusts === 'kubernetes')).to.equal(true);
    // Stopped with the cluster: every worker process has exited.
    for (const pid of pids) expect(alive(pid), `worker ${pid}`).to.equal(false);
  });

  it('plays the tour with the embedded etcd in a process of its own (auto, beside node workers): its handshakes and requests are in the trace, a PKI reload reaches it, nothing is left', async function () {
    const lines: string[] = [];
    const events: TraceEvent[] = [];
    let cluster: Cluster | undefined;
    let etcdPid: number | undefined;
    const result = await runScenario(SCENARIOS.find((s) => s.name === 'tour')!, {
      pki, write: (l) => lines.push(l), onEvent: (e) => events.push(e),
      startCluster: async (p, trace) => {
        cluster = await new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral', workers: 1, etcd: { kind: 'embedded', ownProcess: 'auto' } }).start();
        etcdPid = cluster.etcd && 'pid' in cluster.etcd ? cluster.etcd.pid : undefined;
        // A reload goes to the etcd process over IPC and resolves once applied there.
        await cluster.reloadPki(p);
        return cluster;
      },
    });
    expect(result.expectations.filter((e) => !e.ok), lines.join('\n')).to.deep.equal([]);
    expect(etcdPid).to.be.a('number');
    expect(etcdPid).to.not.equal(process.pid);
    expect(cluster!.nodeWorkers!.pids).to.not.include(etcdPid);
    // etcd's side of the apiserver's connections was traced in the etcd process: it verified the
    // apiserver-etcd-client certificate against the etcd CA, and served the apiserver's requests.
    const client = events.find((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === 'kube-apiserver' && e.server === 'etcd' && e.handshake === 'ok');
    const server = events.find((e): e is TlsServerEvent => e.type === 'tls-server' && e.server === 'etcd' && e.peer === client?.local);
    expect(server?.clientCert?.cn).to.equal('kube-apiserver-etcd-client');
    expect(server?.verified).to.equal(true);
    expect(events.some((e): e is RequestEvent => e.type === 'request' && e.server === 'etcd' && e.user === 'kube-apiserver-etcd-client')).to.equal(true);
    // The refused kubelet → etcd handshake of the tour is etcd's decision, made in its process.
    expect(events.some((e): e is TlsServerEvent => e.type === 'tls-server' && e.server === 'etcd' && e.clientCert?.cn === 'system:node:node-1' && e.verified === false)).to.equal(true);
    expect(alive(etcdPid!), 'etcd process').to.equal(false);
  });

  it('forwards a worker\'s events only while someone listens in the parent, then all of them again', async function () {
    const trace = new Trace();
    const cluster = await new Cluster({ pki, trace, logger: silentLogger(), ports: 'ephemeral', workers: 1 }).start();
    try {
      const admin = cluster.client('admin.conf', 'test');
      const proxy = `${resourcePath({ resource: 'nodes', name: 'node-1', subresource: 'proxy' })}/healthz`;
      const fromNode1 = (events: TraceEvent[]): TraceEvent[] => events.filter((e) => (e.type === 'tls-server' || e.type === 'request') && e.server === 'kubelet (node-1)');
      // Nobody listens: the worker's kubelet builds and sends nothing for a handshake or request that succeeds.
      const counted: TraceEvent[] = [];
      const off = trace.on((e) => counted.push(e), { passive: true });
      expect((await admin.raw('GET', proxy)).status).to.equal(200);
      await cluster.settleTrace();
      expect(fromNode1(counted)).to.deep.equal([]);
      off();
      // Someone listens: the next request to the same kubelet is in the trace, from the worker.
      const recorder = new TraceRecorder(trace);
      expect((await admin.raw('GET', proxy)).status).to.equal(200);
      await cluster.settleTrace();
      const hop = fromNode1(recorder.events).find((e): e is RequestEvent => e.type === 'request');
      expect(hop).to.include({ user: 'kube-apiserver-kubelet-client', path: '/healthz', status: 200 });
    } finally {
      await cluster.stop();
    }
  });
});
