import { expect } from 'chai';
import { caPem, credential, issuePki, kubeletClientName, kubeletServingName, type Pki } from '../../pki/store.js';
import { certSpecs, clusterPlan, type CertName } from '../../pki/spec.js';
import { clusterTls } from '../../sim/wiring.js';

describe('sim/wiring clusterTls', () => {
  let pki: Pki;
  before(async () => { pki = await issuePki({ nodes: ['node-1'] }); });

  const pem = (name: Parameters<typeof credential>[1]): string => credential(pki, name).certPem;

  it('gives each component its own certificate from the spec table and the CA it trusts', () => {
    const tls = clusterTls(pki, { kubeletCertificateAuthority: true });
    expect(tls.etcd).to.deep.equal({ identity: { cert: pem('etcd/server'), key: credential(pki, 'etcd/server').keyPem }, trustedCa: caPem(pki, 'etcd/ca') });
    expect(tls.etcdMember.peerIdentity.cert).to.equal(pem('etcd/peer'));
    expect(tls.etcdMember.healthcheckIdentity.cert).to.equal(pem('etcd/healthcheck-client'));
    expect(tls.apiserver.identity.cert).to.equal(pem('apiserver'));
    expect(tls.apiserver.clientCa).to.equal(caPem(pki, 'ca'));
    expect(tls.apiserver.etcd).to.deep.include({ ca: caPem(pki, 'etcd/ca') });
    expect(tls.apiserver.etcd.identity.cert).to.equal(pem('apiserver-etcd-client'));
    expect(tls.apiserver.kubeletClient.identity.cert).to.equal(pem('apiserver-kubelet-client'));
    expect(tls.apiserver.kubeletClient.ca).to.equal(caPem(pki, 'ca'));
    expect(tls.controllerManager.identity.cert).to.equal(pem('controller-manager.conf'));
    expect(tls.scheduler.identity.cert).to.equal(pem('scheduler.conf'));
    expect(tls.kubeProxy.identity.cert).to.equal(pem('kube-proxy.conf'));
    const kubelet = tls.kubelet('node-1');
    expect(kubelet.identity.cert).to.equal(pem(kubeletClientName('node-1')));
    expect(kubelet.servingIdentity.cert).to.equal(pem(kubeletServingName('node-1')));
    expect([kubelet.serverCa, kubelet.clientCa]).to.deep.equal([caPem(pki, 'ca'), caPem(pki, 'ca')]);
  });

  it('leaves kubelet serving certificates unverified without --kubelet-certificate-authority (kubeadm)', () => {
    expect(clusterTls(pki, { kubeletCertificateAuthority: false }).apiserver.kubeletClient).to.not.have.property('ca');
  });

  it('trusts the bundles given instead of the PKI\'s CAs (a CA rotation), everywhere', () => {
    const tls = clusterTls(pki, { kubeletCertificateAuthority: true, bundles: { ca: 'CA-BUNDLE', etcdCa: 'ETCD-BUNDLE' } });
    expect([tls.etcd.trustedCa, tls.apiserver.etcd.ca]).to.deep.equal(['ETCD-BUNDLE', 'ETCD-BUNDLE']);
    expect([tls.apiserver.clientCa, tls.apiserver.kubeletClient.ca, tls.scheduler.serverCa, tls.kubelet('node-1').clientCa, tls.client('admin.conf').serverCa])
      .to.deep.equal(['CA-BUNDLE', 'CA-BUNDLE', 'CA-BUNDLE', 'CA-BUNDLE', 'CA-BUNDLE']);
  });

  it('names every certificate of the spec table with a CertName (a typo does not compile)', () => {
    const names: CertName[] = certSpecs(clusterPlan({ nodes: ['node-1'] })).certs.map((c) => c.name);
    expect(names).to.include.members(['ca', 'apiserver', 'nodes/node-1/kubelet.conf', 'nodes/node-1/kubelet']);
    // @ts-expect-error: not a certificate of the table
    expect(() => credential(pki, 'apiserver.conf')).to.throw(/no certificate "apiserver.conf"/);
    // @ts-expect-error: a leaf, not a CA
    expect(() => caPem(pki, 'apiserver')).to.throw(/no CA "apiserver"/);
  });
});
