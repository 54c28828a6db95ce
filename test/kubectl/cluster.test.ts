import { waitFor } from '../../sim/wait.js';
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runKubectl, type KubectlResult } from '../../components/kubectl/index.js';
import { KubeControllerManager } from '../../components/kube-controller-manager/index.js';
import { KubeScheduler } from '../../components/kube-scheduler/index.js';
import { Kubelet } from '../../components/kubelet/index.js';
import { resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import type { Deployment, Endpoints, Pod, ReplicaSet } from '../../components/api/types.js';
import { renderKubeconfig } from '../../pki/kubeconfig.js';
import { caPem, credential, issuePki, kubeletClientName, kubeletServingName, type LeafName, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';


const manifest = (image: string): string => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: ${image}
        ports: [{name: http, containerPort: 8080}]
        resources: {requests: {cpu: 100m, memory: 64Mi}}
      - name: sidecar
        image: busybox:1.36
        args: [sleep, infinity]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
`;

describe('kubectl with a whole cluster (scheduler, controller-manager, kubelet)', function () {
  this.timeout(90_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  let dir: string;
  let kubeconfig: string;
  const stops: (() => Promise<void>)[] = [];
  const kubectl = (args: string[], stdin?: string): Promise<KubectlResult> =>
    runKubectl(['--kubeconfig', kubeconfig, ...args], { cwd: dir, env: {}, ...(stdin !== undefined ? { stdin } : {}) });
  const identity = (name: LeafName): { cert: string; key: string } => ({ cert: credential(pki, name).certPem, key: credential(pki, name).keyPem });

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    stops.push(() => cp.stop());
    admin = cp.client('admin.conf');
    const deps = { logger: silentLogger(), trace: cp.trace };
    const ca = caPem(pki, 'ca');
    const node = pki.plan.nodes[0];
    if (!node) throw new Error('no node in the plan');
    const kubelet = new Kubelet({
      nodeName: node.name, nodeIP: node.ip, podCIDR: node.podCIDR, apiserver: cp.url, identity: identity(kubeletClientName(node.name)), serverCa: ca,
      servingIdentity: identity(kubeletServingName(node.name)), clientCa: ca, port: 0,
    }, deps);
    await kubelet.start();
    stops.unshift(() => kubelet.stop());
    const kcm = new KubeControllerManager({ apiserver: cp.url, identity: identity('controller-manager.conf'), serverCa: ca }, deps);
    await kcm.start();
    stops.unshift(() => kcm.stop());
    const scheduler = new KubeScheduler({ apiserver: cp.url, identity: identity('scheduler.conf'), serverCa: ca }, deps);
    await scheduler.start();
    stops.unshift(() => scheduler.stop());
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kubectl-cluster-'));
    kubeconfig = path.join(dir, 'admin.conf');
    const a = credential(pki, 'admin.conf');
    await fs.writeFile(kubeconfig, renderKubeconfig({ server: cp.url, clusterName: 'kubernetes', user: 'kubernetes-admin', caPem: ca, certPem: a.certPem, keyPem: a.keyPem }));
  });

  after(async () => {
    for (const stop of stops) await stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('apply → Deployment → ReplicaSet → pods scheduled, running and ready → Endpoints and EndpointSlice', async () => {
    expect((await kubectl(['apply', '-f', '-'], manifest('nginx:1.27'))).stdout).to.equal('deployment.apps/web created\nservice/web created\n');
    await waitFor('2/2 ready', async () => ((await admin.get<Deployment>(resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default', name: 'web' }))).status?.availableReplicas === 2 ? true : undefined));
    const get = await kubectl(['get', 'deploy']);
    expect(get.stdout).to.match(/\nweb {4}2\/2 {5}2 {12}2 {11}\d+s\n$/);
    const pods = await kubectl(['get', 'pods', '-o', 'wide']);
    const rows = pods.stdout.trim().split('\n').slice(1);
    expect(rows).to.have.length(2);
    for (const r of rows) expect(r).to.match(/^web-[a-z0-9]+-[a-z0-9]{5} +2\/2 +Running +0 +\d+s +10\.244\.1\.\d+ +node-1 +<none> +<none>$/);
    const ep = await waitFor('two endpoints', async () => {
      const e = await admin.get<Endpoints>(resourcePath({ resource: 'endpoints', namespace: 'default', name: 'web' }));
      return e.subsets?.[0]?.addresses?.length === 2 ? e : undefined;
    });
    const eps = await kubectl(['get', 'ep', 'web']);
    const ips = ep.subsets?.[0]?.addresses?.map((a) => `${a.ip}:8080`).join(',') ?? '';
    expect(eps.stdout).to.match(new RegExp(`\\nweb {4}${ips.replace(/\./g, '\\.')} +\\d+s\\n$`));
    const slices = await waitFor('a slice with two ready endpoints', async () => {
      const out = (await kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web'])).stdout;
      return out.includes(ep.subsets![0]!.addresses!.map((a) => a.ip).join(',')) ? out : undefined;
    });
    expect(slices.split('\n')[0]).to.match(/^NAME +ADDRESSTYPE +PORTS +ENDPOINTS +AGE$/);
    expect(slices.split('\n')[1]).to.match(/^web-[a-z0-9]{5} +IPv4 +8080 +10\.244\.1\.\d+,10\.244\.1\.\d+ +\d+s$/);
  });

  it('logs: reads a container\'s log through the apiserver and the kubelet', async () => {
    const pod = (await admin.list<Pod>(resourcePath({ resource: 'pods', namespace: 'default' }))).items.find((p) => p.metadata.labels?.app === 'web');
    const name = pod?.metadata.name ?? '';
    const out = await kubectl(['logs', name]);
    expect(out.code).to.equal(0);
    expect(out.stderr).to.equal('Defaulted container "web" out of: web, sidecar\n');
    expect(out.stdout).to.include(`Listening on ${pod?.status?.podIP ?? ''}:8080/TCP\n`);
    const side = await kubectl(['logs', name, '-c', 'sidecar']);
    expect(side.stdout).to.include('Command: sleep infinity\n');
    expect(side.stderr).to.equal('');
    const missing = await kubectl(['logs', 'nope']);
    expect(missing).to.deep.equal({ stdout: '', stderr: 'Error from server (NotFound): pods "nope" not found\n', code: 1 });
  });

  it('a new image rolls out completely once the new pods are ready', async () => {
    expect((await kubectl(['apply', '-f', '-'], manifest('nginx:1.28'))).stdout).to.equal('deployment.apps/web configured\nservice/web unchanged\n');
    await waitFor('rollout', async () => {
      const rs = (await admin.list<ReplicaSet>(resourcePath({ group: 'apps', resource: 'replicasets', namespace: 'default' }))).items;
      const fresh = rs.find((r) => r.spec.template.spec.containers[0]?.image === 'nginx:1.28');
      const old = rs.find((r) => r !== fresh);
      return fresh?.status?.availableReplicas === 2 && old?.spec.replicas === 0 && old.status?.replicas === 0 ? true : undefined;
    });
    const pods = (await admin.list<Pod>(resourcePath({ resource: 'pods', namespace: 'default' }))).items.filter((p) => !p.metadata.deletionTimestamp);
    expect(pods.map((p) => p.spec.containers[0]?.image)).to.deep.equal(['nginx:1.28', 'nginx:1.28']);
    const del = await kubectl(['delete', 'deploy', 'web']);
    expect(del.stdout).to.equal('deployment.apps "web" deleted\n');
    await waitFor('pods gone', async () => ((await admin.list<Pod>(resourcePath({ resource: 'pods', namespace: 'default' }))).items.length === 0 ? true : undefined));
  });
});
