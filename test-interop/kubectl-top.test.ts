/**
 * Real kubectl top and get apiservices against `npm run cluster` (metrics-server on by default): the
 * aggregator's proxy with front-proxy-client, metrics-server's delegated authentication and its
 * scrapes of the kubelets, as the three kubectl versions of the image see them.
 */
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { need, run, startSimCluster, table, tools, waitFor, type SimCluster } from './helpers.js';

describe('kubectl top and get apiservices against npm run cluster', function () {
  this.timeout(180_000);
  let cluster: SimCluster | undefined;

  before(async function () {
    if (!tools.kubectl.path && !tools.kubectl120.path) need(this, tools.kubectl, tools.kubectl120);
    cluster = await startSimCluster(['--ephemeral']);
    const f = path.join(cluster.dir, 'top-pod.yaml');
    await fs.writeFile(f, 'apiVersion: v1\nkind: Pod\nmetadata: {name: top-me, namespace: default}\nspec:\n  containers:\n  - {name: app, image: nginx:1.27}\n');
    const k = tools.kubectl.path ?? tools.kubectl120.path!;
    const r = await run(k, ['--kubeconfig', cluster.info.kubeconfigs.admin, 'apply', '-f', f]);
    expect(r.code, r.stderr).to.equal(0);
  });

  after(async () => { await cluster?.stop(); });

  for (const tool of [tools.kubectl, tools.kubectl133, tools.kubectl120]) {
    describe(tool.label, () => {
      const kubectl = (args: string[]) => run(tool.path!, ['--kubeconfig', cluster!.info.kubeconfigs.admin, ...args], { timeoutMs: 60_000 });
      before(function () { need(this, tool); });

      it('get apiservices: v1beta1.metrics.k8s.io served by kube-system/metrics-server, Available', async () => {
        const row = await waitFor('v1beta1.metrics.k8s.io to be Available', async () => {
          const t = table((await kubectl(['get', 'apiservices'])).stdout);
          const r = t.rows.find((x) => x[0] === 'v1beta1.metrics.k8s.io');
          return r?.[2] === 'True' ? { header: t.header, row: r, local: t.rows.find((x) => x[0] === 'v1.apps') } : undefined;
        }, 30_000, 500);
        expect(row.header).to.deep.equal(['NAME', 'SERVICE', 'AVAILABLE', 'AGE']);
        expect(row.row.slice(0, 3)).to.deep.equal(['v1beta1.metrics.k8s.io', 'kube-system/metrics-server', 'True']);
        expect(row.local?.slice(0, 3)).to.deep.equal(['v1.apps', 'Local', 'True']);
      });

      it('top nodes: every node with CPU in millicores and memory in Mi', async () => {
        const t = await waitFor('kubectl top nodes', async () => {
          const r = await kubectl(['top', 'nodes']);
          const parsed = table(r.stdout);
          return r.code === 0 && parsed.rows.length === Object.keys(cluster!.info.kubelets).length && parsed.rows.every((x) => /^\d+m$/.test(x[1] ?? '')) ? parsed : undefined;
        }, 30_000, 500);
        expect(t.header.slice(0, 2)).to.deep.equal(['NAME', 'CPU(cores)']);
        expect(t.rows.map((r) => r[0]).sort()).to.deep.equal(Object.keys(cluster!.info.kubelets).sort());
        for (const r of t.rows) expect(r[3]).to.match(/^\d+Mi$/);
      });

      it('top pods -A: the pod with its usage', async () => {
        const t = await waitFor('kubectl top pods -A to list top-me', async () => {
          const r = await kubectl(['top', 'pods', '-A']);
          const parsed = table(r.stdout);
          return parsed.rows.some((x) => x[1] === 'top-me') ? parsed : undefined;
        }, 30_000, 500);
        expect(t.header).to.deep.equal(['NAMESPACE', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
        const row = t.rows.find((x) => x[1] === 'top-me')!;
        expect(row[0]).to.equal('default');
        expect(row[2]).to.match(/^\d+m$/);
        expect(row[3]).to.match(/^\d+Mi$/);
      });
    });
  }
});
