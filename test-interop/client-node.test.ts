/**
 * @kubernetes/client-node (the official JavaScript client, 1.4) as an independent client: it loads
 * the generated admin.conf and does its own TLS, discovery-free typed calls, watch and log reads.
 */
import { expect } from 'chai';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { renderKubeconfig } from '../pki/kubeconfig.js';
import { caPem, credential, issuePki, type Pki } from '../pki/store.js';
import { Cluster } from '../sim/cluster.js';
import { silentLogger } from '../sim/logger.js';
import { Trace } from '../components/client/trace.js';
import { TraceRecorder } from '../sim/trace.js';
import { foreignAdmin } from '../scenarios/tour.js';
import { waitFor } from './helpers.js';

describe('@kubernetes/client-node against the cluster', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cluster: Cluster;
  let recorder: TraceRecorder;
  let dir: string;
  let kc: k8s.KubeConfig;

  const kubeconfig = async (name: string, server: string, cert: string, key: string, user: string): Promise<k8s.KubeConfig> => {
    const file = path.join(dir, name);
    await fs.writeFile(file, renderKubeconfig({ server, clusterName: 'kubernetes', user, caPem: caPem(pki, 'ca'), certPem: cert, keyPem: key }), { mode: 0o600 });
    const config = new k8s.KubeConfig();
    config.loadFromFile(file);
    return config;
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'client-node-'));
    pki = await issuePki({ nodes: ['node-1'] });
    const trace = new Trace();
    recorder = new TraceRecorder(trace);
    cluster = await new Cluster({ pki, trace, logger: silentLogger(), ports: 'ephemeral' }).start();
    const admin = credential(pki, 'admin.conf');
    kc = await kubeconfig('admin.conf', cluster.apiserverUrl, admin.certPem, admin.keyPem, 'kubernetes-admin');
  });

  after(async () => {
    await cluster?.stop();
    recorder?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists nodes and namespaces as kubernetes-admin, verified by its client certificate', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const nodes = await waitFor('node-1 registered', async () => {
      const l = await core.listNode();
      return l.items.length === 1 ? l : undefined;
    });
    expect(nodes.items[0]!.metadata!.name).to.equal('node-1');
    const ns = await core.listNamespace();
    expect(ns.items.map((n) => n.metadata!.name)).to.include.members(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
    const seen = recorder.events.find((e) => e.type === 'request' && e.path === '/api/v1/namespaces' && e.user === 'kubernetes-admin');
    expect(seen, 'the apiserver authenticated the request by admin.conf\'s certificate').to.not.equal(undefined);
  });

  it('creates a Deployment, watches its pods come up Running, and reads a pod\'s log', async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const events: Array<{ type: string; name: string; phase: string | undefined }> = [];
    const watch = new k8s.Watch(kc);
    let watchDone: unknown = 'open';
    const abort = await watch.watch('/api/v1/namespaces/default/pods', { labelSelector: 'app=hello' },
      (type, obj: k8s.V1Pod) => { events.push({ type, name: obj.metadata?.name ?? '', phase: obj.status?.phase }); },
      (err) => { watchDone = err; });
    try {
      const created = await apps.createNamespacedDeployment({
        namespace: 'default',
        body: {
          apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hello' },
          spec: { replicas: 2, selector: { matchLabels: { app: 'hello' } }, template: { metadata: { labels: { app: 'hello' } }, spec: { containers: [{ name: 'hello', image: 'nginx:1.25' }] } } },
        },
      });
      expect(created.metadata?.uid).to.be.a('string');
      const running = await waitFor('two pods Running in the watch', () => {
        const names = new Set(events.filter((e) => e.phase === 'Running').map((e) => e.name));
        return names.size === 2 ? [...names] : undefined;
      });
      expect(events[0]!.type).to.equal('ADDED');
      expect(watchDone).to.equal('open');
      const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=hello' });
      expect(list.items.map((p) => p.metadata!.name).sort()).to.deep.equal(running.sort());
      const log = await core.readNamespacedPodLog({ name: running[0]!, namespace: 'default', container: 'hello' });
      expect(log.split('\n')[0]).to.match(/^Starting hello \(image (docker\.io\/library\/)?nginx:1\.25\)$/);
    } finally {
      abort.abort();
    }
  });

  it('a duplicate create fails with the apiserver\'s 409 Status', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'twice' }, data: { a: '1' } } });
    const err = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'twice' } } }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(k8s.ApiException);
    const ex = err as k8s.ApiException<string>;
    expect(ex.code).to.equal(409);
    expect(JSON.parse(ex.body) as { reason: string; message: string }).to.deep.include({ reason: 'AlreadyExists', message: 'configmaps "twice" already exists' });
  });

  it('a client certificate from a foreign CA: 401 Unauthorized, the handshake completed', async () => {
    const foreign = await foreignAdmin(pki);
    const bad = await kubeconfig('foreign.conf', cluster.apiserverUrl, foreign.cert, foreign.key, 'kubernetes-admin');
    const err = await bad.makeApiClient(k8s.CoreV1Api).listNamespace().then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(k8s.ApiException);
    expect((err as k8s.ApiException<string>).code).to.equal(401);
  });
});
