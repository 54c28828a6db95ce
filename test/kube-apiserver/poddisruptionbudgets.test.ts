import { expect } from 'chai';
import { resourcePath, type ApiError, type KubeClient } from '../../components/client/kube-client.js';
import { resolveType, resourceByName } from '../../components/api/resources.js';
import type { PodDisruptionBudget } from '../../components/api/policy.js';
import { storageKey } from '../../components/kube-apiserver/routes.js';
import { printTable } from '../../components/kubectl/printers.js';
import { issuePki, type Pki } from '../../pki/store.js';
import { apiError } from '../helpers/api-error.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

const pdbs = (name?: string, subresource?: string): string =>
  resourcePath({ group: 'policy', resource: 'poddisruptionbudgets', namespace: 'default', ...(name ? { name } : {}), ...(subresource ? { subresource } : {}) });

const pdb = (name: string, spec: PodDisruptionBudget['spec']): PodDisruptionBudget => ({
  apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
});

const causes = (e: ApiError): string[] => (e.status?.details?.causes ?? []).map((c) => `${c.field ?? ''}: ${c.message ?? ''}`);

describe('kube-apiserver: policy/v1 poddisruptionbudgets (the "new REST resource" recipe)', function () {
  this.timeout(30_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
  });
  after(async () => { await cp?.stop(); });

  it('is in API discovery with its short name and status subresource, stored under poddisruptionbudgets', async () => {
    const groups = JSON.parse((await admin.raw('GET', '/apis')).body) as { groups: { name: string; preferredVersion: { groupVersion: string } }[] };
    expect(groups.groups.find((g) => g.name === 'policy')?.preferredVersion.groupVersion).to.equal('policy/v1');
    const list = JSON.parse((await admin.raw('GET', '/apis/policy/v1')).body) as { resources: { name: string; namespaced: boolean; kind: string; shortNames?: string[] }[] };
    expect(list.resources.map((r) => r.name)).to.deep.equal(['poddisruptionbudgets', 'poddisruptionbudgets/status']);
    expect(list.resources[0]).to.deep.include({ namespaced: true, kind: 'PodDisruptionBudget', shortNames: ['pdb'] });
    expect(storageKey(resourceByName('poddisruptionbudgets', 'policy'), 'default', 'web')).to.equal('/registry/poddisruptionbudgets/default/web');
    expect(resolveType('pdb')?.resource).to.equal('poddisruptionbudgets');
  });

  it('creates a budget with generation 1 and the status the disruption controller has not yet written', async () => {
    const created = await admin.create<PodDisruptionBudget>(pdbs(), { ...pdb('web', { minAvailable: 2 }), status: { disruptionsAllowed: 5, currentHealthy: 5, desiredHealthy: 0, expectedPods: 5 } });
    expect(created.metadata.generation).to.equal(1);
    expect(created.spec.minAvailable).to.equal(2);
    expect(created.status).to.deep.equal({ disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
  });

  it('keeps status on a main-resource update and counts spec changes as generations; /status writes status only', async () => {
    const old = await admin.get<PodDisruptionBudget>(pdbs('web'));
    const updated = await admin.update<PodDisruptionBudget>(pdbs('web'), { ...old, spec: { ...old.spec, minAvailable: '50%' }, status: { ...old.status!, disruptionsAllowed: 9 } });
    expect(updated.metadata.generation).to.equal(2);
    expect(updated.status?.disruptionsAllowed).to.equal(0);
    const status = await admin.update<PodDisruptionBudget>(pdbs('web', 'status'), { ...updated, spec: { ...updated.spec, minAvailable: 1 }, status: { ...updated.status!, disruptionsAllowed: 1, observedGeneration: 2 } });
    expect(status.status?.disruptionsAllowed).to.equal(1);
    expect(status.spec.minAvailable).to.equal('50%');
    expect(status.metadata.generation).to.equal(2);
  });

  it('refuses minAvailable with maxUnavailable, a bad percentage, a negative count and a malformed selector (422 Invalid)', async () => {
    const both = await apiError(admin.create(pdbs(), pdb('both', { minAvailable: 1, maxUnavailable: 1 })));
    expect(both.reason).to.equal('Invalid');
    expect(causes(both).join('\n')).to.match(/^spec: Invalid value: .*minAvailable and maxUnavailable cannot be both set$/);
    const percent = await apiError(admin.create(pdbs(), pdb('percent', { maxUnavailable: '150%' })));
    expect(causes(percent)).to.deep.equal(['spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%']);
    const negative = await apiError(admin.create(pdbs(), pdb('negative', { minAvailable: -1 })));
    expect(causes(negative)).to.deep.equal(['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']);
    const selector = await apiError(admin.create(pdbs(), pdb('selector', { minAvailable: 1, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] } })));
    expect(causes(selector)).to.deep.equal(["spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"]);
  });

  it('prints as `kubectl get pdb` does: a Table from the apiserver and the same columns in kubectl', async () => {
    const res = await admin.raw('GET', pdbs(), undefined, undefined, 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json');
    const table = JSON.parse(res.body) as { columnDefinitions: { name: string; type: string }[]; rows: { cells: unknown[] }[] };
    expect(table.columnDefinitions.map((c) => c.name)).to.deep.equal(['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age']);
    expect(table.rows.map((r) => r.cells.slice(0, 4))).to.deep.equal([['web', '50%', 'N/A', 1]]);
    const web = await admin.get<PodDisruptionBudget>(pdbs('web'));
    const now = new Date(Date.parse(web.metadata.creationTimestamp!) + 10_000);
    expect(printTable(resolveType('pdb')!, [web], { now })).to.equal(
      'NAME   MIN AVAILABLE   MAX UNAVAILABLE   ALLOWED DISRUPTIONS   AGE\n' +
      'web    50%             N/A               1                     10s\n');
  });
});
