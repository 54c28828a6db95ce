/**
 * Refusal: a namespace admin binding cluster-admin to itself (403, RBAC's escalation check), and a
 * namespace path to a cluster-scoped resource (404: RBAC in a namespace reaches only namespaced resources).
 */
import type { KubeObject } from '../components/api/types.js';
import { resourcePath } from '../components/client/kube-client.js';
import { caPem } from '../pki/store.js';
import { probe, statusMessage } from '../sim/probe.js';
import { clientCertFor, expectVerdict, refusalScenario } from './refusals.js';

const RBAC = 'rbac.authorization.k8s.io';
const NS = 'team-a';
const USER = 'jane';

const rbac = (resource: string, namespace?: string, name?: string): string =>
  resourcePath({ group: RBAC, resource, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) });
const roleBinding = (name: string, roleRef: { kind: 'Role' | 'ClusterRole'; name: string }, user: string): KubeObject => ({
  apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name, namespace: NS },
  roleRef: { apiGroup: RBAC, ...roleRef }, subjects: [{ apiGroup: RBAC, kind: 'User', name: user }],
} as KubeObject);

export const refuseRbacEscalation = refusalScenario({
  name: 'refuse-rbac-escalation',
  title: 'Refused: a namespace admin granting itself cluster-admin (403, escalation), and a cluster-scoped resource under a namespace (404)',
  summary: `The admin ClusterRole bound in one namespace lets ${USER} write Roles and RoleBindings there: a way up, if RBAC\n` +
    'let it. It does not, twice: a binding may only hand on permissions its author already holds (the escalation\n' +
    'check), and a namespace\'s rules reach only namespaced resources (a cluster-scoped one has no path under /namespaces/).',
  async run(ctx, { pki, cluster }) {
    const admin = cluster.client('admin.conf', 'kubectl');
    const as = { client: `kubectl (${USER})`, server: 'kube-apiserver', url: cluster.apiserverUrl, serverCa: caPem(pki, 'ca'), identity: await clientCertFor(pki, { cn: USER, o: [] }) };
    await ctx.step(`${USER}, admin of namespace ${NS}`,
      `The cluster admin creates ${NS} and RoleBinding ${NS}/${USER}-admin to the ClusterRole admin; ${USER}'s client\n` +
      `certificate (CN=${USER}, no O) comes from the cluster CA. In ${NS} ${USER} may do what admin allows, and hand\n` +
      'on what it holds: binding edit (a subset of admin) to bob is allowed.',
      async () => {
        await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
        await admin.create(rbac('rolebindings', NS), roleBinding(`${USER}-admin`, { kind: 'ClusterRole', name: 'admin' }, USER));
        const allowedBy = `RBAC: allowed by RoleBinding "${USER}-admin/${NS}" of ClusterRole "admin" to User "${USER}"`;
        const list = await probe(ctx.trace, { ...as, method: 'GET', path: resourcePath({ resource: 'pods', namespace: NS }) });
        expectVerdict(ctx, `${USER} lists pods in ${NS}`, list, { layer: 'none', decision: 'allowed', status: 200, user: USER, reason: allowedBy });
        const bob = await probe(ctx.trace, { ...as, method: 'POST', path: rbac('rolebindings', NS), body: JSON.stringify(roleBinding('bob-edit', { kind: 'ClusterRole', name: 'edit' }, 'bob')) });
        expectVerdict(ctx, `${USER} binds edit to bob in ${NS}`, bob, { layer: 'none', decision: 'allowed', status: 201, user: USER, reason: allowedBy });
      });
    await ctx.step(`${USER} binds cluster-admin to herself in ${NS}`,
      'Creating a RoleBinding is in admin, so the authorizer allows the request. RBAC\'s escalation check then\n' +
      'compares the rules of the role bound (cluster-admin: every verb on every resource, every non-resource URL)\n' +
      `with what ${USER} holds in ${NS}, and refuses: 403, listing the rules ${USER} lacks as Go prints a PolicyRule.`,
      async () => {
        const o = await probe(ctx.trace, { ...as, method: 'POST', path: rbac('rolebindings', NS), body: JSON.stringify(roleBinding(`${USER}-cluster-admin`, { kind: 'ClusterRole', name: 'cluster-admin' }, USER)) });
        expectVerdict(ctx, `${USER} binds cluster-admin`, o, { layer: 'admission', decision: 'forbidden', status: 403, user: USER,
          reason: `rolebindings.${RBAC} "${USER}-cluster-admin" is forbidden: user "${USER}" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n` +
            '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}' });
        const stored = await admin.raw('GET', rbac('rolebindings', NS, `${USER}-cluster-admin`));
        ctx.expect(`no RoleBinding ${NS}/${USER}-cluster-admin was stored (GET: ${stored.status})`, stored.status === 404);
      });
    await ctx.step(`A Role in ${NS} naming clusterrolebindings`,
      `The cluster admin, asked to let ${USER} read the cluster's bindings, writes Role ${NS}/rbac-reader (get, list on\n` +
      `clusterrolebindings) and binds it to ${USER}. The authorizer matches it for a request in ${NS}, but\n` +
      'clusterrolebindings are cluster-scoped: under /namespaces/ there is no such path (404), and at the cluster\n' +
      'scope no rule of a namespace applies (403).',
      async () => {
        await admin.create(rbac('roles', NS), {
          apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name: 'rbac-reader', namespace: NS },
          rules: [{ apiGroups: [RBAC], resources: ['clusterrolebindings'], verbs: ['get', 'list'] }],
        } as KubeObject);
        await admin.create(rbac('rolebindings', NS), roleBinding(`${USER}-rbac-reader`, { kind: 'Role', name: 'rbac-reader' }, USER));
        const namespaced = await probe(ctx.trace, { ...as, method: 'GET', path: `/apis/${RBAC}/v1/namespaces/${NS}/clusterrolebindings` });
        expectVerdict(ctx, `${USER} lists clusterrolebindings in ${NS}`, namespaced, { layer: 'none', decision: 'allowed', status: 404, user: USER,
          reason: `RBAC: allowed by RoleBinding "${USER}-rbac-reader/${NS}" of Role "rbac-reader" to User "${USER}"` });
        ctx.expect('the answer is 404 NotFound: "the server could not find the requested resource"',
          statusMessage(namespaced.body ?? '') === 'the server could not find the requested resource' && /"reason":"NotFound"/.test(namespaced.body ?? ''), namespaced.body);
        const clusterScope = await probe(ctx.trace, { ...as, method: 'GET', path: rbac('clusterrolebindings') });
        expectVerdict(ctx, `${USER} lists clusterrolebindings`, clusterScope, { layer: 'authorization', decision: 'forbidden', status: 403, user: USER,
          reason: `clusterrolebindings.${RBAC} is forbidden: User "${USER}" cannot list resource "clusterrolebindings" in API group "${RBAC}" at the cluster scope` });
      });
  },
});
