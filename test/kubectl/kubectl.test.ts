import { expect } from 'chai';
import { waitFor } from '../../sim/wait.js';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runKubectl, type KubectlResult } from '../../components/kubectl/index.js';
import { LAST_APPLIED } from '../../components/kubectl/apply.js';
import { resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import type { Deployment, Node, Pod } from '../../components/api/types.js';
import { renderKubeconfig } from '../../pki/kubeconfig.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { closeServer, createTlsServer, listen } from '../../components/client/tls.js';
import { webManifest } from '../helpers/manifests.js';

describe('kubectl against the apiserver', function () {
  this.timeout(60_000);
  let pki: Pki;
  let foreign: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  let dir: string;
  const kubeconfigs: Record<string, string> = {};
  const kubectl = (args: string[], stdin?: string, as = 'admin'): Promise<KubectlResult> =>
    runKubectl(['--kubeconfig', kubeconfigs[as] ?? '', ...args], { cwd: dir, env: {}, trace: cp.trace, ...(stdin !== undefined ? { stdin } : {}) });

  before(async () => {
    [pki, foreign] = await Promise.all([issuePki(), issuePki()]);
    cp = await startControlPlane(pki);
    admin = cp.client('super-admin.conf');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kubectl-test-'));
    const write = async (name: string, user: string, cred: { certPem: string; keyPem: string }, ca: string): Promise<void> => {
      const file = path.join(dir, `${name}.conf`);
      await fs.writeFile(file, renderKubeconfig({ server: cp.url, clusterName: 'kubernetes', user, caPem: ca, certPem: cred.certPem, keyPem: cred.keyPem }));
      kubeconfigs[name] = file;
    };
    await write('admin', 'kubernetes-admin', credential(pki, 'admin.conf'), caPem(pki, 'ca'));
    await write('proxy', 'system:kube-proxy', credential(pki, 'kube-proxy.conf'), caPem(pki, 'ca'));
    // A client certificate from another cluster's CA; and a kubeconfig trusting another CA.
    await write('stranger', 'kubernetes-admin', credential(foreign, 'admin.conf'), caPem(pki, 'ca'));
    await write('wrongca', 'kubernetes-admin', credential(pki, 'admin.conf'), caPem(foreign, 'ca'));
    await fs.writeFile(path.join(dir, 'web.yaml'), webManifest({ replicas: 2 }));
  });

  after(async () => {
    await cp?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('apply: created, then unchanged, then configured', async () => {
    const first = await kubectl(['apply', '-f', 'web.yaml']);
    expect(first).to.deep.equal({ stdout: 'deployment.apps/web created\nservice/web created\n', stderr: '', code: 0 });
    const d = await admin.get<Deployment>(resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default', name: 'web' }));
    expect(JSON.parse(d.metadata.annotations?.[LAST_APPLIED] ?? '{}')).to.deep.include({ kind: 'Deployment', apiVersion: 'apps/v1' });

    const again = await kubectl(['apply', '-f', 'web.yaml']);
    expect(again.stdout).to.equal('deployment.apps/web unchanged\nservice/web unchanged\n');
    expect(again.code).to.equal(0);
    const before = cp.recorder.events.length;

    const changed = await kubectl(['apply', '-f', '-'], webManifest({ replicas: 3, image: 'nginx:1.28' }));
    expect(changed.stdout).to.equal('deployment.apps/web configured\nservice/web unchanged\n');
    const patch = cp.recorder.events.slice(before).find((e) => e.type === 'request' && e.method === 'PATCH');
    expect(patch).to.include({ user: 'kubernetes-admin', path: '/apis/apps/v1/namespaces/default/deployments/web?fieldManager=kubectl-client-side-apply', status: 200 });
    const live = await admin.get<Deployment>(resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default', name: 'web' }));
    expect(live.spec.replicas).to.equal(3);
    expect(live.spec.template.spec.containers[0]?.image).to.equal('nginx:1.28');
  });

  it('get: tables with the real columns, -o name/json/yaml, -A and -l', async () => {
    const deploy = await kubectl(['get', 'deploy']);
    expect(deploy.stdout).to.match(/^NAME {3}READY {3}UP-TO-DATE {3}AVAILABLE {3}AGE\nweb {4}0\/3 {5}0 {12}0 {11}\d+s\n$/);
    const svc = await kubectl(['get', 'svc', 'web', '-o', 'wide']);
    expect(svc.stdout).to.match(/^NAME {3}TYPE {8}CLUSTER-IP +EXTERNAL-IP {3}PORT\(S\) {3}AGE {3}SELECTOR\nweb {4}ClusterIP {3}10\.\S+ +<none> {8}80\/TCP {4}\d+s {3,4}app=web\n$/);
    expect((await kubectl(['get', 'deployments.apps', '-o', 'name'])).stdout).to.equal('deployment.apps/web\n');
    const both = await kubectl(['get', 'deploy,svc']);
    expect(both.stdout).to.match(/^NAME {18}READY {3}UP-TO-DATE {3}AVAILABLE {3}AGE\ndeployment\.apps\/web {3}0\/3 .*\n\nNAME .*\nservice\/kubernetes .*\nservice\/web .*\n$/);
    const json = JSON.parse((await kubectl(['get', 'deployment', 'web', '-o', 'json'])).stdout) as Deployment;
    expect(json).to.deep.include({ kind: 'Deployment', apiVersion: 'apps/v1' });
    expect((await kubectl(['get', 'svc', '-o', 'yaml'])).stdout).to.match(/^apiVersion: v1\nitems:\n- apiVersion: v1\n {2}kind: Service\n/);
    const all = await kubectl(['get', 'services', '-A']);
    expect(all.stdout.split('\n')[0]).to.match(/^NAMESPACE +NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE$/);
    expect(all.stdout).to.match(/\ndefault +kubernetes +ClusterIP +10\.96\.0\.1 +<none> +443\/TCP +\d+s\n/);
    const empty = await kubectl(['get', 'pods', '-n', 'kube-public']);
    expect(empty).to.deep.equal({ stdout: '', stderr: 'No resources found in kube-public namespace.\n', code: 0 });
    expect((await kubectl(['get', 'svc', '-l', 'app=nothing'])).stderr).to.equal('No resources found in default namespace.\n');
  });

  it('get: an unknown -o is an error before any request, for one type or several', async () => {
    const requestsBefore = cp.recorder.events.filter((e) => e.type === 'request' && e.server === 'kube-apiserver').length;
    for (const args of [['get', 'po', '-o', 'bogus'], ['get', 'po,svc', '-o', 'bogus']]) {
      const r = await kubectl(args);
      expect(r.code, args.join(' ')).to.equal(1);
      expect(r.stdout, args.join(' ')).to.equal('');
      expect(r.stderr, args.join(' ')).to.equal('error: unable to match a printer suitable for the output format "bogus", allowed formats are: json,name,wide,yaml\n');
    }
    expect(cp.recorder.events.filter((e) => e.type === 'request' && e.server === 'kube-apiserver').length, 'no request was sent').to.equal(requestsBefore);
  });

  it('get: pods and nodes tables', async () => {
    const node = await admin.create<Node>(resourcePath({ resource: 'nodes' }), {
      apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { 'node-role.kubernetes.io/worker': '' } }, spec: {},
    });
    await admin.update(resourcePath({ resource: 'nodes', name: 'node-1', subresource: 'status' }), {
      ...node, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.30.0' }, addresses: [{ type: 'InternalIP', address: '127.0.2.1' }] },
    });
    expect((await kubectl(['get', 'no'])).stdout).to.match(/^NAME {5}STATUS {3}ROLES {4}AGE {3}VERSION\nnode-1 {3}Ready {4}worker {3}\d+s +v1\.30\.0\n$/);
    await admin.create<Pod>(resourcePath({ resource: 'pods', namespace: 'default' }), {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lonely' }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    const pods = await kubectl(['get', 'po', 'lonely', '-o', 'wide']);
    expect(pods.stdout).to.match(/^NAME {5}READY {3}STATUS {4}RESTARTS {3}AGE {3}IP {7}NODE {5}NOMINATED NODE {3}READINESS GATES\nlonely {3}0\/1 {5}Pending {3}0 {10}\d+s +<none> {3}<none> {3}<none> {11}<none>\n$/);
  });

  it('get -w: prints the table, then a row per change, until stopped', async () => {
    let text = '';
    const abort = new AbortController();
    const running = runKubectl(['--kubeconfig', kubeconfigs.admin ?? '', 'get', 'pods', '-w'], {
      cwd: dir, env: {}, signal: abort.signal, write: (t) => { text += t; },
    });
    const until = async (re: RegExp): Promise<void> => {
      await waitFor(`kubectl get -w to print ${String(re)}`, () => (re.test(text) ? true : undefined), 10_000, 20).catch(() => undefined);
      expect(text).to.match(re);
    };
    await until(/^NAME +READY +STATUS +RESTARTS +AGE\nlonely +0\/1 +Pending +0 +\d+s\n$/);
    await admin.create<Pod>(resourcePath({ resource: 'pods', namespace: 'default' }), {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'watched' }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    await until(/\nwatched +0\/1 +Pending +0 +\d+s\n$/);
    await admin.delete(resourcePath({ resource: 'pods', namespace: 'default', name: 'watched' }));
    await until(/\nwatched .*\nwatched .*\n$/);
    abort.abort();
    expect(await running).to.deep.equal({ stdout: '', stderr: '', code: 0 });
  });

  it('delete: prints what it deleted and waits until it is gone', async () => {
    const r = await kubectl(['delete', 'pod', 'lonely']);
    expect(r).to.deep.equal({ stdout: 'pod "lonely" deleted\n', stderr: '', code: 0 });
    const gone = await kubectl(['get', 'pod', 'lonely']);
    expect(gone).to.deep.equal({ stdout: '', stderr: 'Error from server (NotFound): pods "lonely" not found\n', code: 1 });
    const byFile = await kubectl(['delete', '-f', 'web.yaml']);
    expect(byFile.stdout).to.equal('deployment.apps "web" deleted\nservice "web" deleted\n');
    expect((await kubectl(['delete', 'svc', 'web'])).stderr).to.equal('Error from server (NotFound): services "web" not found\n');
  });

  it('create: AlreadyExists is reported as kubectl words it', async () => {
    await fs.writeFile(path.join(dir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "1"\n');
    expect((await kubectl(['create', '-f', 'cm.yaml'])).stdout).to.equal('configmap/settings created\n');
    const dup = await kubectl(['create', '-f', 'cm.yaml']);
    expect(dup).to.deep.equal({ stdout: '', stderr: 'Error from server (AlreadyExists): error when creating "cm.yaml": configmaps "settings" already exists\n', code: 1 });
  });

  it('auth whoami prints the apiserver\'s view of the caller as kubectl does', async () => {
    const r = await kubectl(['auth', 'whoami'], undefined, 'proxy');
    const fingerprint = new X509Certificate(credential(pki, 'kube-proxy.conf').certPem).fingerprint256.replace(/:/g, '').toLowerCase();
    expect(r).to.deep.equal({
      stdout: [
        'ATTRIBUTE                                           VALUE',
        'Username                                            system:kube-proxy',
        'Groups                                              [system:node-proxier system:authenticated]',
        `Extra: authentication.kubernetes.io/credential-id   [X509SHA256=${fingerprint}]`, '',
      ].join('\n'),
      stderr: '', code: 0,
    });
  });

  it('auth can-i answers yes or no (exit 1) from a SelfSubjectAccessReview', async () => {
    expect(await kubectl(['auth', 'can-i', 'create', 'deployments'])).to.deep.equal({ stdout: 'yes\n', stderr: '', code: 0 });
    const no = await kubectl(['auth', 'can-i', 'create', 'pods'], undefined, 'proxy');
    expect(no.stdout).to.match(/^no\b/);
    expect(no.code).to.equal(1);
    expect((await kubectl(['auth', 'can-i', 'list', 'endpoints'], undefined, 'proxy')).stdout).to.equal('yes\n');
    const review = cp.recorder.events.find((e) => e.type === 'request' && e.path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    expect(review).to.include({ method: 'POST', status: 201 });
  });

  it('reports 403, 401 and x509 failures in kubectl\'s words, with exit code 1', async () => {
    const forbidden = await kubectl(['get', 'secrets'], undefined, 'proxy');
    expect(forbidden).to.deep.equal({
      stdout: '', code: 1,
      stderr: 'Error from server (Forbidden): secrets is forbidden: User "system:kube-proxy" cannot list resource "secrets" in API group "" in the namespace "default"\n',
    });
    expect(await kubectl(['get', 'pods'], undefined, 'stranger')).to.deep.equal({ stdout: '', stderr: 'error: You must be logged in to the server (Unauthorized)\n', code: 1 });
    expect(await kubectl(['get', 'pods'], undefined, 'wrongca')).to.deep.equal({ stdout: '', stderr: 'Unable to connect to the server: x509: certificate signed by unknown authority\n', code: 1 });
  });

  it('reports a server certificate without the dialled IP as Go\'s x509 does', async () => {
    // The apiserver's certificate on 127.0.0.1, which its SANs do not list (on purpose).
    const api = credential(pki, 'apiserver');
    const server = createTlsServer({ name: 'kube-apiserver', identity: { cert: api.certPem, key: api.keyPem }, clientCa: caPem(pki, 'ca'), mode: 'request' }, (_req, res) => { res.end('{}'); }, undefined);
    const addr = await listen(server, '127.0.0.1', 0, 'kube-apiserver');
    try {
      const file = path.join(dir, 'loopback.conf');
      const a = credential(pki, 'admin.conf');
      await fs.writeFile(file, renderKubeconfig({ server: `https://127.0.0.1:${addr.port}`, clusterName: 'kubernetes', user: 'kubernetes-admin', caPem: caPem(pki, 'ca'), certPem: a.certPem, keyPem: a.keyPem }));
      const r = await runKubectl(['--kubeconfig', file, 'get', 'pods'], { cwd: dir, env: {} });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/^Unable to connect to the server: x509: certificate is valid for .*\b127\.0\.1\.1\b.*, not 127\.0\.0\.1\n$/);
    } finally {
      await closeServer(server);
    }
  });

  it('finds the kubeconfig through $KUBECONFIG and .cluster/cluster.json, and says so when there is none', async () => {
    const viaEnv = await runKubectl(['get', 'ns', 'default', '-o', 'name'], { cwd: dir, env: { KUBECONFIG: kubeconfigs.admin } });
    expect(viaEnv.stdout).to.equal('namespace/default\n');
    const cluster = path.join(dir, 'repo', '.cluster');
    await fs.mkdir(path.join(dir, 'repo', 'sub'), { recursive: true });
    await fs.mkdir(cluster, { recursive: true });
    await fs.copyFile(kubeconfigs.admin ?? '', path.join(cluster, 'admin.conf'));
    await fs.writeFile(path.join(cluster, 'cluster.json'), JSON.stringify({ kubeconfigs: { admin: 'admin.conf' } }));
    const viaCluster = await runKubectl(['get', 'ns', 'kube-system', '-o', 'name'], { cwd: path.join(dir, 'repo', 'sub'), env: {} });
    expect(viaCluster.stdout).to.equal('namespace/kube-system\n');
    const none = await runKubectl(['get', 'pods'], { cwd: os.tmpdir(), env: {} });
    expect(none.code).to.equal(1);
    expect(none.stderr).to.match(/^error: no kubeconfig/);
    const unknownType = await kubectl(['get', 'widgets']);
    expect(unknownType).to.deep.equal({ stdout: '', stderr: 'error: the server doesn\'t have a resource type "widgets"\n', code: 1 });
  });
});
