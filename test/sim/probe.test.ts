import { expect } from 'chai';
import { Etcd } from '../../components/etcd/index.js';
import { caPem, credential, issuePki, type LeafName, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import { probe } from '../../sim/probe.js';
import { Trace } from '../../components/client/trace.js';
import { ETCD_REQUEST } from '../../scenarios/matrix.js';

const identity = (pki: Pki, name: LeafName): { cert: string; key: string } => {
  const c = credential(pki, name);
  return { cert: c.certPem, key: c.keyPem };
};

// A server that writes nothing to the probe's trace stands for an etcd the user runs (`--etcd-endpoints`).
describe('probe against a server that does not trace (serverRecords)', function () {
  this.timeout(60_000);
  let pki: Pki;
  let etcd: Etcd;
  let url: string;
  before(async () => {
    pki = await issuePki({ nodes: [] });
    etcd = new Etcd({ host: '127.0.0.1', port: 0, identity: identity(pki, 'etcd/server'), trustedCa: caPem(pki, 'etcd/ca'), logger: silentLogger() });
    url = `https://127.0.0.1:${(await etcd.start()).port}`;
  });
  after(async () => { await etcd.stop(); });

  it('takes an answered request\'s verdict from the HTTP answer, and the user from the certificate\'s CN', async () => {
    const o = await probe(new Trace(), { client: 'etcdctl', server: 'etcd', url, identity: identity(pki, 'etcd/healthcheck-client'), serverCa: caPem(pki, 'etcd/ca'), serverRecords: 'none', ...ETCD_REQUEST });
    expect(o).to.include({ layer: 'none', decision: 'allowed', status: 200, user: 'kube-etcd-healthcheck-client' });
  });

  it('a handshake the server refuses is a TLS failure seen from the client, without a server-side reason', async () => {
    const o = await probe(new Trace(), { client: 'kubectl', server: 'etcd', url, identity: identity(pki, 'admin.conf'), serverCa: caPem(pki, 'etcd/ca'), serverRecords: 'none', ...ETCD_REQUEST });
    expect(o.layer).to.equal('tls');
    expect(o.decision).to.equal('failed');
    expect(o.status).to.equal(undefined);
    // What the client met, as data: etcd's alert (TLS 1.3: after the client's half of the handshake), or a reset.
    expect(o.cause).to.be.oneOf(['peer-refused-certificate', 'reset']);
  });
});
