/**
 * Refusal: the apiserver reached on an address its certificate does not name. The client refuses the
 * server, as client-go does: "x509: certificate is valid for 10.96.0.1, 127.0.1.1, not 127.0.0.1".
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { caPem, credential } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario } from './refusals.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

/** A TCP pass-through (a load balancer in TCP mode) on `host`, to the apiserver: TLS stays end to end. */
async function tcpForwarder(host: string, target: URL): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(Number(target.port), target.hostname);
    for (const s of [inbound, outbound]) { sockets.add(s); s.once('close', () => sockets.delete(s)); s.on('error', () => { inbound.destroy(); outbound.destroy(); }); }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, host, () => resolve()); });
  return {
    server, port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

export const refuseSanMismatch = refusalScenario({
  name: 'refuse-san-mismatch',
  title: EN('scenario.refuse-san-mismatch.title'),
  summary: EN('scenario.refuse-san-mismatch.summary'),
  async run(ctx, { pki, cluster }) {
    const single = pki.plan.loopback === 'single';
    const host = single ? 'localhost' : '127.0.0.1';
    const sans = credential(pki, 'apiserver').cert.subjectAltName ?? '';
    const ips = [...sans.matchAll(/IP Address:([^,\s]+)/g)].map((m) => m[1]!);
    await ctx.step(ctx.t('refuseSanMismatch.sansPkiApiserver.title'),
      ctx.t('refuseSanMismatch.sansPkiApiserver.lesson'),
      async () => {
        ctx.say(ctx.t('refuseSanMismatch.saySans', { sans }));
        ctx.expect(ctx.t('refuseSanMismatch.expectNotNamed', { host }), !ips.includes(host) && !sans.includes(`DNS:${host},`) && !sans.endsWith(`DNS:${host}`));
      });
    await ctx.step(ctx.t('refuseSanMismatch.kubectlServerHttps.title', { advertiseAddress: pki.plan.advertiseAddress }),
      ctx.t('refuseSanMismatch.kubectlServerHttps.lesson'),
      async () => {
        const o = await probe(ctx.trace, { client: 'kubectl', server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, 'admin.conf'), serverCa: caPem(pki, 'ca'), method: 'GET', path: '/api/v1/namespaces/default/pods' });
        expectVerdict(ctx, `kubectl → ${pki.plan.advertiseAddress}`, o, { layer: 'none', decision: 'allowed', status: 200, reason: /^RBAC: allowed/ });
      });
    await ctx.step(ctx.t('refuseSanMismatch.kubectlServerHttps2.title', { host }),
      ctx.t('refuseSanMismatch.kubectlServerHttps2.lesson', { host }),
      async () => {
        const lb = await tcpForwarder(single ? '127.0.0.1' : host, new URL(cluster.apiserverUrl));
        try {
          const o = await probe(ctx.trace, { client: `kubectl (via ${host})`, server: 'kube-apiserver', url: `https://${host}:${lb.port}`, identity: identityOf(pki, 'admin.conf'), serverCa: caPem(pki, 'ca'), method: 'GET', path: '/api/v1/namespaces/default/pods' });
          const want = single ? /^x509: certificate is valid for .*, not localhost$/ : `x509: certificate is valid for ${ips.join(', ')}, not ${host}`;
          expectVerdict(ctx, `kubectl → ${host}`, o, { layer: 'tls', decision: 'handshake refused', refusedBy: 'client', code: 'ERR_TLS_CERT_ALTNAME_INVALID', reason: want });
        } finally {
          await lb.close();
        }
      });
  },
});
