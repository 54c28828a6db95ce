import { expect } from 'chai';
import { KubeControllerManager } from '../../components/kube-controller-manager/index.js';
import { TokenCleaner } from '../../components/kube-controller-manager/tokencleaner.js';
import { ApiError, resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import type { InformerHandlers, Lister } from '../../components/client/informer.js';
import { bootstrapTokenSecret, type BootstrapTokenSecret } from '../../components/api/bootstrap-token.js';
import type { KubeObject, Secret } from '../../components/api/types.js';
import type { RequestEvent } from '../../components/client/trace.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import { waitFor } from '../../sim/wait.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { apiError } from '../helpers/api-error.js';

const HOUR = 3600_000;
const token = (id: string, expiresInMs: number): BootstrapTokenSecret =>
  bootstrapTokenSecret({ token: `${id}.0123456789abcdef`, now: new Date(Date.now() + expiresInMs), ttlMs: 0, description: `tokencleaner test ${id}` }).secret;

describe('tokencleaner and the garbage collector (kubeadm-certs expiring with its token)', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  let kcm: KubeControllerManager;
  const system = (name?: string): string => resourcePath({ resource: 'secrets', namespace: 'kube-system', ...(name ? { name } : {}) });
  const requests = (): RequestEvent[] => cp.recorder.events.filter((e): e is RequestEvent => e.type === 'request');
  const gone = (path: string): Promise<true> => waitFor(`${path} to be deleted`, async () => {
    try { await admin.get(path); return undefined; } catch (err) { if (err instanceof ApiError && err.httpStatus === 404) return true; throw err; }
  });

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    const cred = credential(pki, 'controller-manager.conf');
    kcm = new KubeControllerManager({
      apiserver: cp.url, identity: { cert: cred.certPem, key: cred.keyPem }, serverCa: caPem(pki, 'ca'), controllers: ['tokencleaner', 'garbagecollector'],
    }, { logger: silentLogger(), trace: cp.trace });
    await kcm.start();
  });

  after(async () => {
    await kcm?.stop();
    await cp?.stop();
  });

  it('deletes an expired bootstrap-token Secret as token-cleaner, and leaves an unexpired one and a non-token Secret alone', async () => {
    const expired = await admin.create<Secret>(system(), token('exp001', -HOUR));
    const valid = await admin.create<Secret>(system(), token('val001', 24 * HOUR));
    // An Opaque Secret with an `expiration` key in the past: not a token, not the cleaner's.
    const opaque = await admin.create<Secret>(system(), {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'not-a-token', namespace: 'kube-system' }, type: 'Opaque',
      data: { expiration: Buffer.from('2000-01-01T00:00:00Z').toString('base64') },
    });
    await gone(system(expired.metadata.name));
    const del = requests().find((e) => e.method === 'DELETE' && e.path === system(expired.metadata.name));
    expect(del).to.include({ user: 'system:serviceaccount:kube-system:token-cleaner', decision: 'allow', status: 200 });
    await kcm.idle();
    expect((await admin.get(system(valid.metadata.name))).metadata.uid).to.equal(valid.metadata.uid);
    expect((await admin.get(system(opaque.metadata.name))).metadata.uid).to.equal(opaque.metadata.uid);
  });

  it('looks at a token again when it expires (requeued after the time left), and deletes it then', async () => {
    const soon = await admin.create<Secret>(system(), token('soon01', 1500));
    await kcm.idle();
    expect((await admin.get(system(soon.metadata.name))).metadata.uid, 'still there before its expiration').to.equal(soon.metadata.uid);
    await gone(system(soon.metadata.name));
    const del = requests().find((e) => e.method === 'DELETE' && e.path === system(soon.metadata.name));
    expect(del?.user).to.equal('system:serviceaccount:kube-system:token-cleaner');
    expect(Date.parse(del!.at)).to.be.at.least(Date.parse(Buffer.from(soon.data?.['expiration'] ?? '', 'base64').toString()));
  });

  it('the garbage collector deletes a Secret whose owner Secret is gone (by uid), and keeps one whose owner exists', async () => {
    const ns = resourcePath({ resource: 'secrets', namespace: 'default' });
    const owner = await admin.create<Secret>(ns, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'owner', namespace: 'default' }, type: 'Opaque' });
    const ref = (uid: string): KubeObject['metadata'] => ({ ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: 'owner', uid, controller: true, blockOwnerDeletion: true }] });
    const dependent = await admin.create<Secret>(ns, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dependent', namespace: 'default', ...ref(owner.metadata.uid!) }, type: 'Opaque' });
    // Same owner name, another uid: the object it names does not exist, so this one is collected at once.
    await admin.create<Secret>(ns, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'stale', namespace: 'default', ...ref('00000000-0000-0000-0000-000000000000') }, type: 'Opaque' });
    await gone(`${ns}/stale`);
    await kcm.idle();
    expect((await admin.get(`${ns}/dependent`)).metadata.uid, 'its owner exists').to.equal(dependent.metadata.uid);
    await admin.delete(`${ns}/owner`);
    await gone(`${ns}/dependent`);
    const del = requests().filter((e) => e.method === 'DELETE' && (e.path === `${ns}/dependent` || e.path === `${ns}/stale`));
    expect(del.map((e) => e.user)).to.deep.equal(['system:serviceaccount:kube-system:generic-garbage-collector', 'system:serviceaccount:kube-system:generic-garbage-collector']);
  });

  it('kubeadm-certs goes with its expired token: the cleaner deletes the token, the collector the Secret it owns', async () => {
    const t = await admin.create<Secret>(system(), token('certs1', 1000));
    await admin.create<Secret>(system(), {
      apiVersion: 'v1', kind: 'Secret', type: 'Opaque', data: { 'ca.crt': Buffer.from('encrypted').toString('base64') },
      metadata: { name: 'kubeadm-certs', namespace: 'kube-system', ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: t.metadata.name!, uid: t.metadata.uid!, controller: true, blockOwnerDeletion: true }] },
    });
    await gone(system('kubeadm-certs'));
    const users = requests().filter((e) => e.method === 'DELETE' && (e.path === system(t.metadata.name) || e.path === system('kubeadm-certs'))).map((e) => `${e.path.split('/').pop()!} ${e.user}`);
    expect(users).to.deep.equal([`${t.metadata.name!} system:serviceaccount:kube-system:token-cleaner`, 'kubeadm-certs system:serviceaccount:kube-system:generic-garbage-collector']);
    expect((await apiError(admin.get(system(t.metadata.name)))).httpStatus).to.equal(404);
  });
});

describe('TokenCleaner.evalSecret', () => {
  /** A lister over a fixed set, and a client that records its DELETEs (answering as told). */
  const harness = (secrets: BootstrapTokenSecret[], answer: (path: string) => Promise<unknown> = async () => ({})) => {
    const handlers: InformerHandlers<BootstrapTokenSecret>[] = [];
    const lister: Lister<BootstrapTokenSecret> = {
      get: (key) => secrets.find((s) => `${s.metadata.namespace}/${s.metadata.name}` === key),
      list: () => secrets,
      addHandlers: (h) => { handlers.push(h); },
    };
    const deletes: { path: string; options: unknown }[] = [];
    const client = { delete: (path: string, options: unknown) => { deletes.push({ path, options }); return answer(path); } } as unknown as KubeClient;
    const cleaner = new TokenCleaner({ client, secrets: lister, logger: silentLogger(), clock: { now: () => new Date() } });
    for (const s of secrets) for (const h of handlers) h.add?.(s);
    return { cleaner, deletes };
  };
  const withUid = (s: BootstrapTokenSecret, uid: string): BootstrapTokenSecret => ({ ...s, metadata: { ...s.metadata, uid } });

  it('deletes only the expired token, with a UID precondition (the answer here: 409, another Secret of that name now)', async () => {
    const { cleaner, deletes } = harness([withUid(token('aaaaaa', -1000), 'uid-a'), withUid(token('bbbbbb', HOUR), 'uid-b')],
      async () => { throw new ApiError(409, undefined, 'Precondition failed: UID in precondition: uid-a, UID in object meta: uid-new'); });
    await cleaner.queue.idle();
    cleaner.queue.stop();
    expect(deletes).to.deep.equal([{ path: '/api/v1/namespaces/kube-system/secrets/bootstrap-token-aaaaaa', options: { preconditions: { uid: 'uid-a' } } }]);
  });

  it('treats an unparsable expiration as expired, and a token without one as never expiring', async () => {
    const bad = token('cccccc', HOUR);
    bad.data!['expiration'] = Buffer.from('tomorrow').toString('base64');
    const forever = token('dddddd', HOUR);
    delete forever.data!['expiration'];
    const { cleaner, deletes } = harness([withUid(bad, 'uid-c'), withUid(forever, 'uid-d')]);
    await cleaner.queue.idle();
    cleaner.queue.stop();
    expect(deletes.map((d) => d.path)).to.deep.equal(['/api/v1/namespaces/kube-system/secrets/bootstrap-token-cccccc']);
  });
});
