import { expect } from 'chai';
import { KubeClient, resourcePath } from '../../components/client/kube-client.js';
import type { KubeObject, PolicyRule } from '../../components/api/types.js';
import { caPem, issuePki, type Pki } from '../../pki/store.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { compactRules, compactString, covers, goQuote } from '../../components/kube-apiserver/auth/escalation.js';
import { apiError } from '../helpers/api-error.js';

const RBAC = 'rbac.authorization.k8s.io';
const NS = 'team';
const rbac = (resource: string, namespace?: string, name?: string): string => resourcePath({ group: RBAC, resource, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) });

const role = (name: string, rules: PolicyRule[]): KubeObject => ({ apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name }, rules } as KubeObject);
const clusterRole = (name: string, rules: PolicyRule[], extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name }, rules, ...extra } as KubeObject);
const binding = (kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, roleRef: { kind: 'Role' | 'ClusterRole'; name: string }, subjects: { kind: string; name: string; namespace?: string }[]): KubeObject =>
  ({ apiVersion: `${RBAC}/v1`, kind, metadata: { name }, roleRef: { apiGroup: RBAC, ...roleRef }, subjects } as KubeObject);
const sa = (name: string): { kind: string; name: string; namespace: string } => ({ kind: 'ServiceAccount', name, namespace: NS });

/** Go's %q of a []string, as the escalation message prints the groups. */
const SA_GROUPS = '["system:serviceaccounts" "system:serviceaccounts:team" "system:authenticated"]';
const held = (user: string): string => `user "system:serviceaccount:${NS}:${user}" (groups=${SA_GROUPS}) is attempting to grant RBAC permissions not currently held:\n`;

describe('RBAC escalation prevention (roles, clusterroles, rolebindings, clusterrolebindings)', () => {
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  const clients: KubeClient[] = [];

  /** A service account in the team namespace, bound by the admin to `rules` there (a Role), with a client using its token. */
  async function account(name: string, rules: PolicyRule[], clusterRules: PolicyRule[] = []): Promise<KubeClient> {
    await admin.create(resourcePath({ resource: 'serviceaccounts', namespace: NS }), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
    if (rules.length) {
      await admin.create(rbac('roles', NS), role(`${name}-role`, rules));
      await admin.create(rbac('rolebindings', NS), binding('RoleBinding', `${name}-role`, { kind: 'Role', name: `${name}-role` }, [sa(name)]));
    }
    if (clusterRules.length) {
      await admin.create(rbac('clusterroles'), clusterRole(`${name}-cluster`, clusterRules));
      await admin.create(rbac('clusterrolebindings'), binding('ClusterRoleBinding', `${name}-cluster`, { kind: 'ClusterRole', name: `${name}-cluster` }, [sa(name)]));
    }
    const tr = await admin.create<KubeObject & { status: { token: string } }>(
      resourcePath({ resource: 'serviceaccounts', namespace: NS, name, subresource: 'token' }),
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name }, spec: {} } as KubeObject,
    );
    const c = new KubeClient({ name, server: cp.url, serverCa: caPem(pki, 'ca'), token: tr.status.token });
    clients.push(c);
    return c;
  }

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });
  after(async () => {
    for (const c of clients) c.close();
    await cp?.stop();
  });

  it('refuses a RoleBinding of cluster-admin by a user who may only create rolebindings (403, Kubernetes\' message)', async () => {
    const mallory = await account('mallory', [{ apiGroups: [RBAC], resources: ['rolebindings'], verbs: ['create'] }]);
    const err = await apiError(mallory.create(rbac('rolebindings', NS), binding('RoleBinding', 'pwn', { kind: 'ClusterRole', name: 'cluster-admin' }, [sa('mallory')])));
    expect(err.httpStatus).to.equal(403);
    expect(err.status).to.deep.include({
      reason: 'Forbidden',
      message: `rolebindings.${RBAC} "pwn" is forbidden: ${held('mallory')}{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}`,
      details: { name: 'pwn', group: RBAC, kind: 'rolebindings' },
    });
    await apiError(admin.get(rbac('rolebindings', NS, 'pwn'))).then((e) => expect(e.httpStatus, 'nothing was stored').to.equal(404));
    // A dry run is checked the same way (the registry's check runs before the dry-run storage).
    const dry = await apiError(mallory.create(`${rbac('rolebindings', NS)}?dryRun=All`, binding('RoleBinding', 'pwn', { kind: 'ClusterRole', name: 'cluster-admin' }, [sa('mallory')])));
    expect(dry.httpStatus).to.equal(403);
    expect(dry.status?.message).to.equal(err.status?.message);
    // Still what it was: no secrets.
    expect((await apiError(mallory.list(resourcePath({ resource: 'secrets', namespace: NS })))).httpStatus).to.equal(403);
  });

  it('refuses a `*` Role by a user who may only create roles, and a patch or update that widens a Role', async () => {
    const eve = await account('eve', [
      { apiGroups: [RBAC], resources: ['roles'], verbs: ['create', 'update', 'patch', 'get'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] },
    ]);
    const err = await apiError(eve.create(rbac('roles', NS), role('star', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }])));
    expect(err.httpStatus).to.equal(403);
    expect(err.status).to.deep.include({
      reason: 'Forbidden',
      message: `roles.${RBAC} "star" is forbidden: ${held('eve')}{APIGroups:["*"], Resources:["*"], Verbs:["*"]}`,
      details: { name: 'star', group: RBAC, kind: 'roles' },
    });
    // Within its own permissions: allowed.
    await eve.create(rbac('roles', NS), role('reader', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]));
    // Widening it, by merge patch and by update: the missing verbs, compacted per resource.
    const patched = await apiError(eve.patch(rbac('roles', NS, 'reader'), { rules: [{ apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['get', 'delete', 'watch'] }] }));
    expect(patched.httpStatus).to.equal(403);
    expect(patched.status?.message).to.equal(`roles.${RBAC} "reader" is forbidden: ${held('eve')}{APIGroups:[""], Resources:["configmaps"], Verbs:["delete" "watch"]}\n{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete" "watch"]}`);
    const current = await eve.get<KubeObject & { rules: PolicyRule[] }>(rbac('roles', NS, 'reader'));
    const updated = await apiError(eve.update(rbac('roles', NS, 'reader'), { ...current, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames: ['a', 'b'] }] }));
    expect(updated.status?.message).to.equal(`roles.${RBAC} "reader" is forbidden: ${held('eve')}{APIGroups:[""], Resources:["pods"], ResourceNames:["a"], Verbs:["get"]}\n{APIGroups:[""], Resources:["pods"], ResourceNames:["b"], Verbs:["get"]}`);
    // An update that only touches labels is not an escalation.
    await eve.update(rbac('roles', NS, 'reader'), { ...current, metadata: { ...current.metadata, labels: { a: 'b' } } });
  });

  it('refuses to widen a RoleBinding\'s subjects to a role the user does not hold, and a ClusterRoleBinding likewise', async () => {
    const trudy = await account('trudy', [{ apiGroups: [RBAC], resources: ['rolebindings'], verbs: ['get', 'update', 'patch'] }], [{ apiGroups: [RBAC], resources: ['clusterrolebindings'], verbs: ['create'] }]);
    await admin.create(rbac('rolebindings', NS), binding('RoleBinding', 'admins', { kind: 'ClusterRole', name: 'admin' }, [{ kind: 'User', name: 'alice' }]));
    const err = await apiError(trudy.patch(rbac('rolebindings', NS, 'admins'), { subjects: [{ kind: 'User', name: 'alice' }, sa('trudy')] }));
    expect(err.httpStatus).to.equal(403);
    expect(err.status?.message.startsWith(`rolebindings.${RBAC} "admins" is forbidden: ${held('trudy')}{APIGroups:`), err.status?.message).to.equal(true);
    const crb = await apiError(trudy.create(rbac('clusterrolebindings'), binding('ClusterRoleBinding', 'pwn', { kind: 'ClusterRole', name: 'cluster-admin' }, [sa('trudy')])));
    expect(crb.httpStatus).to.equal(403);
    expect(crb.status?.message).to.equal(`clusterrolebindings.${RBAC} "pwn" is forbidden: ${held('trudy')}{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}`);
  });

  it('answers 404 for a binding to a role that does not exist, as the registry resolves it', async () => {
    const oscar = await account('oscar', [{ apiGroups: [RBAC], resources: ['rolebindings'], verbs: ['create'] }]);
    const err = await apiError(oscar.create(rbac('rolebindings', NS), binding('RoleBinding', 'ghost', { kind: 'Role', name: 'ghost' }, [sa('oscar')])));
    expect(err.httpStatus).to.equal(404);
    expect(err.status).to.deep.include({ reason: 'NotFound', message: `roles.${RBAC} "ghost" not found` });
  });

  it('lets a user with `bind` on a ClusterRole (resourceNames honoured) bind it, and no other', async () => {
    const binder = await account('binder', [
      { apiGroups: [RBAC], resources: ['rolebindings'], verbs: ['create'] },
      { apiGroups: [RBAC], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['admin'] },
    ]);
    const made = await binder.create(rbac('rolebindings', NS), binding('RoleBinding', 'delegated', { kind: 'ClusterRole', name: 'admin' }, [{ kind: 'User', name: 'bob' }]));
    expect(made.metadata.name).to.equal('delegated');
    const err = await apiError(binder.create(rbac('rolebindings', NS), binding('RoleBinding', 'not-delegated', { kind: 'ClusterRole', name: 'cluster-admin' }, [{ kind: 'User', name: 'bob' }])));
    expect(err.httpStatus).to.equal(403);
  });

  it('lets a user with `escalate` on roles create a Role with more than it holds', async () => {
    const escalator = await account('escalator', [{ apiGroups: [RBAC], resources: ['roles'], verbs: ['create', 'escalate'] }]);
    const made = await escalator.create(rbac('roles', NS), role('wide', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]));
    expect(made.metadata.name).to.equal('wide');
  });

  it('lets a namespace admin create Roles and RoleBindings within its own permissions, not beyond them', async () => {
    await admin.create(resourcePath({ resource: 'serviceaccounts', namespace: NS }), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'nsadmin' } });
    await admin.create(rbac('rolebindings', NS), binding('RoleBinding', 'nsadmin', { kind: 'ClusterRole', name: 'admin' }, [sa('nsadmin')]));
    const tr = await admin.create<KubeObject & { status: { token: string } }>(resourcePath({ resource: 'serviceaccounts', namespace: NS, name: 'nsadmin', subresource: 'token' }), { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: 'nsadmin' }, spec: {} } as KubeObject);
    const nsadmin = new KubeClient({ name: 'nsadmin', server: cp.url, serverCa: caPem(pki, 'ca'), token: tr.status.token });
    clients.push(nsadmin);
    await nsadmin.create(rbac('roles', NS), role('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]));
    await nsadmin.create(rbac('rolebindings', NS), binding('RoleBinding', 'pod-readers', { kind: 'Role', name: 'pod-reader' }, [{ kind: 'User', name: 'carol' }]));
    await nsadmin.create(rbac('rolebindings', NS), binding('RoleBinding', 'editors', { kind: 'ClusterRole', name: 'edit' }, [{ kind: 'User', name: 'carol' }]));
    const err = await apiError(nsadmin.create(rbac('roles', NS), role('nodes', [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }])));
    expect(err.httpStatus).to.equal(403);
    expect(err.status?.message).to.equal(`roles.${RBAC} "nodes" is forbidden: ${held('nsadmin')}{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}`);
  });

  it('lets cluster-admin (not system:masters) bind anything and create any role', async () => {
    await admin.create(rbac('clusterrolebindings'), binding('ClusterRoleBinding', 'more-admins', { kind: 'ClusterRole', name: 'cluster-admin' }, [{ kind: 'User', name: 'dave' }]));
    await admin.create(rbac('clusterroles'), clusterRole('everything', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }]));
    await admin.create(rbac('clusterroles'), clusterRole('gathers', [], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { gather: 'me' } }] } }));
  });

  it('requires cluster-admin privileges to set an aggregationRule, and checks a ClusterRole cluster-wide', async () => {
    const crm = await account('crm', [], [{ apiGroups: [RBAC], resources: ['clusterroles'], verbs: ['create'] }, { apiGroups: [''], resources: ['pods'], verbs: ['get'] }]);
    const agg = await apiError(crm.create(rbac('clusterroles'), clusterRole('agg', [], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] } })));
    expect(agg.httpStatus).to.equal(403);
    expect(agg.status?.message).to.equal(`clusterroles.${RBAC} "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule`);
    await crm.create(rbac('clusterroles'), clusterRole('pod-getter', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]));
    // Rights held only in a namespace do not count for a ClusterRole.
    await admin.create(rbac('rolebindings', NS), binding('RoleBinding', 'crm-edit', { kind: 'ClusterRole', name: 'edit' }, [sa('crm')]));
    const err = await apiError(crm.create(rbac('clusterroles'), clusterRole('cm-getter', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }])));
    expect(err.status?.message).to.equal(`clusterroles.${RBAC} "cm-getter" is forbidden: ${held('crm')}{APIGroups:[""], Resources:["configmaps"], Verbs:["get"]}`);
  });
});

describe('RBAC escalation helpers (Covers, CompactRules, CompactString)', () => {
  it('covers a subresource by `*/sub`, a URL by a trailing `*`, and names only by names or none', () => {
    expect(covers([{ apiGroups: [''], resources: ['*/status'], verbs: ['get'] }], [{ apiGroups: [''], resources: ['pods/status', 'nodes/status'], verbs: ['get'] }]).covered).to.equal(true);
    expect(covers([{ apiGroups: [''], resources: ['*/status'], verbs: ['get'] }], [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]).covered).to.equal(false);
    expect(covers([{ nonResourceURLs: ['/api/*'], verbs: ['get'] }], [{ nonResourceURLs: ['/api/v1'], verbs: ['get'] }]).covered).to.equal(true);
    expect(covers([{ apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames: ['a'] }], [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]).covered).to.equal(false);
    expect(covers([{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }], [{ apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames: ['a'] }]).covered).to.equal(true);
    // A servant `*` is not covered by a list of every verb: only by `*`.
    expect(covers([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }], [{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }]).missing).to.deep.equal([{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }]);
  });

  it('compacts simple missing rules per group and resource and prints them with Go\'s %q', () => {
    const { missing } = covers([], [{ apiGroups: ['', 'apps'], resources: ['pods'], verbs: ['get', 'list'] }, { nonResourceURLs: ['/x'], verbs: ['get'] }]);
    expect(compactRules(missing).map(compactString)).to.deep.equal([
      '{NonResourceURLs:["/x"], Verbs:["get"]}',
      '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}',
      '{APIGroups:["apps"], Resources:["pods"], Verbs:["get" "list"]}',
    ]);
    expect(goQuote('a"b\\c\n\u0001é')).to.equal('"a\\"b\\\\c\\n\\x01é"');
  });
});
