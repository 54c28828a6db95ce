import { expect } from 'chai';
import { connectionTable, describeConnection, shownPath } from '../../sim/narrate.js';
import { type TraceEvent } from '../../components/client/trace.js';
import { joinConnections } from '../../sim/trace.js';

const at = '2026-01-01T00:00:00.000Z';
const admin = { cn: 'kubernetes-admin', o: ['kubeadm:cluster-admins'], issuer: 'kubernetes' };
const apiserver = { cn: 'kube-apiserver', o: [], issuer: 'kubernetes' };

/** A connection from 127.0.0.1:5000 to the apiserver, its client half and (optionally) its server half. */
function events(server: Partial<Extract<TraceEvent, { type: 'tls-server' }>> | null, client: Partial<Extract<TraceEvent, { type: 'tls-client' }>> = {}): TraceEvent[] {
  const out: TraceEvent[] = [{
    type: 'tls-client', at, client: 'kubectl', server: 'kube-apiserver', local: '127.0.0.1:5000', peer: '127.0.1.1:6443',
    clientCert: admin, serverCert: apiserver, trusts: 'kubernetes', handshake: 'ok', cause: 'none', ...client,
  }];
  if (server) {
    out.push({
      type: 'tls-server', at, server: 'kube-apiserver', local: '127.0.1.1:6443', peer: '127.0.0.1:5000', serverCert: apiserver,
      clientCert: admin, trusts: 'kubernetes', mode: 'request', handshake: 'ok', verified: true, cause: 'none', ...server,
    });
  }
  return out;
}

describe('narration', () => {
  it('says when a requested client certificate did not verify, and the table shows the 401 that followed', () => {
    const trace = [
      ...events({ verified: false, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', reason: 'x509: certificate signed by unknown authority', cause: 'unknown-authority' }),
      { type: 'request', at, server: 'kube-apiserver', peer: '127.0.0.1:5000', method: 'GET', path: '/api/v1/pods', user: '', groups: [], verb: 'list', resource: 'pods', decision: 'unauthenticated', layer: 'authentication', status: 401 } as const,
    ];
    const [c] = joinConnections(trace);
    expect(c?.clientUnverified).to.equal('x509: certificate signed by unknown authority');
    expect(describeConnection(c!)).to.include('kube-apiserver checks it against the "kubernetes" CA: it does not verify (x509: certificate signed by unknown authority)');
    expect(connectionTable([c!])).to.match(/ok, then HTTP 401 \(client cert: x509: certificate signed by unknown authority\)$/);
  });

  it('a verified connection with only 2xx answers is plain ok', () => {
    const [c] = joinConnections(events({}));
    expect(c?.clientUnverified).to.equal(undefined);
    expect(describeConnection(c!)).to.not.include('does not verify');
    expect(connectionTable([c!]).split('\n')[1]).to.match(/ ok$/);
  });

  it('a handshake the client refused names the server certificate it refused, and the client certificate as not checked', () => {
    const c = joinConnections(events(null, { handshake: 'refused', code: 'ERR_TLS_CERT_ALTNAME_INVALID', reason: 'x509: certificate is valid for 127.0.1.1, not 127.0.0.1', cause: 'name-mismatch' }))[0]!;
    const text = describeConnection(c);
    expect(text).to.include('REFUSED by the kubectl: x509: certificate is valid for 127.0.1.1, not 127.0.0.1 [ERR_TLS_CERT_ALTNAME_INVALID]');
    expect(text).to.include('server presents CN=kube-apiserver (issuer kubernetes)');
    expect(text).to.include('client holds CN=kubernetes-admin, O=kubeadm:cluster-admins (issuer kubernetes); not checked');
  });

  it('keeps the query parameters that decide a request, and drops the rest', () => {
    expect(shownPath('/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1&resourceVersion=12&watch=true')).to.equal('/api/v1/pods?watch=true&fieldSelector=spec.nodeName=node-1');
    expect(shownPath('/api/v1/pods?limit=500')).to.equal('/api/v1/pods');
    expect(shownPath('/api/v1/pods')).to.equal('/api/v1/pods');
  });
});
