/**
 * Real kubectl (the image's dispatcher, which picks kubectl 1.27–1.33 by the server's /version, and
 * Debian's kubectl 1.20) with the generated kubeconfigs against `npm run cluster`: each command's
 * output parsed as a user of a real cluster reads it.
 */
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { runKubectl } from '../components/kubectl/index.js';
import { foreignAdmin } from '../scenarios/tour.js';
import { renderKubeconfig } from '../pki/kubeconfig.js';
import { loadPki } from '../pki/store.js';
import { caPem } from '../pki/store.js';
import { webManifest } from '../test/helpers/manifests.js';
import { need, run, startSimCluster, table, tools, waitFor, type SimCluster, type Tool } from './helpers.js';

const pod = (ns: string, name: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  containers:
  - name: busybox
    image: busybox:1.36
`;

describe('real kubectl against npm run cluster', function () {
  this.timeout(180_000);
  let cluster: SimCluster | undefined;
  let work: string;

  before(async function () {
    if (!tools.kubectl.path && !tools.kubectl120.path) need(this, tools.kubectl, tools.kubectl120);
    cluster = await startSimCluster();
    work = path.join(cluster.dir, 'interop');
    await fs.mkdir(work);
  });

  after(async () => {
    await cluster?.stop();
  });

  const suites: Array<{ tool: Tool; ns: string }> = [
    { tool: tools.kubectl, ns: 'kubectl-current' },
    { tool: tools.kubectl120, ns: 'kubectl-120' },
    { tool: tools.kubectl133, ns: 'kubectl-133' },
  ];

  for (const { tool, ns } of suites) {
    describe(tool.label, () => {
      const kubectl = (args: string[], kubeconfig = cluster!.info.kubeconfigs.admin) => run(tool.path!, ['--kubeconfig', kubeconfig, ...args], { timeoutMs: 60_000 });
      const file = async (name: string, text: string): Promise<string> => {
        const p = path.join(work, `${ns}-${name}`);
        await fs.writeFile(p, text);
        return p;
      };

      before(function () {
        need(this, tool);
      });

      it('version: the client and the server v1.32', async () => {
        const r = await kubectl(['version']);
        expect(r.code, r.stderr).to.equal(0);
        // 1.27+: "Server Version: v1.32.5"; 1.20: "Server Version: version.Info{Major:"1", Minor:"32", GitVersion:"v1.32.5", ...}"
        expect(r.stdout).to.match(/Server Version: (v1\.32\.\d+|version\.Info\{Major:"1", Minor:"32", GitVersion:"v1\.32\.\d+")/);
        expect(r.stdout).to.match(/Client Version: /);
      });

      it('get nodes -o wide: the real columns, each node Ready on its own address', async () => {
        const r = await kubectl(['get', 'nodes', '-o', 'wide']);
        expect(r.code, r.stderr).to.equal(0);
        const t = table(r.stdout);
        expect(t.header).to.deep.equal(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
        expect(t.rows.map((row) => [row[0], row[1], row[5]])).to.deep.equal(
          Object.entries(cluster!.info.kubelets).map(([n, url]) => [n, 'Ready', new URL(url).hostname]));
      });

      it('create namespace, then apply -f a Deployment and a Service: created, unchanged, configured', async () => {
        const c = await kubectl(['create', 'namespace', ns]);
        expect(c.stdout.trim(), c.stderr).to.equal(`namespace/${ns} created`);
        const two = await file('app.yaml', webManifest({ namespace: ns, replicas: 2, image: 'nginx:1.25' }));
        const three = await file('app3.yaml', webManifest({ namespace: ns, replicas: 3, image: 'nginx:1.25' }));
        const first = await kubectl(['apply', '-f', two]);
        expect(first.stdout.trim().split('\n'), first.stderr).to.deep.equal(['deployment.apps/web created', 'service/web created']);
        const again = await kubectl(['apply', '-f', two]);
        expect(again.stdout.trim().split('\n'), again.stderr).to.deep.equal(['deployment.apps/web unchanged', 'service/web unchanged']);
        const scaled = await kubectl(['apply', '-f', three]);
        expect(scaled.stdout.trim().split('\n'), scaled.stderr).to.deep.equal(['deployment.apps/web configured', 'service/web unchanged']);
      });

      it('get pods -A -o wide: the Deployment\'s three pods Running on the nodes, with pod IPs', async () => {
        const t = await waitFor('three web pods Running', async () => {
          const r = await kubectl(['get', 'pods', '-A', '-o', 'wide']);
          if (r.code !== 0) throw new Error(r.stderr);
          const parsed = table(r.stdout);
          const mine = parsed.rows.filter((row) => row[0] === ns && row[1]?.startsWith('web-'));
          return mine.length === 3 && mine.every((row) => row[3] === 'Running') ? { ...parsed, mine } : undefined;
        }, 60_000, 300);
        expect(t.header).to.deep.equal(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
        for (const row of t.mine) {
          expect(row[2]).to.equal('1/1');
          expect(row[6]).to.match(/^10\.244\.\d+\.\d+$/);
          expect(Object.keys(cluster!.info.kubelets)).to.include(row[7]);
          expect(row[8]).to.equal('<none>');
        }
      });

      it('create -f: created, then AlreadyExists as a real apiserver says it', async () => {
        const f = await file('one.yaml', pod(ns, 'one'));
        const r = await kubectl(['create', '-f', f]);
        expect(r.stdout.trim(), r.stderr).to.equal('pod/one created');
        const again = await kubectl(['create', '-f', f]);
        expect(again.code).to.equal(1);
        expect(again.stderr.trim()).to.equal(`Error from server (AlreadyExists): error when creating "${f}": pods "one" already exists`);
      });

      it('create deployment|service|secret|serviceaccount|role|rolebinding|clusterrole|clusterrolebinding (protobuf from kubectl >= 1.32)', async () => {
        const lines: string[] = [];
        for (const args of [
          ['deployment', 'api', '--image=nginx:1.27', '--replicas=2'],
          ['service', 'clusterip', 'api', '--tcp=80:80'],
          ['service', 'externalname', 'docs', '--external-name=kubernetes.io'],
          ['secret', 'generic', 'creds', '--from-literal=user=admin'],
          ['serviceaccount', 'robot'],
          ['role', 'pod-reader', '--verb=get,list,watch', '--resource=pods'],
          ['rolebinding', 'pod-reader', '--role=pod-reader', `--serviceaccount=${ns}:robot`],
          ['clusterrole', `${ns}-node-reader`, '--verb=get,list', '--resource=nodes'],
          ['clusterrolebinding', `${ns}-node-reader`, `--clusterrole=${ns}-node-reader`, `--serviceaccount=${ns}:robot`],
        ]) {
          const r = await kubectl(['create', '-n', ns, ...args]);
          expect(r.code, `create ${args.join(' ')}: ${r.stderr}`).to.equal(0);
          lines.push(r.stdout.trim());
        }
        expect(lines).to.deep.equal([
          'deployment.apps/api created', 'service/api created', 'service/docs created', 'secret/creds created', 'serviceaccount/robot created',
          'role.rbac.authorization.k8s.io/pod-reader created', 'rolebinding.rbac.authorization.k8s.io/pod-reader created',
          `clusterrole.rbac.authorization.k8s.io/${ns}-node-reader created`, `clusterrolebinding.rbac.authorization.k8s.io/${ns}-node-reader created`,
        ]);
        const svc = table((await kubectl(['get', 'services', '-n', ns, 'docs'])).stdout);
        expect(svc.rows[0]?.slice(0, 5)).to.deep.equal(['docs', 'ExternalName', '<none>', 'kubernetes.io', '<none>']);
        const sa = `system:serviceaccount:${ns}:robot`;
        for (const [verb, what, answer] of [['list', 'pods', 'yes'], ['list', 'nodes', 'yes'], ['delete', 'pods', 'no']] as const) {
          const r = await kubectl(['auth', 'can-i', verb, what, '-n', ns, '--as', sa]);
          expect(r.stdout.trim(), `${verb} ${what}: ${r.stderr}`).to.equal(answer);
        }
      });

      it('certificate approve: a user\'s CSR (kube-apiserver-client) is approved, then issued by the controller-manager', async () => {
        const key = path.join(work, `${ns}-dana.key`);
        const req = path.join(work, `${ns}-dana.csr`);
        const o = await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-subj', `/CN=dana-${ns}/O=devs`, '-out', req]);
        expect(o.code, o.stderr).to.equal(0);
        const name = `dana-${ns}`;
        const f = await file('csr.yaml', [
          'apiVersion: certificates.k8s.io/v1', 'kind: CertificateSigningRequest', `metadata: {name: ${name}}`, 'spec:',
          `  request: ${(await fs.readFile(req)).toString('base64')}`, '  signerName: kubernetes.io/kube-apiserver-client', '  usages: [client auth]', '',
        ].join('\n'));
        expect((await kubectl(['create', '-f', f])).stdout.trim()).to.equal(`certificatesigningrequest.certificates.k8s.io/${name} created`);
        const approved = await kubectl(['certificate', 'approve', name]);
        expect(approved.stdout.trim(), approved.stderr).to.equal(`certificatesigningrequest.certificates.k8s.io/${name} approved`);
        const row = await waitFor('Approved,Issued', async () => {
          const t = table((await kubectl(['get', 'csr', name])).stdout);
          return t.rows[0]?.at(-1) === 'Approved,Issued' ? t.rows[0] : undefined;
        }, 30_000, 200);
        expect(row[2]).to.equal('kubernetes.io/kube-apiserver-client');
        expect(row[3]).to.equal('kubernetes-admin');
      });

      it('logs: the container\'s log through the apiserver and the kubelet', async () => {
        const r = await waitFor('pod one Running', async () => {
          const l = await kubectl(['logs', '-n', ns, 'one']);
          return l.code === 0 ? l : undefined;
        }, 30_000, 300);
        const lines = r.stdout.trim().split('\n');
        expect(lines[0]).to.match(/^Starting busybox \(image (docker\.io\/library\/)?busybox:1\.36\)$/);
      });

      it('get pods -w: the list, then a new pod\'s rows as it is scheduled and starts', async () => {
        const watcher = spawn(tool.path!, ['--kubeconfig', cluster!.info.kubeconfigs.admin, 'get', 'pods', '-n', ns, '-w'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        watcher.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
        const closed = new Promise<void>((resolve) => watcher.once('close', () => resolve()));
        try {
          await waitFor('the watch header', () => (out.startsWith('NAME ') ? true : undefined), 30_000);
          const c = await kubectl(['create', '-f', await file('two.yaml', pod(ns, 'two'))]);
          expect(c.code, c.stderr).to.equal(0);
          await waitFor('pod two Running in the watch', () => (/^two\s+1\/1\s+Running\s+0\s+/m.test(out) ? true : undefined), 30_000);
          const t = table(out);
          expect(t.header).to.deep.equal(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
          const states = t.rows.filter((row) => row[0] === 'two').map((row) => row[2]);
          expect(states[0]).to.equal('Pending');
          expect(states).to.include('Running');
        } finally {
          watcher.kill('SIGTERM');
          await closed;
        }
      });

      it('delete: the pod is deleted and then not found', async () => {
        const r = await kubectl(['delete', 'pod', '-n', ns, 'one']);
        expect(r.stdout.trim(), r.stderr).to.equal('pod "one" deleted');
        const g = await kubectl(['get', 'pod', '-n', ns, 'one']);
        expect(g.code).to.equal(1);
        expect(g.stderr.trim()).to.equal('Error from server (NotFound): pods "one" not found');
      });

      it('auth can-i: yes for kubernetes-admin, and the scheduler\'s own rights with scheduler.conf', async () => {
        const yes = async (args: string[], kubeconfig?: string): Promise<string> => {
          const r = await kubectl(['auth', 'can-i', ...args], kubeconfig);
          return `${r.stdout.trim()} (${r.code})`;
        };
        expect(await yes(['create', 'deployments', '-n', ns])).to.equal('yes (0)');
        expect(await yes(['*', '*'])).to.equal('yes (0)');
        const sched = cluster!.info.kubeconfigs.scheduler;
        expect(await yes(['create', 'pods', '--subresource=binding'], sched)).to.equal('yes (0)');
        expect(await yes(['list', 'nodes'], sched)).to.equal('yes (0)');
        expect(await yes(['delete', 'nodes'], sched)).to.equal('no (1)');
        expect(await yes(['create', 'deployments'], sched)).to.equal('no (1)');
      });

      // auth whoami came in kubectl 1.26: not asked of 1.20.
      if (tool !== tools.kubectl120) it('auth whoami: who the apiserver says each kubeconfig is, as our kubectl prints it', async () => {
        for (const kubeconfig of [cluster!.info.kubeconfigs.admin, cluster!.info.kubeconfigs.scheduler]) {
          const real = await kubectl(['auth', 'whoami'], kubeconfig);
          expect(real.code, real.stderr).to.equal(0);
          const ours = await runKubectl(['--kubeconfig', kubeconfig, 'auth', 'whoami']);
          expect(real.stdout).to.equal(ours.stdout);
          expect(real.stdout).to.match(/^Extra: authentication\.kubernetes\.io\/credential-id +\[X509SHA256=[0-9a-f]{64}\]$/m);
        }
      });

      it('get clusterroles: the bootstrap roles', async () => {
        const r = await kubectl(['get', 'clusterroles']);
        const t = table(r.stdout);
        expect(t.header).to.deep.equal(['NAME', 'CREATED AT']);
        const names = t.rows.map((row) => row[0]);
        expect(names).to.include.members(['admin', 'cluster-admin', 'edit', 'view', 'system:kube-scheduler', 'system:node', 'system:kube-controller-manager']);
        for (const row of t.rows) expect(row[1]).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      });

      it('delete -f: the Deployment and the Service', async () => {
        const r = await kubectl(['delete', '-f', path.join(work, `${ns}-app3.yaml`)]);
        expect(r.stdout.trim().split('\n'), r.stderr).to.deep.equal(['deployment.apps "web" deleted', 'service "web" deleted']);
      });

      it('a client certificate from a foreign CA: "You must be logged in to the server (Unauthorized)" at once', async () => {
        const pki = await loadPki(cluster!.info.pkiDir);
        const foreign = await foreignAdmin(pki);
        const kc = await file('foreign.conf', renderKubeconfig({ server: cluster!.info.apiserver, clusterName: 'kubernetes', user: 'kubernetes-admin', caPem: caPem(pki, 'ca'), certPem: foreign.cert, keyPem: foreign.key }));
        const r = await kubectl(['get', 'pods'], kc);
        expect(r.code).to.equal(1);
        expect(r.stderr.trim().split('\n').at(-1)).to.equal('error: You must be logged in to the server (Unauthorized)');
        expect(r.ms, 'no retries').to.be.below(10_000);
      });

      it('a kubeconfig naming an address missing from the SANs: the x509 error', async () => {
        // A plain TCP forwarder on 127.0.0.1 to the apiserver: kubectl dials 127.0.0.1 and gets the
        // apiserver's certificate, which names 127.0.1.1 (the advertise address) but not 127.0.0.1.
        const target = new URL(cluster!.info.apiserver);
        const sockets = new Set<Socket>();
        const forwarder: Server = createServer((a) => {
          const b = connect(Number(target.port), target.hostname);
          sockets.add(a).add(b);
          a.pipe(b).pipe(a);
          a.on('error', () => b.destroy());
          b.on('error', () => a.destroy());
        });
        await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
        const port = (forwarder.address() as { port: number }).port;
        try {
          const admin = await fs.readFile(cluster!.info.kubeconfigs.admin, 'utf8');
          const kc = await file('san.conf', admin.replace(/server: \S+/, `server: https://127.0.0.1:${port}`));
          const r = await kubectl(['get', 'pods'], kc);
          expect(r.code).to.equal(1);
          expect(r.stderr).to.match(/Unable to connect to the server: (tls: failed to verify certificate: )?x509: certificate is valid for 10\.96\.0\.1, 127\.0\.1\.1, not 127\.0\.0\.1/);
        } finally {
          for (const s of sockets) s.destroy();
          await new Promise((resolve) => forwarder.close(resolve));
        }
      });
    });
  }
});
