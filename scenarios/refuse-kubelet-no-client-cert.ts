/** Refusal: an apiserver without --kubelet-client-certificate calling a kubelet: 401 from the kubelet. */
import { extraApiserver, podLogs, refusalScenario, runningPodOn } from './refusals.js';

export const refuseKubeletNoClientCert = refusalScenario({
  name: 'refuse-kubelet-no-client-cert',
  title: 'Refused: the apiserver calling a kubelet without its client certificate (401 from the kubelet)',
  summary: 'The kubelet API (port 10250) runs logs, exec and port-forward, so kubeadm turns anonymous auth off\n' +
    '(authentication.anonymous.enabled: false) and trusts client certificates from the Kubernetes CA\n' +
    '(clientCAFile). The apiserver proves itself with apiserver-kubelet-client, or not at all.',
  async run(ctx, { cluster, node }) {
    const admin = cluster.client('admin.conf', 'kubectl');
    await ctx.step(`kubectl logs through the cluster's apiserver`,
      'The apiserver presents apiserver-kubelet-client (CN=kube-apiserver-kubelet-client, O=kubeadm:cluster-admins);\n' +
      'the kubelet verifies it against its client CA and asks the apiserver (SubjectAccessReview) whether that\n' +
      'user may get nodes/proxy: yes, as cluster-admin.',
      async () => {
        await runningPodOn(admin, node, 'logs-demo');
        const r = await podLogs(admin, 'logs-demo');
        ctx.expect('the log comes back', r.status === 200 && r.body.length > 0, `HTTP ${r.status} ${r.body.slice(0, 200)}`);
      });
    await ctx.step('kubectl logs through an apiserver without --kubelet-client-certificate',
      'A second apiserver on the same etcd, started without the kubelet client certificate. The kubelet asks for\n' +
      'a certificate, gets none, and with anonymous auth off answers 401 Unauthorized before any\n' +
      'SubjectAccessReview; the apiserver passes that on to kubectl.',
      async () => {
        const second = await extraApiserver(ctx, { kubeletClientCert: false, verifyKubelets: true });
        try {
          const mark = ctx.events.length;
          const r = await podLogs(second.admin, 'logs-demo');
          ctx.say(`kubectl logs: HTTP ${r.status} ${r.body.slice(0, 300)}`);
          ctx.expect('kubectl gets 401 Unauthorized relayed from the kubelet', r.status === 401 && /"reason":"Unauthorized"/.test(r.body), r.body.slice(0, 300));
          const hello = ctx.since(mark).find((e) => e.type === 'tls-server' && e.server === `kubelet (${node})`);
          ctx.expect('the kubelet completed the handshake and saw no client certificate',
            hello?.type === 'tls-server' && hello.handshake === 'ok' && hello.clientCert === null && hello.code === 'NO_CLIENT_CERT', JSON.stringify(hello));
          const decided = ctx.since(mark).find((e) => e.type === 'request' && e.server === `kubelet (${node})`);
          ctx.expect('the kubelet answered 401: no client certificate, anonymous auth off',
            decided?.type === 'request' && decided.status === 401 && decided.decision === 'unauthenticated' && decided.reason === 'no client certificate', JSON.stringify(decided));
          ctx.expect('the kubelet asked the apiserver nothing (no SubjectAccessReview)',
            !ctx.since(mark).some((e) => e.type === 'request' && e.path.includes('subjectaccessreviews') && e.user === `system:node:${node}`));
        } finally {
          await second.stop();
        }
      });
  },
});
