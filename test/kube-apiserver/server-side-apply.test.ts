import { expect } from 'chai';
import { resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import type { ManagedFieldsEntry } from '../../components/kube-apiserver/managed-fields.js';
import { issuePki, type Pki } from '../../pki/store.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

type Obj = { metadata: { managedFields?: ManagedFieldsEntry[]; labels?: Record<string, string> }; spec?: Record<string, unknown>; data?: Record<string, string> };
const deploys = (name?: string): string => resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default', ...(name ? { name } : {}) });
const cms = (name?: string): string => resourcePath({ resource: 'configmaps', namespace: 'default', ...(name ? { name } : {}) });
const APPLY = 'application/apply-patch+yaml';

const deployment = (replicas: number, image = 'nginx:1.27'): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: ${image}
        ports: [{containerPort: 80}]
`;

describe('kube-apiserver: server-side apply and managedFields', function () {
  this.timeout(90_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  const json = (body: string): Obj => JSON.parse(body) as Obj;
  const entry = (o: Obj, manager: string): ManagedFieldsEntry | undefined => o.metadata.managedFields?.find((m) => m.manager === manager);

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
  });
  after(async () => { await cp?.stop(); });

  it('refuses an apply without fieldManager (422 on PatchOptions) and force on a non-apply patch', async () => {
    const r = await admin.raw('PATCH', deploys('web'), deployment(1), APPLY);
    expect(r.status, r.body).to.equal(422);
    expect(JSON.parse(r.body).message).to.equal('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const f = await admin.raw('PATCH', `${cms('x')}?force=true`, '{}', 'application/merge-patch+json');
    expect(f.status).to.equal(422);
  });

  it('creates on apply (201) with one Apply entry whose FieldsV1 is the applied configuration, keyed lists by their keys', async () => {
    const r = await admin.raw('PATCH', `${deploys('web')}?fieldManager=kubectl`, deployment(2), APPLY);
    expect(r.status, r.body).to.equal(201);
    const o = json(r.body);
    expect(o.metadata.managedFields).to.have.length(1);
    const e = entry(o, 'kubectl')!;
    expect(e).to.deep.include({ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1' });
    expect(e.time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(e.fieldsV1).to.deep.equal({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:replicas': {}, 'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } } },
        },
      },
    });
  });

  it('records an Update entry for a non-apply write, manager from fieldManager or the User-Agent, taking the changed field', async () => {
    const r = await admin.raw('PATCH', `${deploys('web')}?fieldManager=kubectl-client-side-apply`, JSON.stringify({ spec: { replicas: 3 } }), 'application/merge-patch+json');
    expect(r.status, r.body).to.equal(200);
    const o = json(r.body);
    expect(entry(o, 'kubectl-client-side-apply')).to.deep.include({ operation: 'Update', apiVersion: 'apps/v1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
    expect((entry(o, 'kubectl')!.fieldsV1['f:spec'] as Record<string, unknown>)['f:replicas']).to.equal(undefined);
    expect(o.metadata.managedFields!.map((m) => m.operation)).to.deep.equal(['Apply', 'Update']);
    const c = await admin.raw('POST', cms(), JSON.stringify({ metadata: { name: 'ua', labels: { a: 'b' } }, data: { k: 'v' } }));
    const created = json(c.body);
    expect(created.metadata.managedFields).to.have.length(1);
    expect(created.metadata.managedFields![0]).to.deep.include({ operation: 'Update', apiVersion: 'v1' });
    expect(created.metadata.managedFields![0]!.manager).to.be.a('string').and.not.include('/');
    expect(created.metadata.managedFields![0]!.fieldsV1).to.deep.equal({
      'f:data': { '.': {}, 'f:k': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:a': {} } },
    });
  });

  it('answers a conflicting apply with 409 naming the manager and field, and takes the field with force=true', async () => {
    const r = await admin.raw('PATCH', `${deploys('web')}?fieldManager=kubectl`, deployment(5), APPLY);
    expect(r.status, r.body).to.equal(409);
    const s = JSON.parse(r.body) as { reason: string; message: string; details: { causes: unknown[] } };
    expect(s.reason).to.equal('Conflict');
    expect(s.message).to.equal('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect(s.details.causes).to.deep.equal([{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }]);
    // The same value is no conflict: both own it.
    const same = await admin.raw('PATCH', `${deploys('web')}?fieldManager=kubectl`, deployment(3), APPLY);
    expect(same.status, same.body).to.equal(200);
    const forced = await admin.raw('PATCH', `${deploys('web')}?fieldManager=kubectl&force=true`, deployment(5), APPLY);
    expect(forced.status, forced.body).to.equal(200);
    const o = json(forced.body);
    expect(o.spec?.replicas).to.equal(5);
    expect(entry(o, 'kubectl-client-side-apply')).to.equal(undefined);
  });

  it('removes a field the manager stops applying when no other manager owns it', async () => {
    const withLabel = deployment(5).replace('labels: {app: web}\nspec', 'labels: {app: web, tier: front}\nspec');
    const a = await admin.raw('PATCH', `${deploys('web')}?fieldManager=kubectl`, withLabel, APPLY);
    expect(json(a.body).metadata.labels).to.deep.equal({ app: 'web', tier: 'front' });
    const b = await admin.raw('PATCH', `${deploys('web')}?fieldManager=kubectl`, deployment(5), APPLY);
    expect(json(b.body).metadata.labels).to.deep.equal({ app: 'web' });
  });
});
