/**
 * Issue 11, routing slice: request routing from the resource table, the query string parsed once
 * with Go's rules, one selector parser shared by the Node authorizer and the storage layer, and the
 * query parameters a list or watch must refuse with a 4xx instead of a 500 or a silent yes.
 */
import { expect } from 'chai';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeClient, resourcePath } from '../../components/client/kube-client.js';
import type { KubeObject, Pod, Status } from '../../components/api/types.js';
import { requestInfo } from '../../components/kube-apiserver/auth/request-info.js';
import { parseFieldSelectorTerms } from '../../components/api/selectors.js';
import { ApiStatusError } from '../../components/api/errors.js';
import { caPem, credential, issuePki, kubeletClientName, type Pki } from '../../pki/store.js';
import { waitFor } from '../../sim/wait.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

interface Reply { status: number; body: string }

/** One request with any headers and a path sent exactly as given (a raw `#` included). */
function send(cp: ControlPlane, who: { cert?: string; key?: string; token?: string }, ca: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Reply> {
  const url = new URL(cp.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: url.hostname, port: url.port, method, path, agent: false, ca, ...(who.cert ? { cert: who.cert, key: who.key } : {}),
      headers: {
        Accept: 'application/json', ...headers, ...(who.token ? { Authorization: `Bearer ${who.token}` } : {}),
        ...(payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) }),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const statusOf = (r: Reply): Status => JSON.parse(r.body) as Status;
const lines = (body: string): { type: string; object: KubeObject & Partial<Status> }[] =>
  body.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { type: string; object: KubeObject & Partial<Status> });

const NOT_FOUND = { code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' };
const NOT_ALLOWED = { code: 405, reason: 'MethodNotAllowed', message: 'the server does not allow this method on the requested resource' };

describe('security: routing, the query string and selectors (issue 11)', function () {
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  let ca: string;
  let adminId: { cert: string; key: string };
  let node1: { cert: string; key: string };
  /** system:serviceaccount:team:ns-admin: `*` on `*` in namespace team, nothing else. */
  let nsAdmin: { token: string };
  /** system:serviceaccount:team:maker: create configmaps with resourceNames [allowed]. */
  let maker: { token: string };

  const tokenFor = async (sa: string): Promise<string> => {
    await admin.create(resourcePath({ resource: 'serviceaccounts', namespace: 'team' }), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa } });
    const tr = await admin.create<KubeObject & { status: { token: string } }>(resourcePath({ resource: 'serviceaccounts', namespace: 'team', name: sa, subresource: 'token' }), { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { expirationSeconds: 3600 } } as KubeObject);
    return tr.status.token;
  };
  const bind = async (name: string, sa: string, rules: object[]): Promise<void> => {
    const rbac = (resource: string): string => resourcePath({ group: 'rbac.authorization.k8s.io', resource, namespace: 'team' });
    await admin.create(rbac('roles'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name }, rules });
    await admin.create(rbac('rolebindings'), {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name: sa, namespace: 'team' }],
    });
  };

  before(async () => {
    pki = await issuePki({ nodes: ['node-1', 'node-2'] });
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    ca = caPem(pki, 'ca');
    const a = credential(pki, 'admin.conf');
    adminId = { cert: a.certPem, key: a.keyPem };
    const n = credential(pki, kubeletClientName('node-1'));
    node1 = { cert: n.certPem, key: n.keyPem };
    await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    nsAdmin = { token: await tokenFor('ns-admin') };
    maker = { token: await tokenFor('maker') };
    await bind('ns-admin', 'ns-admin', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]);
    await bind('maker', 'maker', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create'], resourceNames: ['allowed'] }]);
    for (const [name, node] of [['on-1', 'node-1'], ['on-2', 'node-2']] as const) {
      await admin.create(resourcePath({ resource: 'pods', namespace: 'default' }), {
        apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, containers: [{ name: 'app', image: 'nginx:1.27' }] },
      });
    }
  });
  after(async () => { await cp?.stop(); });

  describe('item 3: each resource is reachable only at the paths its scope gives', () => {
    it('a namespace admin gets 404 for cluster-scoped resources under /namespaces/team/, and nothing is created', async () => {
      const crb = {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'escalate' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'ns-admin', namespace: 'team' }],
      };
      const create = await send(cp, nsAdmin, ca, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/clusterrolebindings', {}, crb);
      expect(create.status).to.equal(404);
      expect(statusOf(create)).to.deep.include(NOT_FOUND);
      expect((await admin.raw('GET', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/escalate')).status).to.equal(404);
      for (const path of [
        '/apis/rbac.authorization.k8s.io/v1/namespaces/team/clusterrolebindings',
        '/apis/rbac.authorization.k8s.io/v1/namespaces/team/clusterroles/cluster-admin',
        '/api/v1/namespaces/team/nodes',
        '/api/v1/namespaces/team/nodes/node-1',
        '/api/v1/namespaces/team/nodes/node-1/proxy/pods',
        '/api/v1/namespaces/team/namespaces/team',
        '/apis/certificates.k8s.io/v1/namespaces/team/certificatesigningrequests',
      ]) {
        const r = await send(cp, nsAdmin, ca, 'GET', path);
        expect(r.status, path).to.equal(404);
        expect(statusOf(r), path).to.deep.include(NOT_FOUND);
      }
      // The same for cluster-admin: authorized, then no route.
      expect((await admin.raw('DELETE', '/api/v1/namespaces/team/nodes/node-1')).status).to.equal(404);
    });

    it('answers 404 for a namespaced resource named without its namespace, 405 for a write to the all-namespaces list', async () => {
      expect(statusOf(await send(cp, adminId, ca, 'GET', '/api/v1/configmaps/x'))).to.deep.include(NOT_FOUND);
      expect(statusOf(await send(cp, adminId, ca, 'DELETE', '/api/v1/pods/on-1'))).to.deep.include(NOT_FOUND);
      expect(statusOf(await send(cp, adminId, ca, 'POST', '/api/v1/configmaps', {}, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'team' } }))).to.deep.include(NOT_ALLOWED);
      expect(statusOf(await send(cp, adminId, ca, 'DELETE', '/api/v1/pods'))).to.deep.include(NOT_ALLOWED);
    });

    it('still serves each resource at its own paths', async () => {
      expect((await send(cp, nsAdmin, ca, 'GET', '/api/v1/namespaces/team/configmaps')).status).to.equal(200);
      expect((await send(cp, adminId, ca, 'GET', '/api/v1/namespaces/team')).status).to.equal(200);
      expect((await send(cp, adminId, ca, 'GET', '/api/v1/namespaces/team/status')).status).to.equal(200);
      expect((await send(cp, adminId, ca, 'GET', '/api/v1/pods')).status).to.equal(200);
      expect((await send(cp, adminId, ca, 'GET', '/api/v1/nodes')).status).to.equal(200);
      expect((await send(cp, adminId, ca, 'GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin')).status).to.equal(200);
    });

    it('the deprecated /watch/ paths keep the scope too: a cluster-scoped resource under /watch/namespaces/<ns>/ is 404, and nothing streams', async () => {
      for (const path of [
        '/apis/rbac.authorization.k8s.io/v1/watch/namespaces/team/clusterrolebindings',
        '/apis/rbac.authorization.k8s.io/v1/watch/namespaces/team/clusterroles/cluster-admin',
        '/api/v1/watch/namespaces/team/nodes',
        '/api/v1/watch/namespaces/team/nodes/node-1',
      ]) {
        const r = await send(cp, nsAdmin, ca, 'GET', `${path}?timeoutSeconds=1`);
        expect(r.status, path).to.equal(404);
        expect(statusOf(r), path).to.deep.include(NOT_FOUND);
      }
    });

    it('authorizes before routing, as Kubernetes\' handler chain does: an anonymous caller gets 403, an authorized one the 404', async () => {
      const r = await send(cp, {}, ca, 'GET', '/api/v1/namespaces/team/nodes');
      expect(r.status).to.equal(403);
      expect(JSON.parse(r.body)).to.deep.include({ reason: 'Forbidden', message: 'nodes is forbidden: User "system:anonymous" cannot list resource "nodes" in API group "" in the namespace "team"' });
      expect(statusOf(await send(cp, nsAdmin, ca, 'GET', '/api/v1/namespaces/team/nodes'))).to.deep.include(NOT_FOUND);
    });
  });

  describe('item 4: the Node authorizer and the storage read one parse of one query', () => {
    const names = (r: Reply): string[] => (JSON.parse(r.body) as { items: Pod[] }).items.map((p) => p.metadata.name ?? '').sort();

    it('a field selector that smuggles spec.nodeName=node-1 lists only node-1\'s pods', async () => {
      const sel = encodeURIComponent('spec.nodeName!=x(,spec.nodeName=node-1,spec.nodeName!=)');
      const r = await send(cp, node1, ca, 'GET', `/api/v1/pods?fieldSelector=${sel}`);
      expect(r.status).to.equal(200);
      expect(names(r)).to.deep.equal(['on-1']);
      const w = await send(cp, node1, ca, 'GET', `/api/v1/pods?watch=1&timeoutSeconds=1&fieldSelector=${sel}`);
      expect(w.status).to.equal(200);
      expect(lines(w.body).map((e) => `${e.type} ${e.object.metadata?.name ?? ''}`)).to.deep.equal(['ADDED on-1']);
    });

    it('a raw # in the query is part of the query (Go\'s ParseRequestURI), list and watch', async () => {
      const r = await send(cp, node1, ca, 'GET', '/api/v1/pods?x=#&fieldSelector=spec.nodeName=node-1');
      expect(r.status).to.equal(200);
      expect(names(r)).to.deep.equal(['on-1']);
      const w = await send(cp, node1, ca, 'GET', '/api/v1/pods?x=#&watch=1&timeoutSeconds=1&fieldSelector=spec.nodeName=node-1');
      expect(w.status).to.equal(200);
      expect(lines(w.body).map((e) => `${e.type} ${e.object.metadata?.name ?? ''}`)).to.deep.equal(['ADDED on-1']);
      // And RequestInfo reads the same query.
      expect(requestInfo('GET', '/api/v1/pods?x=#&fieldSelector=spec.nodeName=node-1').fieldSelector).to.deep.equal([{ field: 'spec.nodeName', operator: '=', value: 'node-1' }]);
    });

    it('a node without the selector is still refused', async () => {
      expect((await send(cp, node1, ca, 'GET', '/api/v1/pods')).status).to.equal(403);
      // The raw # stays in the path: the resource is "pods#fieldSelector=...", which nobody may list (then no route).
      expect((await send(cp, node1, ca, 'GET', '/api/v1/pods#fieldSelector=spec.nodeName=node-1')).status).to.equal(403);
    });

    it('parses field selectors as fields.ParseSelector does: \\, \\= \\\\ escapes, no trimming, sorted terms', () => {
      expect(parseFieldSelectorTerms('a=b\\,c\\=d\\\\')).to.deep.equal([{ field: 'a', operator: '=', value: 'b,c=d\\' }]);
      expect(parseFieldSelectorTerms('z!=1,a==2, b=3')).to.deep.equal([
        { field: ' b', operator: '=', value: '3' }, { field: 'a', operator: '=', value: '2' }, { field: 'z', operator: '!=', value: '1' },
      ]);
      const refusal = (s: string): string => {
        try { parseFieldSelectorTerms(s); } catch (err) { if (err instanceof ApiStatusError) return `${err.status.code} ${err.status.message}`; throw err; }
        return 'accepted';
      };
      expect(refusal('a=b=c')).to.equal('400 invalid field selector: unescaped character in value: 61');
      expect(refusal('a=\\x')).to.equal('400 invalid field selector: invalid escape sequence: \\x');
      expect(refusal('a=b\\')).to.equal('400 invalid field selector: invalid escape sequence: \\');
      expect(refusal('nonsense')).to.equal("400 invalid selector: 'nonsense'; can't understand 'nonsense'");
    });
  });

  describe('item 7: no POST on a named object', () => {
    it('POST .../configmaps/allowed is a 405 and creates nothing; resourceNames never matches a create', async () => {
      const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' }, data: { a: '1' } };
      const r = await send(cp, maker, ca, 'POST', '/api/v1/namespaces/team/configmaps/allowed', {}, cm);
      expect(r.status).to.equal(405);
      expect(statusOf(r)).to.deep.include(NOT_ALLOWED);
      expect((await admin.raw('GET', '/api/v1/namespaces/team/configmaps/other')).status).to.equal(404);
      const direct = await send(cp, maker, ca, 'POST', '/api/v1/namespaces/team/configmaps', {}, { ...cm, metadata: { name: 'allowed' } });
      expect(direct.status).to.equal(403);
      expect((await admin.raw('GET', '/api/v1/namespaces/team/configmaps/allowed')).status).to.equal(404);
    });
  });

  describe('item 11: query parameters answered with 4xx as Kubernetes does', () => {
    it('limit=2.5 is a 400 with strconv\'s words', async () => {
      const r = await send(cp, adminId, ca, 'GET', '/api/v1/namespaces/default/pods?limit=2.5');
      expect(r.status).to.equal(400);
      expect(statusOf(r)).to.deep.include({ reason: 'BadRequest', message: 'strconv.ParseInt: parsing "2.5": invalid syntax' });
    });

    it('a continue token of base64("null") is a 400 as storage.DecodeContinue words it', async () => {
      const token = Buffer.from('null').toString('base64url');
      const r = await send(cp, adminId, ca, 'GET', `/api/v1/namespaces/default/pods?continue=${token}`);
      expect(r.status).to.equal(400);
      expect(statusOf(r).message).to.equal('invalid continue token: continue key is not valid: server does not recognize this encoded version ');
      const padded = await send(cp, adminId, ca, 'GET', '/api/v1/namespaces/default/pods?continue=bnVsbA==');
      expect(statusOf(padded).message).to.equal('invalid continue token: continue key is not valid: illegal base64 data at input byte 6');
      // A real token still pages.
      const page = JSON.parse((await send(cp, adminId, ca, 'GET', '/api/v1/namespaces/default/pods?limit=1')).body) as { metadata: { continue: string } };
      const next = await send(cp, adminId, ca, 'GET', `/api/v1/namespaces/default/pods?limit=1&continue=${page.metadata.continue}`);
      expect((JSON.parse(next.body) as { items: Pod[] }).items.map((p) => p.metadata.name)).to.deep.equal(['on-2']);
    });

    it('Impersonate-Extra-%ZZ keeps the malformed key as it came, as unescapeExtraKey does', async () => {
      const r = await send(cp, adminId, ca, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { 'Impersonate-User': 'bob', 'Impersonate-Extra-%ZZ': 'v' }, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
      expect(r.status).to.equal(201);
      expect((JSON.parse(r.body) as { status: { userInfo: object } }).status.userInfo).to.deep.equal({ username: 'bob', groups: ['system:authenticated'], extra: { '%zz': ['v'] } });
    });

    it('a watch resourceVersion that is not a uint64 is a 400', async () => {
      const r = await send(cp, adminId, ca, 'GET', '/api/v1/namespaces/default/pods?watch=1&resourceVersion=1e2');
      expect(r.status).to.equal(400);
      expect(statusOf(r)).to.deep.include({ reason: 'BadRequest', message: 'invalid resource version: resourceVersion: Invalid value: "1e2": strconv.ParseUint: parsing "1e2": invalid syntax' });
    });

    it('a watch from a future resourceVersion ends with a 504 ResourceVersionTooLarge error event', async () => {
      const list = JSON.parse((await send(cp, adminId, ca, 'GET', '/api/v1/namespaces/default/pods')).body) as { metadata: { resourceVersion: string } };
      const future = Number(list.metadata.resourceVersion) + 1000;
      const w = await send(cp, adminId, ca, 'GET', `/api/v1/namespaces/default/pods?watch=1&resourceVersion=${future}`);
      expect(w.status).to.equal(200);
      const events = lines(w.body);
      expect(events).to.have.length(1);
      expect(events[0]!.type).to.equal('ERROR');
      expect(events[0]!.object).to.deep.include({ code: 504, reason: 'Timeout' });
      expect(events[0]!.object.message).to.match(new RegExp(`^Timeout: Too large resource version: ${future}, current: \\d+$`));
      expect(events[0]!.object.details).to.deep.equal({ causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
    });

    it('timeoutSeconds=1e10 is a 400; a large integer timeout keeps the watch open', async () => {
      const r = await send(cp, adminId, ca, 'GET', '/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1e10');
      expect(r.status).to.equal(400);
      expect(statusOf(r).message).to.equal('strconv.ParseInt: parsing "1e10": invalid syntax');
      // 10^8 s: beyond setTimeout's 2^31-1 ms, within Go's Duration.
      const url = new URL(cp.url);
      const seen: string[] = [];
      let ended = false;
      const req = https.request({ host: url.hostname, port: url.port, path: '/api/v1/namespaces/team/pods?watch=1&timeoutSeconds=100000000', agent: false, ca, ...adminId }, (res) => {
        res.on('data', (c: Buffer) => seen.push(c.toString()));
        res.on('end', () => { ended = true; });
        res.on('error', () => undefined);
      });
      req.on('error', () => undefined);
      req.end();
      try {
        await waitFor('the watch to start', () => (req.socket && !req.socket.connecting ? true : undefined), 5000);
        await admin.create(resourcePath({ resource: 'pods', namespace: 'team' }), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'long' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } });
        await waitFor('the ADDED event', () => (seen.join('').includes('"name":"long"') || ended ? true : undefined), 5000);
        expect(ended, 'the watch ended at once').to.equal(false);
        expect(seen.join('')).to.include('"type":"ADDED"');
      } finally {
        req.destroy();
      }
    });

    it('a node proxy subpath keeps %20 and %3F escaped (no 500, no query smuggled)', async () => {
      const serving = credential(pki, 'apiserver');
      const seen: string[] = [];
      const kubelet = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
        seen.push(req.url ?? '');
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
      });
      await new Promise<void>((resolve) => kubelet.listen(0, '127.0.0.1', resolve));
      try {
        const port = (kubelet.address() as AddressInfo).port;
        await admin.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'fake' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } });
        const a = await send(cp, adminId, ca, 'GET', '/api/v1/nodes/fake/proxy/a%20b');
        const b = await send(cp, adminId, ca, 'GET', '/api/v1/nodes/fake/proxy/x%3Fy=1?real=2');
        expect([a.status, b.status]).to.deep.equal([200, 200]);
        expect(seen).to.deep.equal(['/a%20b', '/x%3Fy=1?real=2']);
      } finally {
        kubelet.closeAllConnections();
        await new Promise<void>((resolve) => kubelet.close(() => resolve()));
      }
    });
  });
});
