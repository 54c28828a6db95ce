/**
 * The kubectl commands people script, against `npm run cluster`, as a real cluster answers them:
 * wait --for=condition (Deployment Available, Pod Ready), rollout status, describe (the conditions
 * the controllers and kubelets write), auth can-i --list (SelfSubjectRulesReview, protobuf from
 * kubectl >= 1.32) for an admin, a node and the scheduler, and get componentstatuses with its warning.
 * Each with the image's dispatcher (1.32 for this server), kubectl 1.33, and Debian's 1.20.
 */
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { need, run, startSimCluster, table, tools, type SimCluster, type Tool } from './helpers.js';

describe('kubectl wait, rollout status, describe, auth can-i --list, get cs against npm run cluster', function () {
  this.timeout(180_000);
  let cluster: SimCluster | undefined;
  let nodeConf: string;

  before(async function () {
    if (!tools.kubectl.path && !tools.kubectl120.path && !tools.kubectl133.path) need(this, tools.kubectl, tools.kubectl120, tools.kubectl133);
    cluster = await startSimCluster();
    // node-1's kubelet.conf, naming the apiserver where it really listens.
    const text = await fs.readFile(path.join(cluster.dir, 'nodes', 'node-1', 'kubelet.conf'), 'utf8');
    nodeConf = path.join(cluster.dir, 'node-1-kubelet.conf');
    await fs.writeFile(nodeConf, text.replace(/server: \S+/, `server: ${cluster.info.apiserver}`), { mode: 0o600 });
  });

  after(async () => {
    await cluster?.stop();
  });

  const suites: Array<{ tool: Tool; ns: string }> = [
    { tool: tools.kubectl, ns: 'strict-current' },
    { tool: tools.kubectl133, ns: 'strict-133' },
    { tool: tools.kubectl120, ns: 'strict-120' },
  ];

  for (const { tool, ns } of suites) {
    describe(tool.label, () => {
      const kubectl = (args: string[], kubeconfig = cluster!.info.kubeconfigs.admin) => run(tool.path!, ['--kubeconfig', kubeconfig, ...args], { timeoutMs: 60_000 });

      before(async function () {
        need(this, tool);
        const r = await kubectl(['create', 'namespace', ns]);
        expect(r.code, r.stderr).to.equal(0);
      });

      it('wait --for=condition=Available on a new Deployment, then rollout status says it rolled out', async () => {
        const c = await kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3']);
        expect(c.code, c.stderr).to.equal(0);
        const w = await kubectl(['-n', ns, 'wait', '--for=condition=Available', 'deploy/web', '--timeout=60s']);
        expect(w.stdout.trim(), w.stderr).to.equal('deployment.apps/web condition met');
        const r = await kubectl(['-n', ns, 'rollout', 'status', 'deploy/web', '--timeout=60s']);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout.trim().split('\n').at(-1)).to.equal('deployment "web" successfully rolled out');
      });

      it('wait --for=condition=Ready pod -l app=web: every pod of it', async () => {
        const r = await kubectl(['-n', ns, 'wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=60s']);
        expect(r.code, r.stderr).to.equal(0);
        const lines = r.stdout.trim().split('\n');
        expect(lines).to.have.length(3);
        for (const l of lines) expect(l).to.match(/^pod\/web-[a-z0-9]+-[a-z0-9]{5} condition met$/);
      });

      it('describe deploy: strategy, the Available and Progressing conditions with their reasons, the new ReplicaSet', async () => {
        const r = await kubectl(['-n', ns, 'describe', 'deploy/web']);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.match(/^Annotations: +deployment\.kubernetes\.io\/revision: 1$/m);
        expect(r.stdout).to.match(/^Replicas: +3 desired \| 3 updated \| 3 total \| 3 available \| 0 unavailable$/m);
        expect(r.stdout).to.match(/^StrategyType: +RollingUpdate$/m);
        expect(r.stdout).to.match(/^RollingUpdateStrategy: +25% max unavailable, 25% max surge$/m);
        expect(r.stdout).to.match(/^ {2}Available +True +MinimumReplicasAvailable$/m);
        expect(r.stdout).to.match(/^ {2}Progressing +True +NewReplicaSetAvailable$/m);
        expect(r.stdout).to.match(/^NewReplicaSet: +web-[a-z0-9]+ \(3\/3 replicas created\)$/m);
      });

      it('describe pod: Running, the five conditions True, the container started with its containerd ID', async () => {
        const pods = await kubectl(['-n', ns, 'get', 'pods', '-l', 'app=web', '-o', 'name']);
        const name = pods.stdout.trim().split('\n')[0]!;
        const r = await kubectl(['-n', ns, 'describe', name]);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.match(/^Status: +Running$/m);
        expect(r.stdout).to.match(/^ {4}Container ID: +containerd:\/\/[0-9a-f]{64}$/m);
        expect(r.stdout).to.match(/^ {4}State: +Running\n {6}Started: +\w{3}, \d\d \w{3} \d{4} /m);
        expect(r.stdout).to.match(/^ {4}Ready: +True\n {4}Restart Count: +0$/m);
        const conditions = /^Conditions:\n {2}Type +Status *\n((?: {2}\S+ +\S+ *\n)+)/m.exec(r.stdout)?.[1] ?? '';
        const rows = conditions.trim().split('\n').map((l) => l.trim().split(/\s+/));
        // kubectl 1.20 predates PodReadyToStartContainers; it prints what the pod carries all the same.
        expect(rows).to.deep.equal([['PodReadyToStartContainers', 'True'], ['Initialized', 'True'], ['Ready', 'True'], ['ContainersReady', 'True'], ['PodScheduled', 'True']]);
      });

      it('auth can-i --list: the rules RBAC stores for the admin, the scheduler, and a node (incomplete, with the Node authorizer\'s words)', async () => {
        const admin = await kubectl(['auth', 'can-i', '--list']);
        expect(admin.code, admin.stderr).to.equal(0);
        const a = table(admin.stdout);
        expect(a.header).to.deep.equal(['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs']);
        expect(a.rows[0]).to.deep.equal(['*.*', '[]', '[]', '[*]']);
        expect(a.rows.some((row) => row.join(' ') === '[*] [] [*]'), 'cluster-admin\'s non-resource rule').to.equal(true);

        const sched = await kubectl(['auth', 'can-i', '--list'], cluster!.info.kubeconfigs.scheduler);
        expect(sched.code, sched.stderr).to.equal(0);
        const s = table(sched.stdout).rows.map((row) => row.join(' '));
        expect(s).to.include('pods/binding [] [] [create]');
        expect(s).to.include('bindings [] [] [create]');
        expect(s.some((row) => /^leases\.coordination\.k8s\.io \[\] \[kube-scheduler\] \[.*\bupdate\b.*\]$/.test(row))).to.equal(true);
        expect(s.some((row) => row.startsWith('*.*'))).to.equal(false);

        const node = await kubectl(['auth', 'can-i', '--list'], nodeConf);
        expect(node.code, node.stderr).to.equal(0);
        expect(node.stderr).to.match(/the list may be incomplete: node authorizer does not support user rule resolution/i);
        const n = table(node.stdout).rows.map((row) => row.join(' '));
        expect(n).to.include('certificatesigningrequests.certificates.k8s.io/selfnodeclient [] [] [create]');
        expect(n).to.include('selfsubjectaccessreviews.authorization.k8s.io [] [] [create]');
      });

      it('get componentstatuses (and cs): etcd-0 Healthy ok, the deprecation warning, the others as 1.32 probes them', async () => {
        for (const what of ['componentstatuses', 'cs']) {
          const r = await kubectl(['get', what]);
          expect(r.code, r.stderr).to.equal(0);
          expect(r.stderr).to.include('Warning: v1 ComponentStatus is deprecated in v1.19+');
          const t = table(r.stdout);
          expect(t.header).to.deep.equal(['NAME', 'STATUS', 'MESSAGE', 'ERROR']);
          expect(t.rows.map((row) => row[0])).to.deep.equal(['controller-manager', 'scheduler', 'etcd-0']);
          expect(t.rows[2]).to.deep.equal(['etcd-0', 'Healthy', 'ok']);
          // The controller-manager's and scheduler's secure ports answer /healthz to anyone; the apiserver probes them unverified.
          expect(t.rows[0]).to.deep.equal(['controller-manager', 'Healthy', 'ok']);
          expect(t.rows[1]).to.deep.equal(['scheduler', 'Healthy', 'ok']);
        }
        const one = await kubectl(['get', 'cs', 'etcd-0', '-o', 'json']);
        expect(JSON.parse(one.stdout)).to.deep.equal({ apiVersion: 'v1', kind: 'ComponentStatus', metadata: { creationTimestamp: null, name: 'etcd-0' }, conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }] });
      });
    });
  }
});
