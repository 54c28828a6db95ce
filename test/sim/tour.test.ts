import { expect } from 'chai';
import { connect } from 'node:net';
import { issuePki, credential, type Pki } from '../../pki/store.js';
import YAML from 'yaml';
import { Cluster } from '../../sim/cluster.js';
import type { KubeObject } from '../../components/api/types.js';
import { silentLogger } from '../../sim/logger.js';
import { runScenario } from '../../sim/scenario.js';
import { Trace } from '../../components/client/trace.js';
import { SCENARIOS } from '../../scenarios/index.js';
import { CATALOGUES, translator } from '../../sim/i18n/index.js';
import type { RunResult } from '../../sim/scenario.js';

const HANGUL = /[\uac00-\ud7a3]/;

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
  let english: RunResult | undefined;

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
    // The seed's order: the PKI, then each flow as the seed tells it, then the refusals.
    const steps = text.split('\n').map((l) => /^--- \d+\. (.*)$/.exec(l)?.[1]).filter((t): t is string => t !== undefined);
    expect(steps).to.deep.equal(['The root: the Kubernetes CA', 'The second root: the etcd CA', 'Server certificates: kube-apiserver, kubelet, etcd',
      'Client certificates: kubectl, scheduler, controller-manager, kube-proxy, kubelet', "The apiserver's two client certificates", 'Start-up',
      'kube-apiserver → etcd', 'kubelet → kube-apiserver', 'kube-apiserver → kubelet', 'kubectl → kube-apiserver', 'kube-scheduler → kube-apiserver',
      'kube-controller-manager → kube-apiserver', 'kubelet runs the pods and reports their status', 'kube-controller-manager: endpoints and EndpointSlices',
      'kube-proxy → kube-apiserver', 'kube-apiserver → kubelet: kubectl logs', 'Refused: a kubelet dialling etcd', 'Refused: kubectl with a certificate from a foreign CA']);
    // The scheduler is told before the controller-manager whose pods it bound: each step still shows its own requests.
    const section = (title: string, next: string): string => text.slice(text.indexOf(`. ${title}\n`), text.indexOf(`. ${next}\n`));
    const scheduler = section('kube-scheduler → kube-apiserver', 'kube-controller-manager → kube-apiserver');
    expect(scheduler.match(/kube-scheduler → kube-apiserver: POST \S+\/binding as system:kube-scheduler: allowed, 201/g) ?? []).to.have.length(3);
    const kcm = section('kube-controller-manager → kube-apiserver', 'kubelet runs the pods and reports their status');
    expect(kcm).to.match(/\(deployment-controller\) → kube-apiserver: POST \/apis\/apps\/v1\/namespaces\/default\/replicasets as system:serviceaccount:kube-system:deployment-controller/);
    expect(kcm).to.match(/\(replicaset-controller\) → kube-apiserver: POST \/api\/v1\/namespaces\/default\/pods as system:serviceaccount:kube-system:replicaset-controller .*\(×3\)/);
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
    // English is the source: the lessons print as the English catalogue has them, and nothing Korean leaks in.
    expect(text).to.include(CATALOGUES.en['tour.kcm.lesson'].split('\n').join('\n    '));
    expect(text).to.not.match(HANGUL);
    english = result;
  });

  it('plays the tour with kube-proxy in ipvs mode (--proxy-mode ipvs), its nodes in a worker process: the kube-proxy step shows ipvsadm, kube-ipvs0 and the ipset', async function () {
    const lines: string[] = [];
    let cluster: Cluster | undefined;
    const result = await runScenario(SCENARIOS.find((s) => s.name === 'tour')!, {
      pki, write: (l) => lines.push(l),
      startCluster: async (p, trace) => {
        cluster = await new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral', proxyMode: 'ipvs', workers: 1 }).start();
        return cluster;
      },
    });
    expect(result.expectations.filter((e) => !e.ok), lines.join('\n')).to.deep.equal([]);
    const text = lines.join('\n');
    const step = text.slice(text.indexOf('. kube-proxy → kube-apiserver\n'), text.indexOf('. kube-apiserver → kubelet: kubectl logs\n'));
    expect(step).to.include('# ipvsadm -Ln').and.match(/\n {6}TCP {2}10\.\d+\.\d+\.\d+:80 rr\n( {8}-> 10\.244\.\d+\.\d+:80 +Masq {4}1 .*\n){3}/);
    expect(step).to.match(/inet 10\.\d+\.\d+\.\d+\/32 scope global kube-ipvs0/).and.not.include('KUBE-SEP-');
    expect(result.expectations.map((e) => e.what)).to.include("three real servers, Masq with weight 1: the slice's ready endpoints");
    expect(cluster!.nodeWorkers!.pids, 'the ipvs view crossed the worker IPC').to.have.length(1);
  });

  it('plays the same tour in Korean (--lang ko): the same expectations hold, and the trace events carry no Korean', async function () {
    const lines: string[] = [];
    const events: string[] = [];
    const result = await runScenario(SCENARIOS.find((s) => s.name === 'tour')!, {
      pki, write: (l) => lines.push(l), lang: 'ko', onEvent: (e) => events.push(JSON.stringify(e)),
      startCluster: (p, trace) => new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral' }).start(),
    });
    const text = lines.join('\n');
    expect(result.expectations.filter((e) => !e.ok), text).to.deep.equal([]);
    expect(result.ok).to.equal(true);
    const ko = translator('ko');
    const steps = text.split('\n').map((l) => /^--- \d+\. (.*)$/.exec(l)?.[1]).filter((t): t is string => t !== undefined);
    expect(steps).to.have.length(18);
    expect(steps.slice(0, 2)).to.deep.equal([ko('tour.root.title'), ko('tour.etcdCa.title')]);
    expect(steps[16]).to.equal('거부: etcd에 접속하는 kubelet');
    expect(text).to.include('모든 컴포넌트는 HTTPS로 통신하고, kube-apiserver는 통신하는 클라이언트가 누구인지 알아야 합니다.');
    // Technical tokens as Kubernetes prints them, in the Korean sentences.
    expect(text).to.match(/kubelet \(node-1\) → etcd: 거부됨 \(etcd 측\): x509: certificate signed by unknown authority \[UNABLE_TO_VERIFY_LEAF_SIGNATURE\]/);
    expect(text).to.match(/kube-scheduler → kube-apiserver: POST \S+\/binding 신원 system:kube-scheduler: 허용, 201/);
    expect(text).to.match(/^관찰된 모든 연결/m);
    expect(text).to.match(/^PASS tour: (\d+)\/\1 기대 조건 충족$/m);
    // No English lesson left: every step's English lesson is absent.
    for (const k of Object.keys(CATALOGUES.en).filter((key) => key.startsWith('tour.') && key.endsWith('.lesson'))) {
      expect(text, k).to.not.include((CATALOGUES.en as Record<string, string>)[k]!.split('\n')[0]);
    }
    // The same checks, the same verdicts, whatever the language (the English run above, when it ran).
    if (english) expect(result.expectations.map((e) => e.ok)).to.deep.equal(english.expectations.map((e) => e.ok));
    expect(result.expectations).to.have.length(english?.expectations.length ?? result.expectations.length);
    // --json prints these events: the language never reaches them.
    expect(events.length).to.be.greaterThan(100);
    expect(events.filter((e) => HANGUL.test(e))).to.deep.equal([]);
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

  it('writes kubeadm\'s kube-system/kube-proxy ConfigMap with the cluster\'s proxy mode (KubeProxyConfiguration mode)', async function () {
    const cluster = await new Cluster({ pki, trace: new Trace(), logger: silentLogger(), ports: 'ephemeral', proxyMode: 'ipvs', nodes: [] }).start();
    try {
      const cm = await cluster.client('admin.conf').get<KubeObject & { data?: Record<string, string> }>('/api/v1/namespaces/kube-system/configmaps/kube-proxy');
      const config = YAML.parse(cm.data?.['config.conf'] ?? '') as Record<string, unknown>;
      expect(config).to.include({ apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'ipvs', clusterCIDR: pki.plan.podSubnet });
      expect(cluster.proxyMode).to.equal('ipvs');
    } finally {
      await cluster.stop();
    }
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
