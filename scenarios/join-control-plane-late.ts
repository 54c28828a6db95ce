/**
 * `npm run scenario -- join-control-plane-late`: kubeadm#2656, a control-plane join attempted after the
 * `kubeadm-certs` Secret has expired.
 *
 * `kubeadm init phase upload-certs --upload-certs` stores the encrypted CAs in kube-system/kubeadm-certs,
 * owned (ownerReference, by uid) by a bootstrap token that lives 2 hours; here its TTL is a few seconds.
 * When it expires, the controller-manager's token cleaner (service account token-cleaner) deletes the
 * token Secret, and the garbage collector (generic-garbage-collector) deletes kubeadm-certs, whose only
 * owner is gone. Both deletions are waited for on the apiserver's own request events, no sleep.
 * cp-2's `kubeadm join --control-plane` then reads the Secret with its join token (bootstrap token,
 * group system:bootstrappers:kubeadm:default-node-token, which Role kubeadm:kubeadm-certs still lets
 * get it): a real 404, and kubeadm's words. Running upload-certs again makes a new Secret, a new key
 * and a new owning token; the old key no longer decrypts anything, the new one joins cp-2.
 */
import { promises as fs } from 'node:fs';
import type { RequestEvent, TraceEvent } from '../components/client/trace.js';
import { KubeClient, resourcePath } from '../components/client/kube-client.js';
import type { KubeObject } from '../components/api/types.js';
import { BOOTSTRAP_TOKEN_SECRET_TYPE } from '../components/api/bootstrap-token.js';
import { CERT_TOKEN_DESCRIPTION, KUBEADM_CERTS_SECRET } from '../pki/copycerts.js';
import { PkiError } from '../pki/errors.js';
import { joinControlPlanePki } from '../pki/join.js';
import { caPem } from '../pki/store.js';
import { translator } from '../sim/i18n/index.js';
import { createBootstrapToken } from '../sim/join.js';
import type { Scenario } from '../sim/scenario.js';
import { downloadCertsFrom, uploadCerts } from '../sim/upload-certs.js';
import { tempClusterDir } from './lifecycle.js';

const EN = translator('en');
/** The owning token's TTL here (kubeadm's is 2 hours). */
const TOKEN_TTL_MS = 3000;
/** The bound on waiting for the two deletions (the token expires in TOKEN_TTL_MS). */
const GONE_TIMEOUT_MS = 30_000;
const TOKEN_CLEANER = 'system:serviceaccount:kube-system:token-cleaner';
const GARBAGE_COLLECTOR = 'system:serviceaccount:kube-system:generic-garbage-collector';
const KUBEADM_WORDS = 'error execution phase control-plane-prepare/download-certs: error downloading certs: error downloading the secret: ' +
  'Secret "kubeadm-certs" was not found in the "kube-system" Namespace. This Secret might have expired. ' +
  'Please, run `kubeadm init phase upload-certs --upload-certs` on a control plane to generate a new one';

const secretPath = (name: string): string => resourcePath({ resource: 'secrets', namespace: 'kube-system', name });
const isRequest = (e: TraceEvent): e is RequestEvent => e.type === 'request';
const deleteOf = (e: TraceEvent, name: string): e is RequestEvent =>
  isRequest(e) && e.method === 'DELETE' && e.path.split('?')[0] === secretPath(name) && e.status === 200;

export const joinControlPlaneLate: Scenario = {
  name: 'join-control-plane-late',
  title: EN('scenario.join-control-plane-late.title'),
  summary: EN('scenario.join-control-plane-late.summary'),
  needsCluster: true,
  async run(ctx) {
    const { cluster, pki } = ctx;
    const cp2Address = pki.plan.loopback === 'single' ? '127.0.0.1' : '127.0.1.2';
    const tmp = await tempClusterDir('k8s-cp-2-late-');
    const superAdmin = cluster.client('super-admin.conf', 'kubeadm init');
    // Every deletion the apiserver serves, from the start: the token may expire before the next step begins.
    const deletions: RequestEvent[] = [];
    const waiters = new Set<() => void>();
    const off = ctx.trace.on((e) => {
      if (isRequest(e) && e.method === 'DELETE') { deletions.push(e); for (const w of waiters) w(); }
    });
    /** Resolves with the first served DELETE of `name`, waiting on the request events; bounded. */
    const deleted = (name: string): Promise<RequestEvent> => new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = deletions.find((e) => deleteOf(e, name));
        if (hit) { waiters.delete(check); clearTimeout(timer); resolve(hit); }
        return hit !== undefined;
      };
      const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no DELETE of kube-system/${name} served within ${GONE_TIMEOUT_MS} ms`)); }, GONE_TIMEOUT_MS);
      waiters.add(check);
      check();
    });
    let joiner: KubeClient | undefined;
    try {
      const join = await ctx.step(ctx.t('joinLate.tokenCreate.title'), ctx.t('joinLate.tokenCreate.lesson'), async () => {
        const { token, secret } = await createBootstrapToken(superAdmin, { now: new Date(), description: 'join-control-plane-late: cp-2 joins with it' });
        ctx.say(ctx.t('joinLate.tokenCreate.say', { id: token.split('.')[0] ?? '', secret: secret.metadata.name ?? '' }));
        return token;
      });
      joiner = new KubeClient({ name: 'kubeadm join (cp-2)', server: cluster.apiserverUrl, serverCa: caPem(pki, 'ca'), token: join, trace: ctx.trace });

      const first = await ctx.step(ctx.t('joinLate.upload.title', { seconds: TOKEN_TTL_MS / 1000 }), ctx.t('joinLate.upload.lesson'), async () => {
        const up = await uploadCerts(superAdmin, pki, { tokenTtlMs: TOKEN_TTL_MS });
        ctx.say('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace'); // verbatim: kubeadm's output
        ctx.say(`[upload-certs] Using certificate key:\n${up.certificateKey}`); // verbatim: kubeadm's output
        const ref = up.secret.metadata.ownerReferences?.[0];
        ctx.say(`ownerReferences: [{kind: ${ref?.kind ?? ''}, name: ${ref?.name ?? ''}, uid: ${ref?.uid ?? ''}, controller: ${String(ref?.controller)}, blockOwnerDeletion: ${String(ref?.blockOwnerDeletion)}}]`); // verbatim: the Secret's fields
        ctx.say(`${up.token.name}: expiration ${up.token.expiration}`); // verbatim: the token Secret's field
        ctx.expect(ctx.t('joinLate.upload.expectOwned'),
          up.secret.metadata.ownerReferences?.length === 1 && ref?.apiVersion === 'v1' && ref.kind === 'Secret' && ref.name === up.token.name && ref.uid === up.token.uid && ref.controller === true && ref.blockOwnerDeletion === true,
          JSON.stringify(up.secret.metadata.ownerReferences));
        const token = await superAdmin.get<KubeObject & { type?: string; data?: Record<string, string> }>(secretPath(up.token.name));
        const keys = Object.keys(token.data ?? {}).sort();
        ctx.expect(ctx.t('joinLate.upload.expectToken', { keys: keys.join(', ') }),
          token.type === BOOTSTRAP_TOKEN_SECRET_TYPE && keys.join() === 'description,expiration,token-id,token-secret'
            && Buffer.from(token.data?.['description'] ?? '', 'base64').toString() === CERT_TOKEN_DESCRIPTION);
        return up;
      });

      await ctx.step(ctx.t('joinLate.expire.title'), ctx.t('joinLate.expire.lesson'), async () => {
        const tokenGone = await deleted(first.token.name);
        const certsGone = await deleted(KUBEADM_CERTS_SECRET);
        ctx.say(ctx.t('joinLate.expire.sayDelete', { at: tokenGone.at, path: secretPath(first.token.name), user: tokenGone.user, status: tokenGone.status }));
        ctx.say(ctx.t('joinLate.expire.sayDelete', { at: certsGone.at, path: secretPath(KUBEADM_CERTS_SECRET), user: certsGone.user, status: certsGone.status }));
        ctx.expect(ctx.t('joinLate.expire.expectCleaner', { token: first.token.name, user: TOKEN_CLEANER }), tokenGone.user === TOKEN_CLEANER, tokenGone.user);
        ctx.expect(ctx.t('joinLate.expire.expectNotBefore', { expiration: first.token.expiration }), Date.parse(tokenGone.at) >= Date.parse(first.token.expiration), tokenGone.at);
        ctx.expect(ctx.t('joinLate.expire.expectCollector', { user: GARBAGE_COLLECTOR }),
          certsGone.user === GARBAGE_COLLECTOR && deletions.indexOf(certsGone) > deletions.indexOf(tokenGone), certsGone.user);
        const left = await superAdmin.list<KubeObject>(resourcePath({ resource: 'secrets', namespace: 'kube-system' }));
        const names = left.items.map((s) => s.metadata.name ?? '');
        ctx.expect(ctx.t('joinLate.expire.expectGone'), !names.includes(KUBEADM_CERTS_SECRET) && !names.includes(first.token.name), names.join(', '));
      });

      await ctx.step(ctx.t('joinLate.joinFails.title'), ctx.t('joinLate.joinFails.lesson'), async () => {
        const mark = ctx.events.length;
        ctx.say('[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace'); // verbatim: kubeadm's output
        const err = await downloadCertsFrom(joiner!, first.certificateKey).then(() => undefined, (e: unknown) => e);
        ctx.say(err instanceof Error ? err.message : ctx.t('joinLate.joinFails.sayDownloaded'));
        ctx.expect(ctx.t('joinLate.joinFails.expectWords'), err instanceof PkiError && err.code === 'CERTS_SECRET_MISSING' && err.message === KUBEADM_WORDS, String(err));
        const get = ctx.since(mark).find((e): e is RequestEvent => isRequest(e) && e.method === 'GET' && e.path === secretPath(KUBEADM_CERTS_SECRET));
        ctx.expect(ctx.t('joinLate.joinFails.expect404', { user: get?.user ?? '?' }),
          get?.status === 404 && get.decision === 'allow' && /^system:bootstrap:[a-z0-9]{6}$/.test(get.user) && get.groups.includes('system:bootstrappers:kubeadm:default-node-token'),
          JSON.stringify(get));
        const written = await fs.readdir(tmp.dir);
        ctx.expect(ctx.t('joinLate.joinFails.expectNothing'), written.length === 0, written.join(', '));
      });

      const second = await ctx.step(ctx.t('joinLate.uploadAgain.title'), ctx.t('joinLate.uploadAgain.lesson'), async () => {
        const up = await uploadCerts(superAdmin, pki);
        ctx.say('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace'); // verbatim: kubeadm's output
        ctx.say(`[upload-certs] Using certificate key:\n${up.certificateKey}`); // verbatim: kubeadm's output
        ctx.say(`${up.token.name}: expiration ${up.token.expiration}`); // verbatim: the token Secret's field
        const ttl = Date.parse(up.token.expiration) - Date.now();
        ctx.expect(ctx.t('joinLate.uploadAgain.expectNew'), up.certificateKey !== first.certificateKey && up.token.uid !== first.token.uid
          && ttl > 2 * 3600_000 - 60_000 && ttl <= 2 * 3600_000, `${ttl} ms`);
        ctx.expect(ctx.t('joinLate.uploadAgain.expectOwned'), up.secret.metadata.ownerReferences?.[0]?.uid === up.token.uid);
        return up;
      });

      await ctx.step(ctx.t('joinLate.joinWorks.title'), ctx.t('joinLate.joinWorks.lesson'), async () => {
        const stale = await downloadCertsFrom(joiner!, first.certificateKey).then(() => undefined, (e: unknown) => e);
        ctx.expect(ctx.t('joinLate.joinWorks.expectStale'),
          stale instanceof PkiError && stale.code === 'CERT_KEY_INVALID' && stale.message.endsWith('cipher: message authentication failed'), String(stale));
        const files = await downloadCertsFrom(joiner!, second.certificateKey);
        ctx.say('[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace'); // verbatim: kubeadm's output
        const joined = await joinControlPlanePki(files, { plan: pki.plan, nodeName: 'cp-2', advertiseAddress: cp2Address }, tmp.dir);
        for (const n of ['ca', 'etcd/ca', 'front-proxy-ca'] as const) ctx.expect(ctx.t('joinLate.joinWorks.expectCa', { ca: n }), caPem(joined, n) === caPem(pki, n));
        ctx.expect(ctx.t('joinLate.joinWorks.expectSa'), joined.serviceAccount.publicKeyPem === pki.serviceAccount.publicKeyPem);
        const api = joined.leaves.get('apiserver')!.cert;
        ctx.expect(ctx.t('joinLate.joinWorks.expectApiserver', { address: cp2Address }), api.checkHost('cp-2') !== undefined && api.checkIP(cp2Address) !== undefined
          && joined.leaves.get('apiserver')!.certPem !== pki.leaves.get('apiserver')?.certPem);
      });
    } finally {
      off();
      joiner?.close();
      superAdmin.close();
      await tmp.remove();
    }
  },
};
