/** Refusal: an expired and a not-yet-valid client certificate, both 401 from the apiserver's x509 authenticator. */
import { caPem } from '../pki/store.js';
import { probe } from '../sim/probe.js';
import { adminCertWithValidity, expectVerdict, refusalScenario } from './refusals.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

const DAY = 24 * 3600 * 1000;
const REASON = 'x509: certificate has expired or is not yet valid';

export const refuseExpiredClient = refusalScenario({
  name: 'refuse-expired-client',
  title: EN('scenario.refuse-expired-client.title'),
  summary: EN('scenario.refuse-expired-client.summary'),
  async run(ctx, { pki, cluster }) {
    const now = Date.now();
    // The label names the client in the trace (the same in every language); the step is told from the catalogue.
    for (const [label, from, to, code, story] of [
      ['expired yesterday', now - 366 * DAY, now - DAY, 'CERT_HAS_EXPIRED', 'expired'],
      ['valid from tomorrow', now + DAY, now + 366 * DAY, 'CERT_NOT_YET_VALID', 'notYetValid'],
    ] as const) {
      const title = story === 'expired' ? ctx.t('refuseExpiredClient.expired.title') : ctx.t('refuseExpiredClient.notYetValid.title');
      const lesson = story === 'expired' ? ctx.t('refuseExpiredClient.expired.lesson') : ctx.t('refuseExpiredClient.notYetValid.lesson');
      await ctx.step(title, lesson, async () => {
        const identity = await adminCertWithValidity(pki, new Date(from), new Date(to));
        const o = await probe(ctx.trace, { client: `kubectl (${label})`, server: 'kube-apiserver', url: cluster.apiserverUrl, identity, serverCa: caPem(pki, 'ca'), method: 'GET', path: '/api/v1/namespaces/default/pods' });
        expectVerdict(ctx, `kubectl (${label})`, o, { layer: 'authentication', decision: 'unauthenticated', status: 401, code, reason: REASON });
        ctx.expect(ctx.t('refuseExpiredClient.expectRecord'), (o.detail ?? '').endsWith(`failed: ${REASON}`), o.detail);
      });
    }
  },
});
