/**
 * Refusal: a namespace admin binding cluster-admin to itself (403, RBAC's escalation check), and a
 * namespace path to a cluster-scoped resource (404: RBAC in a namespace reaches only namespaced resources).
 */
import type { KubeObject } from '../components/api/types.js';
import { resourcePath } from '../components/client/kube-client.js';
import { caPem } from '../pki/store.js';
import { probe, statusMessage } from '../sim/probe.js';
import { clientCertFor, expectVerdict, refusalScenario } from './refusals.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

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
  title: EN('scenario.refuse-rbac-escalation.title'),
  summary: EN('scenario.refuse-rbac-escalation.summary'),
  async run(ctx, { pki, cluster }) {
    const admin = cluster.client('admin.conf', 'kubectl');
    const who = { user: USER, ns: NS };
    const as = { client: `kubectl (${USER})`, server: 'kube-apiserver', url: cluster.apiserverUrl, serverCa: caPem(pki, 'ca'), identity: await clientCertFor(pki, { cn: USER, o: [] }) };
    await ctx.step(ctx.t('scenario.refuse-rbac-escalation.admin.title', who),
      ctx.t('scenario.refuse-rbac-escalation.admin.lesson', who),
      async () => {
        await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
        await admin.create(rbac('rolebindings', NS), roleBinding(`${USER}-admin`, { kind: 'ClusterRole', name: 'admin' }, USER));
        const allowedBy = `RBAC: allowed by RoleBinding "${USER}-admin/${NS}" of ClusterRole "admin" to User "${USER}"`;
        const list = await probe(ctx.trace, { ...as, method: 'GET', path: resourcePath({ resource: 'pods', namespace: NS }) });
        expectVerdict(ctx, ctx.t('scenario.refuse-rbac-escalation.admin.whoLists', who), list, { layer: 'none', decision: 'allowed', status: 200, user: USER, reason: allowedBy });
        const bob = await probe(ctx.trace, { ...as, method: 'POST', path: rbac('rolebindings', NS), body: JSON.stringify(roleBinding('bob-edit', { kind: 'ClusterRole', name: 'edit' }, 'bob')) });
        expectVerdict(ctx, ctx.t('scenario.refuse-rbac-escalation.admin.whoBinds', who), bob, { layer: 'none', decision: 'allowed', status: 201, user: USER, reason: allowedBy });
      });
    await ctx.step(ctx.t('scenario.refuse-rbac-escalation.escalate.title', who),
      ctx.t('scenario.refuse-rbac-escalation.escalate.lesson', who),
      async () => {
        const o = await probe(ctx.trace, { ...as, method: 'POST', path: rbac('rolebindings', NS), body: JSON.stringify(roleBinding(`${USER}-cluster-admin`, { kind: 'ClusterRole', name: 'cluster-admin' }, USER)) });
        expectVerdict(ctx, ctx.t('scenario.refuse-rbac-escalation.escalate.who', who), o, { layer: 'admission', decision: 'forbidden', status: 403, user: USER,
          reason: `rolebindings.${RBAC} "${USER}-cluster-admin" is forbidden: user "${USER}" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n` +
            '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}' });
        const stored = await admin.raw('GET', rbac('rolebindings', NS, `${USER}-cluster-admin`));
        ctx.expect(ctx.t('scenario.refuse-rbac-escalation.escalate.expectNotStored', { ...who, status: stored.status }), stored.status === 404);
      });
    await ctx.step(ctx.t('scenario.refuse-rbac-escalation.clusterScoped.title', who),
      ctx.t('scenario.refuse-rbac-escalation.clusterScoped.lesson', who),
      async () => {
        await admin.create(rbac('roles', NS), {
          apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name: 'rbac-reader', namespace: NS },
          rules: [{ apiGroups: [RBAC], resources: ['clusterrolebindings'], verbs: ['get', 'list'] }],
        } as KubeObject);
        await admin.create(rbac('rolebindings', NS), roleBinding(`${USER}-rbac-reader`, { kind: 'Role', name: 'rbac-reader' }, USER));
        const namespaced = await probe(ctx.trace, { ...as, method: 'GET', path: `/apis/${RBAC}/v1/namespaces/${NS}/clusterrolebindings` });
        expectVerdict(ctx, ctx.t('scenario.refuse-rbac-escalation.clusterScoped.whoNamespaced', who), namespaced, { layer: 'none', decision: 'allowed', status: 404, user: USER,
          reason: `RBAC: allowed by RoleBinding "${USER}-rbac-reader/${NS}" of Role "rbac-reader" to User "${USER}"` });
        ctx.expect(ctx.t('scenario.refuse-rbac-escalation.clusterScoped.expect404'),
          statusMessage(namespaced.body ?? '') === 'the server could not find the requested resource' && /"reason":"NotFound"/.test(namespaced.body ?? ''), namespaced.body);
        const clusterScope = await probe(ctx.trace, { ...as, method: 'GET', path: rbac('clusterrolebindings') });
        expectVerdict(ctx, ctx.t('scenario.refuse-rbac-escalation.clusterScoped.whoCluster', who), clusterScope, { layer: 'authorization', decision: 'forbidden', status: 403, user: USER,
          reason: `clusterrolebindings.${RBAC} is forbidden: User "${USER}" cannot list resource "clusterrolebindings" in API group "${RBAC}" at the cluster scope` });
      });
  },
});
