/**
 * Real kubectl's server-side apply (create, update, conflict, --force-conflicts) and `kubectl drain`
 * (cordon, list by spec.nodeName, pods/eviction with a PodDisruptionBudget) against `npm run cluster`,
 * with the image's dispatcher, kubectl 1.33 and Debian's 1.20; and @kubernetes/client-node's apply.
 */
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { need, run, startSimCluster, tools, waitFor, type SimCluster, type Tool } from './helpers.js';

const deployment = (ns: string, replicas: number): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ssa
  namespace: ${ns}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ssa}}
  template:
    metadata: {labels: {app: ssa}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
`;

describe('real kubectl: apply --server-side and drain against npm run cluster', function () {
  this.timeout(240_000);
  let cluster: SimCluster | undefined;
  let work: string;

  before(async function () {
    if (!tools.kubectl.path && !tools.kubectl120.path && !tools.kubectl133.path) need(this, tools.kubectl, tools.kubectl133, tools.kubectl120);
    cluster = await startSimCluster();
    work = path.join(cluster.dir, 'interop');
    await fs.mkdir(work);
  });
  after(async () => { await cluster?.stop(); });

  const suites: Array<{ tool: Tool; ns: string }> = [
    { tool: tools.kubectl, ns: 'ssa-current' },
    { tool: tools.kubectl133, ns: 'ssa-133' },
    { tool: tools.kubectl120, ns: 'ssa-120' },
  ];
  for (const { tool, ns } of suites) {
    describe(tool.label, () => {
      const kubectl = (args: string[]) => run(tool.path!, ['--kubeconfig', cluster!.info.kubeconfigs.admin, ...args], { timeoutMs: 90_000 });
      const file = async (name: string, text: string): Promise<string> => {
        const p = path.join(work, `${ns}-${name}`);
        await fs.writeFile(p, text);
        return p;
      };
      before(async function () {
        need(this, tool);
        const r = await kubectl(['create', 'namespace', ns]);
        expect(r.code, r.stderr).to.equal(0);
      });

      it('apply --server-side: creates, updates, refuses a conflict naming the manager and field, takes it with --force-conflicts', async () => {
        const created = await kubectl(['apply', '--server-side', '-f', await file('d2.yaml', deployment(ns, 2))]);
        expect(created.code, created.stderr).to.equal(0);
        expect(created.stdout.trim()).to.equal('deployment.apps/ssa serverside-applied');
        const updated = await kubectl(['apply', '--server-side', '-f', await file('d3.yaml', deployment(ns, 3))]);
        expect(updated.code, updated.stderr).to.equal(0);
        const mf = await kubectl(['get', 'deploy', 'ssa', '-n', ns, '-o', 'jsonpath={.metadata.managedFields[0].manager}/{.metadata.managedFields[0].operation}/{.spec.replicas}']);
        expect(mf.stdout).to.equal('kubectl/Apply/3');
        // Another manager (a merge patch as kubectl-client-side-apply) takes spec.replicas.
        const patched = await kubectl(['patch', 'deploy', 'ssa', '-n', ns, '--type=merge', '-p', '{"spec":{"replicas":4}}', '--field-manager=kubectl-client-side-apply']);
        expect(patched.code, patched.stderr).to.equal(0);
        const conflict = await kubectl(['apply', '--server-side', '-f', path.join(work, `${ns}-d3.yaml`)]);
        expect(conflict.code).to.equal(1);
        expect(conflict.stderr).to.include('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
        const forced = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', path.join(work, `${ns}-d3.yaml`)]);
        expect(forced.code, forced.stderr).to.equal(0);
        const after = await kubectl(['get', 'deploy', 'ssa', '-n', ns, '-o', 'jsonpath={.spec.replicas} {.metadata.managedFields[*].manager}']);
        expect(after.stdout).to.equal('3 kubectl kube-controller-manager');
      });

      it('drain: cordons, evicts the node\'s pods through pods/eviction, refuses while a budget forbids it', async () => {
        // Wait until the Deployment's pods run, then drain the node of one of them.
        const node = await waitFor('three running pods', async () => {
          const r = await kubectl(['get', 'pods', '-n', ns, '-l', 'app=ssa', '-o', 'jsonpath={range .items[*]}{.spec.nodeName}={.status.phase} {end}']);
          const running = r.stdout.trim().split(' ').filter((x) => x.endsWith('=Running'));
          return running.length === 3 ? running[0]!.split('=')[0] : undefined;
        }, 60_000, 200);
        const pdb = await kubectl(['apply', '-f', await file('pdb.yaml', `apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: ssa, namespace: ${ns}}\nspec:\n  minAvailable: 3\n  selector: {matchLabels: {app: ssa}}\n`)]);
        expect(pdb.code, pdb.stderr).to.equal(0);
        const blocked = await kubectl(['drain', node!, '--ignore-daemonsets', '--delete-emptydir-data', '--pod-selector=app=ssa', '--timeout=6s']);
        expect(blocked.stdout + blocked.stderr).to.include("Cannot evict pod as it would violate the pod's disruption budget.");
        const del = await kubectl(['delete', 'pdb', 'ssa', '-n', ns]);
        expect(del.code, del.stderr).to.equal(0);
        const drained = await kubectl(['drain', node!, '--ignore-daemonsets', '--delete-emptydir-data', '--pod-selector=app=ssa', '--timeout=60s']);
        expect(drained.code, drained.stderr).to.equal(0);
        expect(drained.stdout).to.match(new RegExp(`node/${node} (cordoned|already cordoned)`));
        expect(drained.stdout).to.match(/pod\/ssa-[a-z0-9]+-[a-z0-9]+ evicted/);
        expect(drained.stdout).to.match(new RegExp(`node/${node} (drained|evicted)`));
        const unsched = await kubectl(['get', 'node', node!, '-o', 'jsonpath={.spec.unschedulable}']);
        expect(unsched.stdout).to.equal('true');
        const left = await kubectl(['get', 'pods', '-n', ns, '-l', 'app=ssa', `--field-selector=spec.nodeName=${node!}`, '-o', 'name']);
        expect(left.stdout.trim()).to.equal('');
        const un = await kubectl(['uncordon', node!]);
        expect(un.code, un.stderr).to.equal(0);
      });
    });
  }

  it('@kubernetes/client-node: server-side apply through KubernetesObjectApi.patch with fieldManager and force', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster!.info.kubeconfigs.admin);
    const api = k8s.KubernetesObjectApi.makeApiClient(kc);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa-node', namespace: 'default' }, data: { a: '1' } };
    const created = await api.patch(cm, undefined, undefined, 'client-node', undefined, k8s.PatchStrategy.ServerSideApply);
    expect((created.metadata as { managedFields?: object[] }).managedFields?.[0]).to.deep.include({ manager: 'client-node', operation: 'Apply', fieldsV1: { 'f:data': { 'f:a': {} } } });
    await api.patch({ ...cm, data: { a: '2' } }, undefined, undefined, 'other', undefined, k8s.PatchStrategy.MergePatch);
    let status = 0;
    try {
      await api.patch(cm, undefined, undefined, 'client-node', false, k8s.PatchStrategy.ServerSideApply);
    } catch (err) {
      status = (err as { code?: number }).code ?? 0;
    }
    expect(status).to.equal(409);
    const forced = await api.patch(cm, undefined, undefined, 'client-node', true, k8s.PatchStrategy.ServerSideApply);
    expect((forced as { data?: Record<string, string> }).data).to.deep.equal({ a: '1' });
  });
});
