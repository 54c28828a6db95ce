import { expect } from 'chai';
import { connect } from 'node:net';
import { issuePki, credential, type Pki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { runScenario } from '../../sim/scenario.js';
import { Trace } from '../../sim/trace.js';
import { SCENARIOS } from '../../scenarios/index.js';

const canConnect = (url: string): Promise<boolean> => new Promise((resolve) => {
  const u = new URL(url);
  const s = connect(Number(u.port), u.hostname);
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

describe('the tour', function () {
  this.timeout(120_000);
  let pki: Pki;
  before(async function () { pki = await issuePki({ nodes: ['node-1', 'node-2'] }); });

  it('plays every seed flow over real mTLS and every expectation holds', async function () {
    const lines: string[] = [];
    const result = await runScenario(SCENARIOS.find((s) => s.name === 'tour')!, {
      pki, write: (l) => lines.push(l),
      startCluster: (p, trace) => new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral' }).start(),
    });
    const failed = result.expectations.filter((e) => !e.ok);
    expect(failed, lines.join('\n')).to.deep.equal([]);
    expect(result.ok).to.equal(true);
    const text = lines.join('\n');
    // The seed's order.
    const order = ['The root: the Kubernetes CA', 'The second root: the etcd CA', 'Server certificates', 'Client certificates', "The apiserver's two client certificates",
      'kube-apiserver → etcd', 'kubelet → kube-apiserver', 'kubectl → kube-apiserver', 'kube-controller-manager → kube-apiserver', 'kube-scheduler → kube-apiserver',
      'kube-proxy → kube-apiserver', 'kube-apiserver → kubelet', 'Refused: a kubelet dialling etcd', 'Refused: kubectl with a certificate from a foreign CA'];
    let at = -1;
    for (const title of order) {
      const i = text.indexOf(title, at + 1);
      expect(i, `"${title}" after the previous step`).to.be.greaterThan(at);
      at = i;
    }
    // The connection table names certificates, issuers and CAs on both sides.
    const table = result.connections;
    const etcdLink = table.find((c) => c.client === 'kube-apiserver' && c.server === 'etcd' && c.result === 'ok');
    expect(etcdLink?.clientCert?.cn).to.equal('kube-apiserver-etcd-client');
    expect(etcdLink?.clientCert?.issuer).to.equal('etcd-ca');
    expect(etcdLink?.serverTrusts).to.equal('etcd-ca');
    const kubeletToEtcd = table.find((c) => c.client === 'kubelet (node-1)' && c.server === 'etcd');
    expect(kubeletToEtcd?.result).to.equal('refused');
    expect(kubeletToEtcd?.refusedBy).to.equal('server');
    expect(kubeletToEtcd?.code).to.equal('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(text).to.match(/Every connection seen/);
    expect(text).to.match(/^PASS tour: \d+\/\d+ expectations held$/m);
  });
});

describe('the cluster builder', function () {
  this.timeout(60_000);
  let pki: Pki;
  before(async function () { pki = await issuePki({ nodes: ['node-1'] }); });

  it('stops what it started when a later component fails, and says which', async function () {
    // The apiserver's certificate paired with another key: its TLS server cannot start.
    const wrong = credential(pki, 'apiserver-kubelet-client');
    const broken: Pki = { ...pki, leaves: new Map(pki.leaves).set('apiserver', { ...credential(pki, 'apiserver'), keyPem: wrong.keyPem }) };
    const trace = new Trace();
    const cluster = new Cluster({ pki: broken, trace, logger: silentLogger(), ports: 'ephemeral' });
    let error: Error | undefined;
    try { await cluster.start(); } catch (err) { error = err as Error; }
    expect(error?.message).to.match(/^cluster start failed \(everything started was stopped again\): /);
    expect(cluster.etcd, 'etcd had started').to.not.equal(undefined);
    expect(cluster.etcd!.address, 'etcd was stopped again').to.equal(undefined);
  });

  it('starts in order, exposes every endpoint on its own address, and stops cleanly (twice)', async function () {
    const cluster = await new Cluster({ pki, trace: new Trace(), logger: silentLogger(), ports: 'ephemeral' }).start();
    try {
      const ep = cluster.endpoints;
      expect(new URL(ep.apiserver).hostname).to.equal('127.0.1.1');
      expect(new URL(ep.etcd).hostname).to.equal('127.0.1.1');
      expect(new URL(ep.kubelets['node-1']!).hostname).to.equal('127.0.2.1');
      expect(await canConnect(ep.apiserver)).to.equal(true);
    } finally {
      await cluster.stop();
      await cluster.stop();
    }
    expect(await canConnect(cluster.endpoints.apiserver)).to.equal(false);
  });
});
