/**
 * pods/exec and pods/portforward across both hops: the client to the apiserver (authorized as
 * `get` for a WebSocket GET, `create` for a SPDY POST), the apiserver to the kubelet over mTLS with
 * apiserver-kubelet-client (the kubelet's SubjectAccessReview for nodes/proxy).
 */
import { expect } from 'chai';
import { Kubelet } from '../../components/kubelet/index.js';
import { KubeApiserver } from '../../components/kube-apiserver/index.js';
import { resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import type { Identity } from '../../components/client/tls.js';
import type { Pod } from '../../components/api/types.js';
import { caPem, credential, issuePki, kubeletClientName, kubeletServingName, type LeafName, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import { waitFor } from '../../sim/wait.js';
import { clusterTls } from '../../sim/wiring.js';
import { clientCertFor } from '../../scenarios/refusals.js';
import { foreignAdmin } from '../../scenarios/tour.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { rawUpgrade, spdyForward, wsExec } from '../helpers/exec-client.js';

const identity = (pki: Pki, name: LeafName): Identity => ({ cert: credential(pki, name).certPem, key: credential(pki, name).keyPem });

describe('exec and port-forward through the apiserver and the kubelet', function () {
  this.timeout(90_000);
  let pki: Pki;
  let cp: ControlPlane;
  let kubelet: Kubelet;
  let admin: KubeClient;
  let jane: Identity;
  let bob: Identity;
  let kubeletUrl: string;
  const tls = (id: Identity) => ({ ...id, ca: caPem(pki, 'ca') });
  const podUrl = (base: string, pod: string, sub: string, q = '') => `${base}/api/v1/namespaces/default/pods/${pod}/${sub}${q ? `?${q}` : ''}`;

  before(async function () {
    pki = await issuePki({ nodes: ['node-1'] });
    cp = await startControlPlane(pki);
    kubelet = new Kubelet({
      nodeName: 'node-1', nodeIP: '127.0.2.1', podCIDR: '10.244.1.0/24', apiserver: cp.url,
      identity: identity(pki, kubeletClientName('node-1')), serverCa: caPem(pki, 'ca'),
      servingIdentity: identity(pki, kubeletServingName('node-1')), clientCa: caPem(pki, 'ca'), port: 0,
    }, { logger: silentLogger(), trace: cp.trace });
    kubeletUrl = `https://127.0.2.1:${(await kubelet.start()).port}`;
    admin = cp.client('admin.conf');
    await admin.create(resourcePath({ resource: 'pods', namespace: 'default' }), {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' },
      spec: { nodeName: 'node-1', containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }], env: [{ name: 'GREETING', value: 'hello' }] }] },
    } as Pod);
    // jane may read pods and `get` pods/exec (what a WebSocket upgrade is authorized as in 1.32); bob nothing.
    const rbac = 'rbac.authorization.k8s.io';
    await admin.create(resourcePath({ group: rbac, resource: 'roles', namespace: 'default' }), {
      apiVersion: `${rbac}/v1`, kind: 'Role', metadata: { name: 'exec-get' }, rules: [{ apiGroups: [''], resources: ['pods', 'pods/exec'], verbs: ['get'] }],
    });
    await admin.create(resourcePath({ group: rbac, resource: 'rolebindings', namespace: 'default' }), {
      apiVersion: `${rbac}/v1`, kind: 'RoleBinding', metadata: { name: 'jane-exec-get' },
      roleRef: { apiGroup: rbac, kind: 'Role', name: 'exec-get' }, subjects: [{ apiGroup: rbac, kind: 'User', name: 'jane' }],
    });
    [jane, bob] = await Promise.all([clientCertFor(pki, { cn: 'jane', o: [] }), clientCertFor(pki, { cn: 'bob', o: [] })]);
    await waitFor('pod web running on node-1', () => kubelet.runningPods().some((p) => p.name === 'web') || undefined);
  });
  after(async function () {
    await kubelet?.stop();
    await cp?.stop();
  });

  describe('exec over v5.channel.k8s.io (kubectl >= 1.31)', () => {
    it('hostname: stdout, then a Success Status on the error channel; both hops traced', async function () {
      const r = await wsExec(podUrl(cp.url, 'web', 'exec', 'command=hostname&stdout=true&stderr=true'), tls(identity(pki, 'admin.conf')));
      expect(r).to.deep.include({ protocol: 'v5.channel.k8s.io', stdout: 'web\n', stderr: '' });
      expect(r.status).to.deep.equal({ metadata: {}, status: 'Success' });
      const hops = cp.recorder.events.filter((e) => e.type === 'request' && e.path.includes('command=hostname'));
      expect(hops.map((e) => (e.type === 'request' ? `${e.server} ${e.user} ${e.verb} ${e.resource} ${e.status}` : ''))).to.have.members([
        'kube-apiserver kubernetes-admin get pods/exec 101',
        'kubelet (node-1) kube-apiserver-kubelet-client create nodes/proxy 101',
      ]);
    });

    it('exit codes come back as NonZeroExitCode with the ExitCode cause', async function () {
      const r = await wsExec(podUrl(cp.url, 'web', 'exec', `command=sh&command=-c&command=${encodeURIComponent('echo out; cat /nope; exit 3')}&stdout=true&stderr=true`), tls(identity(pki, 'admin.conf')));
      expect(r.stdout).to.equal('out\n');
      expect(r.stderr).to.equal("cat: can't open '/nope': No such file or directory\n");
      expect(r.status).to.deep.equal({
        metadata: {}, status: 'Failure', reason: 'NonZeroExitCode', message: 'command terminated with non-zero exit code: command terminated with exit code 3',
        details: { causes: [{ reason: 'ExitCode', message: '3' }] },
      });
    });

    it('stdin lines reach an interactive sh until the CLOSE signal ends its input', async function () {
      const r = await wsExec(podUrl(cp.url, 'web', 'exec', 'command=sh&stdin=true&stdout=true&stderr=true'), tls(identity(pki, 'admin.conf')), 'cat /etc/hostname\necho $GREETING\nid\n');
      expect(r.stdout).to.equal('web\nhello\nuid=0(root) gid=0(root) groups=0(root),10(wheel)\n');
      expect(r.status?.status).to.equal('Success');
    });

    it('a program the image lacks is the runtime\'s InternalError, not an exit code', async function () {
      const r = await wsExec(podUrl(cp.url, 'web', 'exec', 'command=nosuch&stdout=true'), tls(identity(pki, 'admin.conf')));
      expect(r.status).to.include({ status: 'Failure', reason: 'InternalError', code: 500 });
      expect(r.status?.message).to.match(/OCI runtime exec failed: .*exec: "nosuch": executable file not found in \$PATH: unknown$/);
    });
  });

  describe('authorization at the apiserver', () => {
    it('a user with no rights on pods/exec: 403 for the WebSocket GET (get) and for the SPDY POST (create)', async function () {
      const ws = await wsExec(podUrl(cp.url, 'web', 'exec', 'command=hostname&stdout=true'), tls(bob));
      expect(ws.refused?.status).to.equal(403);
      expect(JSON.parse(ws.refused!.body)).to.include({ reason: 'Forbidden', message: 'pods "web" is forbidden: User "bob" cannot get resource "pods/exec" in API group "" in the namespace "default"' });
      const spdy = await rawUpgrade(podUrl(cp.url, 'web', 'exec', 'command=hostname&stdout=true'), tls(bob), 'POST', { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
      expect(spdy.upgraded).to.equal(false);
      if (spdy.upgraded) return;
      expect(spdy.status).to.equal(403);
      expect(JSON.parse(spdy.body).message).to.equal('pods "web" is forbidden: User "bob" cannot create resource "pods/exec" in API group "" in the namespace "default"');
      const denied = cp.recorder.events.filter((e) => e.type === 'request' && e.server === 'kube-apiserver' && e.user === 'bob' && e.resource === 'pods/exec');
      expect(denied.map((e) => (e.type === 'request' ? `${e.verb} ${e.status} ${e.layer}` : ''))).to.have.members(['get 403 authorization', 'create 403 authorization']);
    });

    it('1.32: `get` on pods/exec is enough for a WebSocket exec, `create` is needed for SPDY', async function () {
      const ws = await wsExec(podUrl(cp.url, 'web', 'exec', 'command=hostname&stdout=true'), tls(jane));
      expect(ws.stdout).to.equal('web\n');
      const spdy = await rawUpgrade(podUrl(cp.url, 'web', 'exec', 'command=hostname&stdout=true'), tls(jane), 'POST', { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
      expect(spdy.upgraded ? 101 : spdy.status).to.equal(403);
    });

    it('with AuthorizePodWebsocketUpgradeCreatePermission (1.35) the WebSocket upgrade also needs `create`', async function () {
      const t = clusterTls(pki, { kubeletCertificateAuthority: false });
      const gated = new KubeApiserver({
        host: pki.plan.advertiseAddress, port: 0, ...t.apiserver, etcd: { endpoints: [cp.etcd.clientUrl], ...t.apiserver.etcd },
        serviceAccount: pki.serviceAccount, logger: silentLogger(), authorizePodWebsocketUpgradeCreatePermission: true,
      });
      await gated.start();
      try {
        const r = await wsExec(podUrl(gated.url, 'web', 'exec', 'command=hostname&stdout=true'), tls(jane));
        expect(r.refused?.status).to.equal(403);
        expect(JSON.parse(r.refused!.body).message).to.equal('pods "web" is forbidden: User "jane" cannot create resource "pods/exec" in API group "" in the namespace "default"');
        const ok = await wsExec(podUrl(gated.url, 'web', 'exec', 'command=hostname&stdout=true'), tls(identity(pki, 'admin.conf')));
        expect(ok.stdout).to.equal('web\n');
      } finally {
        await gated.stop();
      }
    });

    it('a plain GET on pods/exec is 400 Upgrade request required; a missing pod 404', async function () {
      const plain = await admin.raw('GET', resourcePath({ resource: 'pods', namespace: 'default', name: 'web', subresource: 'exec' }));
      expect(plain.status).to.equal(400);
      expect(JSON.parse(plain.body).message).to.equal('Upgrade request required');
      const missing = await wsExec(podUrl(cp.url, 'nope', 'exec', 'command=hostname&stdout=true'), tls(identity(pki, 'admin.conf')));
      expect(missing.refused?.status).to.equal(404);
    });
  });

  describe('the kubelet refuses a client that is not the apiserver', () => {
    const exec = (id: Identity | undefined) => rawUpgrade(`${kubeletUrl}/exec/default/web/web?command=hostname&output=1`, id ? tls(id) : { ca: caPem(pki, 'ca') }, 'POST',
      { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });

    it('apiserver-kubelet-client is allowed create on nodes/proxy and switches to SPDY/3.1', async function () {
      const r = await exec(identity(pki, 'apiserver-kubelet-client'));
      expect(r.upgraded).to.equal(true);
      if (r.upgraded) { expect(r.protocol).to.equal('v4.channel.k8s.io'); r.socket.destroy(); }
    });

    it('a node\'s own client certificate: 403 from the kubelet\'s SubjectAccessReview', async function () {
      const r = await exec(identity(pki, kubeletClientName('node-1')));
      expect(r).to.deep.equal({ upgraded: false, status: 403, body: 'Forbidden (user=system:node:node-1, verb=create, resource=nodes, subresource=proxy)' });
    });

    it('a user without nodes/proxy: 403; no certificate or a foreign CA: 401', async function () {
      expect(await exec(bob)).to.deep.equal({ upgraded: false, status: 403, body: 'Forbidden (user=bob, verb=create, resource=nodes, subresource=proxy)' });
      expect(await exec(undefined)).to.deep.equal({ upgraded: false, status: 401, body: 'Unauthorized' });
      expect(await exec(await foreignAdmin(pki))).to.deep.equal({ upgraded: false, status: 401, body: 'Unauthorized' });
    });
  });

  describe('port-forward over SPDY (proxied to the kubelet as it came)', () => {
    it('a declared port answers HTTP through both hops', async function () {
      const r = await spdyForward(podUrl(cp.url, 'web', 'portforward'), tls(identity(pki, 'admin.conf')), 80, 'GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
      expect(r.protocol).to.equal('portforward.k8s.io');
      expect(r.data).to.match(/^HTTP\/1\.1 200 OK\r\n/);
      expect(r.data).to.match(/Hello from default\/web \(container web, image nginx:1\.27\), listening on 10\.244\.1\.\d+:80: GET \/hello\n$/);
      expect(r.error).to.equal('');
    });

    it('a port nothing listens on: the runtime\'s connection refused on the error stream', async function () {
      const r = await spdyForward(podUrl(cp.url, 'web', 'portforward'), tls(identity(pki, 'admin.conf')), 8080, 'GET / HTTP/1.1\r\n\r\n');
      expect(r.data).to.equal('');
      expect(r.error).to.match(/^error forwarding port 8080 to pod [0-9a-f]{64}, uid : .*dial tcp4 127\.0\.0\.1:8080: connect: connection refused/);
    });
  });
});
