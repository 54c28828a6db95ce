/** Refusal: a client certificate from a CA the apiserver does not trust gets 401 from the apiserver's x509 authenticator. */
import { caPem } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario } from './refusals.js';
import { foreignAdmin } from './tour.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

const LIST_PODS = { method: 'GET', path: '/api/v1/namespaces/default/pods' };

export const refuseForeignCa = refusalScenario({
  name: 'refuse-foreign-ca',
  title: EN('scenario.refuse-foreign-ca.title'),
  summary: EN('scenario.refuse-foreign-ca.summary'),
  async run(ctx, { pki, cluster }) {
    await ctx.step(ctx.t('refuseForeignCa.adminConfReal.title'),
      ctx.t('refuseForeignCa.adminConfReal.lesson'),
      async () => {
        const o = await probe(ctx.trace, { client: 'kubectl', server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, 'admin.conf'), serverCa: caPem(pki, 'ca'), ...LIST_PODS });
        expectVerdict(ctx, 'kubectl (admin.conf)', o, { layer: 'none', decision: 'allowed', status: 200, user: 'kubernetes-admin', reason: /^RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins"/ });
      });
    await ctx.step(ctx.t('refuseForeignCa.sameNamesFrom.title'),
      ctx.t('refuseForeignCa.sameNamesFrom.lesson'),
      async () => {
        const o = await probe(ctx.trace, { client: 'kubectl (foreign CA)', server: 'kube-apiserver', url: cluster.apiserverUrl, identity: await foreignAdmin(pki), serverCa: caPem(pki, 'ca'), ...LIST_PODS });
        expectVerdict(ctx, 'kubectl (foreign CA)', o, { layer: 'authentication', decision: 'unauthenticated', status: 401, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', reason: 'x509: certificate signed by unknown authority' });
        ctx.say(ctx.t('refuseForeignCa.sayLog', { line: `Unable to authenticate the request: ${o.detail ?? '?'}` }));
        ctx.expect(ctx.t('refuseForeignCa.expectRecord'),
          /^verifying certificate SN=\d+, SKID=[0-9A-F:]*, AKID=[0-9A-F:]* failed: x509: certificate signed by unknown authority$/.test(o.detail ?? ''), o.detail);
        ctx.expect(ctx.t('refuseForeignCa.expectBody', { message: 'You must be logged in to the server (Unauthorized)' }), /"reason":"Unauthorized"/.test(o.body ?? '') && /"message":"Unauthorized"/.test(o.body ?? ''), o.body);
      });
  },
});
