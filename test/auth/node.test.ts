import { expect } from 'chai';
import { attributesFor, type UserInfo } from '../../components/kube-apiserver/auth/attributes.js';
import { authorize, forbiddenStatusMessage, type AuthorizerDeps } from '../../components/kube-apiserver/auth/authorizer.js';
import { bootstrapPolicy } from '../../components/kube-apiserver/auth/bootstrap-policy.js';
import { nodeAuthorize, type NodeGraphSource } from '../../components/kube-apiserver/auth/node-authorizer.js';
import { nodeRestrictionAdmit, type AdmissionAttributes, type NodeRestrictionSource } from '../../components/kube-apiserver/auth/node-restriction.js';
import { staticRbacPolicy } from '../../components/kube-apiserver/auth/rbac.js';
import { requestInfo } from '../../components/kube-apiserver/auth/request-info.js';
import type { Node, PersistentVolumeClaim, Pod } from '../../components/api/types.js';

const nodeUser = (n: string): UserInfo => ({ name: `system:node:${n}`, groups: ['system:nodes', 'system:authenticated'] });
const node1 = nodeUser('node-1');

function pod(name: string, nodeName: string | undefined, spec: Partial<Pod['spec']> = {}, namespace = 'default'): Pod {
  return { metadata: { name, namespace, uid: `uid-${name}` }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...(nodeName ? { nodeName } : {}), ...spec } };
}

const pods: Pod[] = [
  pod('web-1', 'node-1', {
    serviceAccountName: 'web',
    volumes: [{ name: 'cert', secret: { secretName: 'web-tls' } }, { name: 'cfg', configMap: { name: 'web-config' } }, { name: 'data', persistentVolumeClaim: { claimName: 'web-data' } }],
    containers: [{ name: 'c', image: 'nginx', env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db-password', key: 'p' } } }], envFrom: [{ configMapRef: { name: 'env-cm' } }] }],
  }),
  pod('web-2', 'node-2', { volumes: [{ name: 'cert', secret: { secretName: 'other-tls' } }] }),
  pod('pending', undefined, { volumes: [{ name: 'cert', secret: { secretName: 'pending-secret' } }] }),
];
const pvcs: PersistentVolumeClaim[] = [{ metadata: { name: 'web-data', namespace: 'default' }, spec: { volumeName: 'pv-7' } }];
const graph: NodeGraphSource = { pods: () => pods, persistentVolumeClaims: () => pvcs };
const deps: AuthorizerDeps = { rbac: staticRbacPolicy(bootstrapPolicy()), nodeGraph: graph };
const req = (user: UserInfo, method: string, path: string) => attributesFor(user, requestInfo(method, path));

describe('Node authorizer', () => {
  it('has no opinion about users who are not nodes', () => {
    expect(nodeAuthorize(req({ name: 'system:node:node-1', groups: ['system:authenticated'] }, 'GET', '/api/v1/nodes/node-1'), graph)).to.deep.equal({ decision: 'noOpinion', reason: '' });
    expect(nodeAuthorize(req({ name: 'alice', groups: ['system:nodes'] }, 'GET', '/api/v1/nodes/node-1'), graph).decision).to.equal('noOpinion');
  });

  it('lets a kubelet read and write its own Node and status, not another node\'s reads', () => {
    expect(authorize(req(node1, 'GET', '/api/v1/nodes/node-1'), deps)).to.deep.equal({ decision: 'allow', reason: '', by: 'Node' });
    expect(authorize(req(node1, 'GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dnode-1&watch=true'), deps).decision).to.equal('allow');
    expect(authorize(req(node1, 'PATCH', '/api/v1/nodes/node-1/status'), deps).by).to.equal('Node');
    expect(authorize(req(node1, 'POST', '/api/v1/nodes'), deps).by).to.equal('Node');
    const other = req(node1, 'GET', '/api/v1/nodes/node-2');
    const decision = authorize(other, deps);
    expect(decision).to.deep.equal({ decision: 'deny', reason: "node 'node-1' cannot read 'node-2', only its own Node object", by: null });
    expect(forbiddenStatusMessage(other, decision.reason)).to.equal(
      'nodes "node-2" is forbidden: User "system:node:node-1" cannot get resource "nodes" in API group "" at the cluster scope: node \'node-1\' cannot read \'node-2\', only its own Node object',
    );
    expect(authorize(req(node1, 'GET', '/api/v1/nodes'), deps).reason).to.equal("node 'node-1' cannot read all nodes, only its own Node object");
  });

  it('lets a kubelet get its pods, list/watch them only by spec.nodeName, and update pod status', () => {
    expect(authorize(req(node1, 'GET', '/api/v1/namespaces/default/pods/web-1'), deps).decision).to.equal('allow');
    expect(authorize(req(node1, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1&watch=1'), deps).decision).to.equal('allow');
    expect(authorize(req(node1, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-2'), deps).reason).to.equal('can only list/watch pods with spec.nodeName field selector');
    expect(authorize(req(node1, 'GET', '/api/v1/pods'), deps).decision).to.equal('deny');
    expect(authorize(req(node1, 'GET', '/api/v1/namespaces/default/pods/web-2'), deps)).to.deep.equal({ decision: 'deny', reason: "no relationship found between node 'node-1' and this object", by: null });
    expect(authorize(req(node1, 'PATCH', '/api/v1/namespaces/default/pods/web-2/status'), deps).decision).to.equal('allow'); // NodeRestriction narrows it
    expect(authorize(req(node1, 'PUT', '/api/v1/namespaces/default/pods/web-1'), deps).decision).to.equal('deny');
  });

  it('gives secrets, configmaps, PVCs, PVs and SA tokens only through a pod bound to the node', () => {
    const allowed = [
      ['GET', '/api/v1/namespaces/default/secrets/web-tls'],
      ['GET', '/api/v1/namespaces/default/secrets/db-password'],
      ['GET', '/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Dweb-tls&watch=true'],
      ['GET', '/api/v1/namespaces/default/configmaps/web-config'],
      ['GET', '/api/v1/namespaces/default/configmaps/env-cm'],
      ['GET', '/api/v1/namespaces/default/persistentvolumeclaims/web-data'],
      ['GET', '/api/v1/persistentvolumes/pv-7'],
      ['POST', '/api/v1/namespaces/default/serviceaccounts/web/token'],
    ] as const;
    for (const [m, p] of allowed) expect(authorize(req(node1, m, p), deps), p).to.deep.equal({ decision: 'allow', reason: '', by: 'Node' });

    const noRelation = "no relationship found between node 'node-1' and this object";
    for (const p of ['/api/v1/namespaces/default/secrets/other-tls', '/api/v1/namespaces/default/secrets/pending-secret', '/api/v1/namespaces/kube-system/secrets/web-tls']) {
      const attrs = req(node1, 'GET', p);
      const d = authorize(attrs, deps);
      expect(d, p).to.deep.equal({ decision: 'deny', reason: noRelation, by: null });
    }
    const attrs = req(node1, 'GET', '/api/v1/namespaces/default/secrets/other-tls');
    expect(forbiddenStatusMessage(attrs, noRelation)).to.equal(
      'secrets "other-tls" is forbidden: User "system:node:node-1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node \'node-1\' and this object',
    );
    expect(authorize(req(nodeUser('node-2'), 'GET', '/api/v1/namespaces/default/secrets/other-tls'), deps).decision).to.equal('allow');
    expect(authorize(req(node1, 'GET', '/api/v1/namespaces/default/secrets'), deps).reason).to.equal('No Object name found');
    expect(authorize(req(node1, 'PUT', '/api/v1/namespaces/default/secrets/web-tls'), deps).reason).to.equal('can only read resources of this type');
    expect(authorize(req(node1, 'GET', '/api/v1/secrets'), deps).reason).to.equal('can only read namespaced object of this type');
    expect(authorize(req(node1, 'POST', '/api/v1/namespaces/default/serviceaccounts/default/token'), deps).reason).to.equal(noRelation);
  });

  it('a mirror pod grants nothing beyond itself', () => {
    const mirror = pod('static-web', 'node-1', { volumes: [{ name: 's', secret: { secretName: 'sneaky' } }] });
    mirror.metadata.annotations = { 'kubernetes.io/config.mirror': 'abc' };
    const g: NodeGraphSource = { pods: () => [mirror] };
    expect(nodeAuthorize(req(node1, 'GET', '/api/v1/namespaces/default/secrets/sneaky'), g).decision).to.equal('noOpinion');
    expect(nodeAuthorize(req(node1, 'GET', '/api/v1/namespaces/default/pods/static-web'), g).decision).to.equal('allow');
  });

  it('allows only the node\'s own lease in kube-node-lease', () => {
    expect(authorize(req(node1, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1'), deps).by).to.equal('Node');
    expect(authorize(req(node1, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases'), deps).by).to.equal('Node');
    expect(authorize(req(node1, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-2'), deps).reason).to.equal('can only access node lease with the same name as the requesting node');
    expect(authorize(req(node1, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/node-1'), deps).reason).to.equal('can only access leases in the "kube-node-lease" system namespace');
    expect(authorize(req(node1, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases?watch=1'), deps).reason).to.equal('can only get, create, update, patch, or delete a node lease');
  });

  it('evaluates everything else against the static node rules', () => {
    for (const [m, p] of [
      ['GET', '/api/v1/services?watch=true'], ['GET', '/api/v1/namespaces/default/endpoints/kubernetes'], ['POST', '/api/v1/namespaces/default/events'],
      ['PATCH', '/api/v1/namespaces/default/events/e1'], ['POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests'],
      ['POST', '/apis/authentication.k8s.io/v1/tokenreviews'], ['POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews'],
    ] as const) {
      expect(authorize(req(node1, m, p), deps), p).to.deep.equal({ decision: 'allow', reason: '', by: 'Node' });
    }
    expect(authorize(req(node1, 'POST', '/apis/apps/v1/namespaces/default/deployments'), deps)).to.deep.equal({ decision: 'deny', reason: '', by: null });
    expect(authorize(req(node1, 'DELETE', '/api/v1/namespaces/default/services/web'), deps).decision).to.equal('deny');
  });

  it('without AuthorizeNodeWithSelectors, nodes and pods fall back to the static rules', () => {
    expect(nodeAuthorize(req(node1, 'GET', '/api/v1/nodes'), graph, { authorizeNodeWithSelectors: false }).decision).to.equal('allow');
    expect(nodeAuthorize(req(node1, 'GET', '/api/v1/pods'), graph, { authorizeNodeWithSelectors: false }).decision).to.equal('allow');
  });
});

describe('NodeRestriction admission', () => {
  const nodes: Record<string, Node> = { 'node-1': { metadata: { name: 'node-1', uid: 'node-1-uid' }, spec: {} } };
  const source: NodeRestrictionSource = {
    getPod: (ns, name) => pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name),
    getNode: (name) => nodes[name],
  };
  const base = (a: Partial<AdmissionAttributes>): AdmissionAttributes => ({ user: node1, operation: 'UPDATE', apiGroup: '', resource: 'pods', subresource: '', namespace: 'default', name: '', ...a });
  const message = (r: ReturnType<typeof nodeRestrictionAdmit>): string => (r.allowed ? 'allowed' : r.status.message);

  it('ignores users that are not nodes', () => {
    expect(nodeRestrictionAdmit(base({ user: { name: 'alice', groups: [] }, operation: 'DELETE', name: 'web-2' }), source)).to.deep.equal({ allowed: true });
  });

  it('lets a node modify only its own Node object and status', () => {
    const n = (name: string, labels: Record<string, string> = {}): Node => ({ metadata: { name, labels }, spec: {} });
    expect(nodeRestrictionAdmit(base({ resource: 'nodes', subresource: 'status', name: 'node-1', object: n('node-1'), oldObject: n('node-1') }), source).allowed).to.equal(true);
    const denied = nodeRestrictionAdmit(base({ resource: 'nodes', subresource: 'status', name: 'node-2', object: n('node-2'), oldObject: n('node-2') }), source);
    expect(denied).to.deep.equal({
      allowed: false,
      status: { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, details: { name: 'node-2', kind: 'nodes' }, message: 'nodes "node-2" is forbidden: node "node-1" is not allowed to modify node "node-2"' },
    });
    expect(message(nodeRestrictionAdmit(base({ operation: 'CREATE', resource: 'nodes', object: n('node-1', { 'kubernetes.io/hostname': 'node-1', 'node-role.kubernetes.io/control-plane': '' }) }), source))).to.equal(
      'nodes "node-1" is forbidden: node "node-1" is not allowed to set the following labels: node-role.kubernetes.io/control-plane',
    );
    expect(nodeRestrictionAdmit(base({ operation: 'CREATE', resource: 'nodes', object: n('node-1', { 'kubernetes.io/hostname': 'node-1', 'kubernetes.io/os': 'linux' }) }), source).allowed).to.equal(true);
    const tainted: Node = { metadata: { name: 'node-1' }, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } };
    expect(message(nodeRestrictionAdmit(base({ resource: 'nodes', name: 'node-1', object: n('node-1'), oldObject: tainted }), source))).to.equal('nodes "node-1" is forbidden: node "node-1" is not allowed to modify taints');
  });

  it('lets a node update status only of pods bound to itself', () => {
    const web1 = pods[0]!;
    const web2 = pods[1]!;
    expect(nodeRestrictionAdmit(base({ subresource: 'status', name: 'web-1', object: web1, oldObject: web1 }), source).allowed).to.equal(true);
    expect(message(nodeRestrictionAdmit(base({ subresource: 'status', name: 'web-2', object: web2, oldObject: web2 }), source))).to.equal(
      'pods "web-2" is forbidden: node "node-1" can only update pod status for pods with spec.nodeName set to itself',
    );
    const relabelled: Pod = { ...web1, metadata: { ...web1.metadata, labels: { app: 'x' } } };
    expect(message(nodeRestrictionAdmit(base({ subresource: 'status', name: 'web-1', object: relabelled, oldObject: web1 }), source))).to.equal('pods "web-1" is forbidden: node "node-1" cannot update labels through pod status');
  });

  it('lets a node create only mirror pods bound to itself and delete only its own pods', () => {
    expect(message(nodeRestrictionAdmit(base({ operation: 'CREATE', name: 'p', object: pod('p', 'node-1') }), source))).to.equal(
      'pods "p" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "node-1" can only create mirror pods',
    );
    const mirror = pod('static-node-1', 'node-1');
    mirror.metadata.annotations = { 'kubernetes.io/config.mirror': 'hash' };
    mirror.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: 'node-1-uid', controller: true }];
    expect(nodeRestrictionAdmit(base({ operation: 'CREATE', name: 'static-node-1', object: mirror }), source)).to.deep.equal({ allowed: true });
    const elsewhere = structuredClone(mirror);
    elsewhere.spec.nodeName = 'node-2';
    expect(message(nodeRestrictionAdmit(base({ operation: 'CREATE', name: 'static-node-1', object: elsewhere }), source))).to.equal('pods "static-node-1" is forbidden: node "node-1" can only create pods with spec.nodeName set to itself');
    const withSecret = structuredClone(mirror);
    withSecret.spec.volumes = [{ name: 's', secret: { secretName: 'x' } }];
    expect(message(nodeRestrictionAdmit(base({ operation: 'CREATE', name: 'static-node-1', object: withSecret }), source))).to.equal('pods "static-node-1" is forbidden: node "node-1" can not create pods that reference secrets');

    expect(nodeRestrictionAdmit(base({ operation: 'DELETE', name: 'web-1' }), source).allowed).to.equal(true);
    expect(message(nodeRestrictionAdmit(base({ operation: 'DELETE', name: 'web-2' }), source))).to.equal('pods "web-2" is forbidden: node "node-1" can only delete pods with spec.nodeName set to itself');
    const missing = nodeRestrictionAdmit(base({ operation: 'DELETE', name: 'ghost' }), source);
    expect(missing.allowed ? null : missing.status).to.include({ code: 404, reason: 'NotFound', message: 'pod "ghost" not found' });
    expect(message(nodeRestrictionAdmit(base({ name: 'web-1', object: pods[0], oldObject: pods[0] }), source))).to.equal(
      'pods "web-1" is forbidden: unexpected operation "UPDATE", node "node-1" can only create and delete mirror pods',
    );
  });

  it('lets a node write only its own lease in kube-node-lease', () => {
    const lease = (name: string) => ({ metadata: { name, namespace: 'kube-node-lease' }, spec: {} });
    const l = (a: Partial<AdmissionAttributes>) => base({ apiGroup: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease', ...a });
    expect(nodeRestrictionAdmit(l({ operation: 'CREATE', object: lease('node-1') }), source).allowed).to.equal(true);
    expect(message(nodeRestrictionAdmit(l({ operation: 'CREATE', object: lease('node-2') }), source))).to.equal(
      'leases.coordination.k8s.io "node-2" is forbidden: can only access node lease with the same name as the requesting node',
    );
    expect(message(nodeRestrictionAdmit(l({ name: 'node-2', object: lease('node-2'), oldObject: lease('node-2') }), source))).to.equal(
      'leases.coordination.k8s.io "node-2" is forbidden: can only access node lease with the same name as the requesting node',
    );
  });

  it('allows service-account tokens only bound to a pod on the node', () => {
    const tr = (ref?: object) => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: 'web' }, spec: { audiences: [], ...(ref ? { boundObjectRef: ref } : {}) } });
    const sa = (object: object) => base({ operation: 'CREATE', resource: 'serviceaccounts', subresource: 'token', name: 'web', object });
    expect(nodeRestrictionAdmit(sa(tr({ apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: 'uid-web-1' })), source).allowed).to.equal(true);
    expect(message(nodeRestrictionAdmit(sa(tr()), source))).to.equal('serviceaccounts "web" is forbidden: node requested token not bound to a pod');
    expect(message(nodeRestrictionAdmit(sa(tr({ apiVersion: 'v1', kind: 'Pod', name: 'web-2', uid: 'uid-web-2' })), source))).to.equal(
      'serviceaccounts "web" is forbidden: node requested token bound to a pod scheduled on a different node',
    );
  });
});
