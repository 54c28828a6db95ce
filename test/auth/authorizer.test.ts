import { expect } from 'chai';
import { attributesFor, nonResourceAttributes, resourceAttributes, type Attributes, type UserInfo } from '../../components/kube-apiserver/auth/attributes.js';
import { authorize, forbiddenStatus, forbiddenStatusMessage, type AuthorizerDeps } from '../../components/kube-apiserver/auth/authorizer.js';
import { bootstrapPolicy } from '../../components/kube-apiserver/auth/bootstrap-policy.js';
import { rbacAuthorize, staticRbacPolicy } from '../../components/kube-apiserver/auth/rbac.js';
import { requestInfo } from '../../components/kube-apiserver/auth/request-info.js';
import type { Pod } from '../../components/api/types.js';

const auth = (name: string, ...groups: string[]): UserInfo => ({ name, groups: [...groups, 'system:authenticated'] });
const scheduler = auth('system:kube-scheduler');
const controllerManager = auth('system:kube-controller-manager');
const kubeProxy = auth('system:kube-proxy');
const admin = auth('kubernetes-admin', 'kubeadm:cluster-admins');
const superAdmin = auth('kubernetes-super-admin', 'system:masters');
const anonymous: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
const rsController = auth('system:serviceaccount:kube-system:replicaset-controller', 'system:serviceaccounts', 'system:serviceaccounts:kube-system');
const stranger = auth('alice', 'developers');

function deps(pods: Pod[] = []): AuthorizerDeps {
  return { rbac: staticRbacPolicy(bootstrapPolicy()), nodeGraph: { pods: () => pods } };
}

function req(user: UserInfo, method: string, path: string): Attributes {
  return attributesFor(user, requestInfo(method, path));
}

describe('authorize (Node,RBAC over the bootstrap policy)', () => {
  const d = deps();

  describe('system:kube-scheduler', () => {
    it('may create pods/binding, list/watch pods and nodes, update pods/status and use its lease', () => {
      expect(authorize(req(scheduler, 'POST', '/api/v1/namespaces/default/pods/web/binding'), d)).to.deep.equal({
        decision: 'allow', by: 'RBAC',
        reason: 'RBAC: allowed by ClusterRoleBinding "system:kube-scheduler" of ClusterRole "system:kube-scheduler" to User "system:kube-scheduler"',
      });
      expect(authorize(req(scheduler, 'GET', '/api/v1/pods?watch=true'), d).decision).to.equal('allow');
      expect(authorize(req(scheduler, 'GET', '/api/v1/nodes'), d).decision).to.equal('allow');
      expect(authorize(req(scheduler, 'PATCH', '/api/v1/namespaces/default/pods/web/status'), d).decision).to.equal('allow');
      expect(authorize(req(scheduler, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler'), d).decision).to.equal('allow');
    });

    it('may not update someone else\'s lease or delete nodes, with the exact message', () => {
      expect(authorize(req(scheduler, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager'), d).decision).to.equal('deny');
      const attrs = req(scheduler, 'DELETE', '/api/v1/nodes/node-1');
      const decision = authorize(attrs, d);
      expect(decision).to.deep.equal({ decision: 'deny', reason: '', by: null });
      expect(forbiddenStatusMessage(attrs, decision.reason)).to.equal(
        'nodes "node-1" is forbidden: User "system:kube-scheduler" cannot delete resource "nodes" in API group "" at the cluster scope',
      );
    });

    it('words a denied collection request in a namespace without a name', () => {
      const attrs = req(scheduler, 'POST', '/api/v1/namespaces/default/services');
      expect(authorize(attrs, d).decision).to.equal('deny');
      expect(forbiddenStatus(attrs)).to.deep.equal({
        apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, details: { kind: 'services' },
        message: 'services is forbidden: User "system:kube-scheduler" cannot create resource "services" in API group "" in the namespace "default"',
      });
    });
  });

  describe('system:kube-proxy', () => {
    it('may list/watch services, endpoints and endpointslices and get nodes', () => {
      for (const [m, p] of [['GET', '/api/v1/services'], ['GET', '/api/v1/endpoints?watch=1'], ['GET', '/apis/discovery.k8s.io/v1/endpointslices'], ['GET', '/api/v1/nodes/node-1']] as const) {
        expect(authorize(req(kubeProxy, m, p), d), p).to.include({ decision: 'allow', by: 'RBAC' });
      }
    });

    it('may not create pods', () => {
      const attrs = req(kubeProxy, 'POST', '/api/v1/namespaces/default/pods');
      expect(authorize(attrs, d).decision).to.equal('deny');
      expect(forbiddenStatusMessage(attrs)).to.equal('pods is forbidden: User "system:kube-proxy" cannot create resource "pods" in API group "" in the namespace "default"');
    });
  });

  describe('system:kube-controller-manager', () => {
    it('may list and watch anything, in any group', () => {
      for (const p of ['/api/v1/pods', '/apis/apps/v1/replicasets?watch=true', '/api/v1/secrets', '/apis/discovery.k8s.io/v1/namespaces/x/endpointslices']) {
        expect(authorize(req(controllerManager, 'GET', p), d).decision, p).to.equal('allow');
      }
      expect(authorize(req(controllerManager, 'POST', '/api/v1/namespaces/kube-system/serviceaccounts/replicaset-controller/token'), d).decision).to.equal('allow');
    });

    it('may not create pods or get a pod by name (its controllers act as their own service accounts)', () => {
      const attrs = req(controllerManager, 'POST', '/api/v1/namespaces/default/pods');
      expect(authorize(attrs, d).decision).to.equal('deny');
      expect(forbiddenStatusMessage(attrs)).to.equal('pods is forbidden: User "system:kube-controller-manager" cannot create resource "pods" in API group "" in the namespace "default"');
      expect(authorize(req(controllerManager, 'GET', '/api/v1/namespaces/default/pods/web'), d).decision).to.equal('deny');
    });
  });

  describe('controller service accounts', () => {
    it('replicaset-controller may create pods and update replicasets/status, but not create deployments', () => {
      const allowed = authorize(req(rsController, 'POST', '/api/v1/namespaces/default/pods'), d);
      expect(allowed.decision).to.equal('allow');
      expect(allowed.reason).to.equal('RBAC: allowed by ClusterRoleBinding "system:controller:replicaset-controller" of ClusterRole "system:controller:replicaset-controller" to ServiceAccount "replicaset-controller/kube-system"');
      expect(authorize(req(rsController, 'PUT', '/apis/apps/v1/namespaces/default/replicasets/web/status'), d).decision).to.equal('allow');
      const denied = req(rsController, 'POST', '/apis/apps/v1/namespaces/default/deployments');
      expect(authorize(denied, d).decision).to.equal('deny');
      expect(forbiddenStatusMessage(denied)).to.equal(
        'deployments.apps is forbidden: User "system:serviceaccount:kube-system:replicaset-controller" cannot create resource "deployments" in API group "apps" in the namespace "default"',
      );
    });

    it('the same service account name in another namespace gets nothing', () => {
      const impostor = auth('system:serviceaccount:default:replicaset-controller', 'system:serviceaccounts', 'system:serviceaccounts:default');
      expect(authorize(req(impostor, 'POST', '/api/v1/namespaces/default/pods'), d).decision).to.equal('deny');
    });

    it('deployment-controller creates replicasets; endpoint and endpointslice controllers write theirs', () => {
      const sa = (n: string): UserInfo => auth(`system:serviceaccount:kube-system:${n}`, 'system:serviceaccounts', 'system:serviceaccounts:kube-system');
      expect(authorize(req(sa('deployment-controller'), 'POST', '/apis/apps/v1/namespaces/default/replicasets'), d).decision).to.equal('allow');
      expect(authorize(req(sa('endpoint-controller'), 'PUT', '/api/v1/namespaces/default/endpoints/web'), d).decision).to.equal('allow');
      expect(authorize(req(sa('endpointslice-controller'), 'POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices'), d).decision).to.equal('allow');
      expect(authorize(req(sa('endpoint-controller'), 'POST', '/api/v1/namespaces/default/pods'), d).decision).to.equal('deny');
    });
  });

  describe('anonymous', () => {
    it('may get only /healthz, /livez, /readyz and /version', () => {
      for (const p of ['/healthz', '/livez', '/readyz', '/version', '/version/']) {
        expect(authorize(req(anonymous, 'GET', p), d), p).to.include({ decision: 'allow', by: 'RBAC' });
      }
      for (const p of ['/healthz/etcd', '/api', '/apis', '/openapi/v2', '/metrics']) {
        expect(authorize(req(anonymous, 'GET', p), d).decision, p).to.equal('deny');
      }
      expect(authorize(req(anonymous, 'POST', '/healthz'), d).decision).to.equal('deny');
    });

    it('is told "forbidden: ... cannot get path" for discovery and "cannot list resource" for pods', () => {
      const api = req(anonymous, 'GET', '/api');
      expect(forbiddenStatus(api)).to.deep.equal({
        apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, details: {},
        message: 'forbidden: User "system:anonymous" cannot get path "/api"',
      });
      expect(forbiddenStatusMessage(req(anonymous, 'GET', '/api/v1/namespaces/default/pods'))).to.equal(
        'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"',
      );
    });

    it('authenticated users additionally get discovery', () => {
      expect(authorize(req(stranger, 'GET', '/api'), d).decision).to.equal('allow');
      expect(authorize(req(stranger, 'GET', '/apis/apps/v1'), d).decision).to.equal('allow');
      expect(authorize(req(stranger, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'), d).decision).to.equal('allow');
      expect(authorize(req(stranger, 'GET', '/api/v1/namespaces/default/pods'), d).decision).to.equal('deny');
    });
  });

  describe('cluster admins', () => {
    it('kubeadm:cluster-admins may do everything through RBAC', () => {
      for (const [m, p] of [['DELETE', '/api/v1/nodes/node-1'], ['POST', '/apis/apps/v1/namespaces/x/deployments'], ['GET', '/metrics'], ['DELETE', '/api/v1/namespaces/default/pods']] as const) {
        expect(authorize(req(admin, m, p), d), p).to.deep.equal({
          decision: 'allow', by: 'RBAC', reason: 'RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" to Group "kubeadm:cluster-admins"',
        });
      }
    });

    it('system:masters is allowed before RBAC is even asked, even with no RBAC objects at all', () => {
      const empty: AuthorizerDeps = { rbac: staticRbacPolicy({}), nodeGraph: { pods: () => [] } };
      expect(authorize(req(superAdmin, 'DELETE', '/api/v1/nodes/node-1'), empty)).to.deep.equal({ decision: 'allow', reason: '', by: 'SystemMasters' });
      expect(authorize(req(admin, 'DELETE', '/api/v1/nodes/node-1'), empty).decision).to.equal('deny');
    });
  });

  describe('RBAC details', () => {
    it('reports a binding to a missing role in the reason', () => {
      const rbac = staticRbacPolicy({
        clusterRoleBindings: [{ metadata: { name: 'b' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'gone' }, subjects: [{ kind: 'User', name: 'alice' }] }],
      });
      const attrs = resourceAttributes(stranger, { verb: 'get', resource: 'pods', namespace: 'default', name: 'web' });
      expect(rbacAuthorize(attrs, rbac)).to.deep.equal({ decision: 'noOpinion', reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found' });
      expect(forbiddenStatusMessage(attrs, 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found')).to.equal(
        'pods "web" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "default": RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found',
      );
    });

    it('honours RoleBindings only in their namespace, resourceNames, */subresource and nonResourceURL prefixes', () => {
      const rbac = staticRbacPolicy({
        roles: [{ metadata: { name: 'reader', namespace: 'team' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'] }] }],
        roleBindings: [{ metadata: { name: 'rb', namespace: 'team' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'developers' }] }],
        clusterRoles: [{ metadata: { name: 'scaler' }, rules: [{ verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, { verbs: ['get'], nonResourceURLs: ['/logs/*'] }] }],
        clusterRoleBindings: [{ metadata: { name: 'crb' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'scaler' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' }] }],
      });
      const get = (ns: string, name: string) => resourceAttributes(stranger, { verb: 'get', resource: 'configmaps', namespace: ns, name });
      expect(rbacAuthorize(get('team', 'settings', ), rbac)).to.deep.equal({ decision: 'allow', reason: 'RBAC: allowed by RoleBinding "rb/team" of Role "reader" to Group "developers"' });
      expect(rbacAuthorize(get('team', 'other'), rbac).decision).to.equal('noOpinion');
      expect(rbacAuthorize(get('elsewhere', 'settings'), rbac).decision).to.equal('noOpinion');
      expect(rbacAuthorize(resourceAttributes(stranger, { verb: 'get', apiGroup: 'apps', resource: 'deployments', subresource: 'scale', namespace: 'x', name: 'd' }), rbac).decision).to.equal('allow');
      expect(rbacAuthorize(resourceAttributes(stranger, { verb: 'get', apiGroup: 'apps', resource: 'deployments', namespace: 'x', name: 'd' }), rbac).decision).to.equal('noOpinion');
      expect(rbacAuthorize(nonResourceAttributes(stranger, 'get', '/logs/kube-apiserver.log'), rbac).decision).to.equal('allow');
      expect(rbacAuthorize(nonResourceAttributes(stranger, 'get', '/logs'), rbac).decision).to.equal('noOpinion');
    });
  });

  describe('bootstrap policy', () => {
    it('labels and annotates every bootstrap object as the apiserver does, and fills aggregated roles', () => {
      const policy = bootstrapPolicy();
      const admin = policy.clusterRoles.find((r) => r.metadata.name === 'admin')!;
      expect(admin.metadata.labels).to.deep.equal({ 'kubernetes.io/bootstrapping': 'rbac-defaults' });
      expect(admin.metadata.annotations).to.deep.equal({ 'rbac.authorization.kubernetes.io/autoupdate': 'true' });
      expect(admin.rules!.length).to.be.greaterThan(10);
      const view = policy.clusterRoles.find((r) => r.metadata.name === 'view')!;
      const rbacView = staticRbacPolicy({ ...policy, roleBindings: [{ metadata: { name: 'v', namespace: 'team' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'alice' }] }] });
      expect(view.rules!.length).to.be.greaterThan(5);
      expect(rbacAuthorize(resourceAttributes(stranger, { verb: 'list', resource: 'pods', namespace: 'team' }), rbacView).decision).to.equal('allow');
      expect(rbacAuthorize(resourceAttributes(stranger, { verb: 'get', resource: 'secrets', namespace: 'team', name: 's' }), rbacView).decision).to.equal('noOpinion');
      const kubeadm = policy.clusterRoleBindings.find((b) => b.metadata.name === 'kubeadm:cluster-admins')!;
      expect(kubeadm.metadata.labels).to.equal(undefined);
      const node = policy.clusterRoleBindings.find((b) => b.metadata.name === 'system:node')!;
      expect(node.subjects).to.equal(undefined);
      // Fresh objects on each call.
      bootstrapPolicy().clusterRoles[0]!.metadata.name = 'mutated';
      expect(bootstrapPolicy().clusterRoles[0]!.metadata.name).to.equal('admin');
    });
  });
});
