/** Refusal: an apiserver without --kubelet-client-certificate calling a kubelet: 401 from the kubelet. */
import { extraApiserver, podLogs, refusalScenario, runningPodOn } from './refusals.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

export const refuseKubeletNoClientCert = refusalScenario({
  name: 'refuse-kubelet-no-client-cert',
  title: EN('scenario.refuse-kubelet-no-client-cert.title'),
  summary: EN('scenario.refuse-kubelet-no-client-cert.summary'),
  async run(ctx, { cluster, node }) {
    const admin = cluster.client('admin.conf', 'kubectl');
    await ctx.step(ctx.t('refuseKubeletNoClientCert.kubectlLogsThrough.title'),
      ctx.t('refuseKubeletNoClientCert.kubectlLogsThrough.lesson'),
      async () => {
        await runningPodOn(admin, node, 'logs-demo');
        const r = await podLogs(admin, 'logs-demo');
        ctx.expect(ctx.t('refuseKubeletNoClientCert.expectLogBack'), r.status === 200 && r.body.length > 0, `HTTP ${r.status} ${r.body.slice(0, 200)}`);
      });
    await ctx.step(ctx.t('refuseKubeletNoClientCert.kubectlLogsThrough2.title'),
      ctx.t('refuseKubeletNoClientCert.kubectlLogsThrough2.lesson'),
      async () => {
        const second = await extraApiserver(ctx, { kubeletClientCert: false, verifyKubelets: true });
        try {
          const mark = ctx.events.length;
          const r = await podLogs(second.admin, 'logs-demo');
          ctx.say(`kubectl logs: HTTP ${r.status} ${r.body.slice(0, 300)}`); // verbatim: the HTTP status and body
          ctx.expect(ctx.t('refuseKubeletNoClientCert.expect401'), r.status === 401 && /"reason":"Unauthorized"/.test(r.body), r.body.slice(0, 300));
          const hello = ctx.since(mark).find((e) => e.type === 'tls-server' && e.server === `kubelet (${node})`);
          ctx.expect(ctx.t('refuseKubeletNoClientCert.expectNoCert'),
            hello?.type === 'tls-server' && hello.handshake === 'ok' && hello.clientCert === null && hello.code === 'NO_CLIENT_CERT', JSON.stringify(hello));
          const decided = ctx.since(mark).find((e) => e.type === 'request' && e.server === `kubelet (${node})`);
          ctx.expect(ctx.t('refuseKubeletNoClientCert.expectAnonymousOff'),
            decided?.type === 'request' && decided.status === 401 && decided.decision === 'unauthenticated' && decided.reason === 'no client certificate', JSON.stringify(decided));
          ctx.expect(ctx.t('refuseKubeletNoClientCert.expectNoSar'),
            !ctx.since(mark).some((e) => e.type === 'request' && e.path.includes('subjectaccessreviews') && e.user === `system:node:${node}`));
        } finally {
          await second.stop();
        }
      });
  },
});
