/** Refusal: an expired and a not-yet-valid client certificate, both 401 from the apiserver's x509 authenticator. */
import { caPem } from '../pki/store.js';
import { probe } from '../sim/probe.js';
import { adminCertWithValidity, expectVerdict, refusalScenario } from './refusals.js';

const DAY = 24 * 3600 * 1000;
const REASON = 'x509: certificate has expired or is not yet valid';

export const refuseExpiredClient = refusalScenario({
  name: 'refuse-expired-client',
  title: 'Refused: an expired and a not-yet-valid client certificate (401 from the apiserver)',
  summary: 'Two certificates with admin.conf\'s names, signed by the real Kubernetes CA; only the dates are wrong.\n' +
    "kubeadm's leaves live one year (notBefore backdated five minutes), so this is the most common refusal in real\n" +
    'clusters: "x509: certificate has expired or is not yet valid".',
  async run(ctx, { pki, cluster }) {
    const now = Date.now();
    for (const [label, from, to, code, lesson] of [
      ['expired yesterday', now - 366 * DAY, now - DAY, 'CERT_HAS_EXPIRED',
        'notAfter is yesterday: the chain is right, the time is not. OpenSSL reports CERT_HAS_EXPIRED; the\n' +
        'apiserver answers 401 and logs "verifying certificate ... failed: x509: certificate has expired or is not\n' +
        'yet valid: current time ... is after ...". kubeadm certs check-expiration shows it; kubeadm certs renew fixes it.'],
      ['valid from tomorrow', now + DAY, now + 366 * DAY, 'CERT_NOT_YET_VALID',
        'notBefore is tomorrow (a signer whose clock runs ahead, or a node whose clock runs behind): OpenSSL\n' +
        'reports CERT_NOT_YET_VALID and Go prints the same words, "... is before ...". kubeadm backdates\n' +
        'notBefore by five minutes against exactly this.'],
    ] as const) {
      await ctx.step(`A client certificate ${label}`, lesson, async () => {
        const identity = await adminCertWithValidity(pki, new Date(from), new Date(to));
        const o = await probe(ctx.trace, { client: `kubectl (${label})`, server: 'kube-apiserver', url: cluster.apiserverUrl, identity, serverCa: caPem(pki, 'ca'), method: 'GET', path: '/api/v1/namespaces/default/pods' });
        expectVerdict(ctx, `kubectl (${label})`, o, { layer: 'authentication', decision: 'unauthenticated', status: 401, code, reason: REASON });
        ctx.expect("the apiserver's record ends with Go's reason", (o.detail ?? '').endsWith(`failed: ${REASON}`), o.detail);
      });
    }
  },
});
