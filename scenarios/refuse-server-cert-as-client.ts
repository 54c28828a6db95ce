/** Refusal: a serving certificate (serverAuth only) used as a client certificate: 401, incompatible key usage. */
import { caPem, kubeletClientName, kubeletServingName } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario } from './refusals.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

const REASON = 'x509: certificate specifies an incompatible key usage';

export const refuseServerCertAsClient = refusalScenario({
  name: 'refuse-server-cert-as-client',
  title: EN('scenario.refuse-server-cert-as-client.title'),
  summary: EN('scenario.refuse-server-cert-as-client.summary'),
  async run(ctx, { pki, cluster, node }) {
    const request = { method: 'GET', path: `/api/v1/nodes/${node}` };
    await ctx.step(ctx.t('refuseServerCertAsClient.nodeSKubelet.title', { node }),
      ctx.t('refuseServerCertAsClient.nodeSKubelet.lesson'),
      async () => {
        const o = await probe(ctx.trace, { client: `kubelet (${node})`, server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, kubeletClientName(node)), serverCa: caPem(pki, 'ca'), ...request });
        expectVerdict(ctx, 'kubelet.conf', o, { layer: 'none', decision: 'allowed', status: 200, user: `system:node:${node}`, reason: /.*/ });
      });
    if (pki.plan.kubeletServing !== 'ca') {
      ctx.say(ctx.t('refuseServerCertAsClient.saySelfSigned'));
    }
    await ctx.step(ctx.t('refuseServerCertAsClient.nodeSKubelet2.title', { node }),
      ctx.t('refuseServerCertAsClient.nodeSKubelet2.lesson'),
      async () => {
        const o = await probe(ctx.trace, { client: `kubelet (${node}, serving cert)`, server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, kubeletServingName(node)), serverCa: caPem(pki, 'ca'), ...request });
        expectVerdict(ctx, ctx.t('refuseServerCertAsClient.whoKubeletServing'), o, pki.plan.kubeletServing === 'ca'
          ? { layer: 'authentication', decision: 'unauthenticated', status: 401, code: 'INVALID_PURPOSE', reason: REASON }
          : { layer: 'authentication', decision: 'unauthenticated', status: 401, reason: 'x509: certificate signed by unknown authority' });
      });
    await ctx.step(ctx.t('refuseServerCertAsClient.apiserverSServing.title'),
      ctx.t('refuseServerCertAsClient.apiserverSServing.lesson'),
      async () => {
        const o = await probe(ctx.trace, { client: 'kube-apiserver (serving cert)', server: `kubelet (${node})`, url: cluster.endpoints.kubelets[node]!, identity: identityOf(pki, 'apiserver'), serverCa: caPem(pki, 'ca'), method: 'GET', path: '/pods' });
        expectVerdict(ctx, ctx.t('refuseServerCertAsClient.whoApiserverServing'), o, { layer: 'authentication', decision: 'unauthenticated', status: 401, code: 'INVALID_PURPOSE', reason: REASON });
      });
  },
});
