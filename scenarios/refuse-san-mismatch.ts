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
  title: "Refused: the apiserver dialled on an address its certificate does not name (the client refuses)",
  summary: "kubeadm's apiserver certificate names the node, the kubernetes.default names, the first Service IP and the\n" +
    'advertise address. A client that dials anything else, here 127.0.0.1 through a TCP load balancer, refuses\n' +
    'the server: the server is never asked anything.',
  async run(ctx, { pki, cluster }) {
    const single = pki.plan.loopback === 'single';
    const host = single ? 'localhost' : '127.0.0.1';
    const sans = credential(pki, 'apiserver').cert.subjectAltName ?? '';
    const ips = [...sans.matchAll(/IP Address:([^,\s]+)/g)].map((m) => m[1]!);
    await ctx.step('The SANs of pki/apiserver.crt',
      'A TLS client checks that the name or IP it dialled is among the certificate\'s SANs (for an IP, only the IP\n' +
      'SANs count). That is why kubeadm takes --apiserver-cert-extra-sans and why a kubeconfig must name an\n' +
      'address the certificate lists.',
      async () => {
        ctx.say(`apiserver.crt SANs: ${sans}`);
        ctx.expect(`the certificate does not name ${host}`, !ips.includes(host) && !sans.includes(`DNS:${host},`) && !sans.endsWith(`DNS:${host}`));
      });
    await ctx.step(`kubectl with --server https://${pki.plan.advertiseAddress}:<port> (a name in the certificate)`,
      'The advertise address is in the certificate: the handshake verifies both ways and the request is served.',
      async () => {
        const o = await probe(ctx.trace, { client: 'kubectl', server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, 'admin.conf'), serverCa: caPem(pki, 'ca'), method: 'GET', path: '/api/v1/namespaces/default/pods' });
        expectVerdict(ctx, `kubectl → ${pki.plan.advertiseAddress}`, o, { layer: 'none', decision: 'allowed', status: 200, reason: /^RBAC: allowed/ });
      });
    await ctx.step(`kubectl with --server https://${host}:<port>, through a TCP load balancer`,
      `The same apiserver, the same certificate, reached on ${host}. OpenSSL reports ERR_TLS_CERT_ALTNAME_INVALID on\n` +
      'the client; kubectl prints "Unable to connect to the server: x509: certificate is valid for ..., not ...".\n' +
      'The fix is a certificate that names the address (kubeadm: --apiserver-cert-extra-sans, then renew), not\n' +
      'insecure-skip-tls-verify.',
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
