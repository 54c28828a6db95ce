import { expect } from 'chai';
import { issuePki, type Pki } from '../../pki/store.js';
import type { RunResult } from '../../sim/scenario.js';
import { held, play as playScenario } from '../helpers/play.js';

async function play(name: string, pki: Pki): Promise<{ result: RunResult; text: string }> {
  const { result, text } = await playScenario(name, pki);
  expect(result.expectations.filter((e) => !e.ok), text).to.deep.equal([]);
  expect(result.ok, text).to.equal(true);
  return { result, text };
}

describe('node join and kubelet certificate scenarios', function () {
  this.timeout(120_000);
  let pki: Pki;
  before(async () => { pki = await issuePki({ nodes: ['node-1'] }); });

  it('join-node: joins, runs a pod, and shows each failure in kubeadm\'s words', async () => {
    const { result, text } = await play('join-node', pki);
    held(result, /^csrapproving approved it: AutoApproved/);
    held(result, /^pod hello runs on node-3/);
    held(result, /none of the public keys "sha256:[0-9a-f]{64}" are pinned"$/);
    held(result, /^"could not find a JWS signature in the cluster-info ConfigMap for token ID "zzzzzz""$/);
    held(result, /^the apiserver answers 401 to the expired token$/);
    held(result, /^not approved: "subject organization is not system:nodes"$/);
    held(result, /^not approved: "DNS subjectAltNames are not allowed"$/);
    expect(text).to.include('kubeadm join (discovery, TLS unverified)');
  });

  it('rotate-kubelet: two selfnodeclient rotations, the watch kept', async () => {
    const { result } = await play('rotate-kubelet', pki);
    held(result, /^the rotation deadline falls at 70-90% of its lifetime$/);
    held(result, /^one pod watch, opened before the first rotation$/);
    expect(result.expectations.filter((e) => /Auto approving self kubelet client certificate after SubjectAccessReview/.test(e.what))).to.have.length(2);
  });

  it('kubelet-serving-csr: Pending, logs fail, approve, logs work', async () => {
    const { result } = await play('kubelet-serving-csr', pki);
    held(result, /^kubectl logs fails with "remote error: tls: handshake failure"$/);
    held(result, /^the CSR is Approved,Issued$/);
    held(result, /^GET pods\/web\/log: 200$/);
  });
});

describe('certificate lifecycle scenarios', function () {
  this.timeout(180_000);
  let pki: Pki;
  before(async () => { pki = await issuePki({ nodes: ['node-1', 'node-2'] }); });

  it('expiry: every flow fails as expired, renew and reload bring everything back; expired CAs refuse renewal', async () => {
    const { result, text } = await play('expiry', pki);
    held(result, /^kube-apiserver → etcd fails with "x509: certificate has expired or is not yet valid"$/);
    for (const c of ['kubectl', 'kube-controller-manager', 'kube-scheduler', 'kubelet \\(node-1\\)', 'kube-proxy \\(node-1\\)']) {
      held(result, new RegExp(`^${c} → kube-apiserver: x509: certificate has expired or is not yet valid$`));
      held(result, new RegExp(`^${c}: 401, the apiserver found its certificate expired$`));
      held(result, new RegExp(`^${c} → kube-apiserver: 200$`));
    }
    held(result, /etcd kept running on the same port/);
    held(result, /every leaf keeps its subject/);
    held(result, /renew refuses with CA_EXPIRED/);
    held(result, /\(the CA in the chain\)$/);
    expect(text).to.include('CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED');
    expect(text).to.match(/apiserver +\w{3} \d\d, \d{4} \d\d:\d\d UTC +<invalid> +ca +no/);
  });

  it('rotate-ca: three phases with no refused handshake or 401/403, and a timeline by serial', async () => {
    const { result, text } = await play('rotate-ca', pki);
    held(result, /^no handshake was refused$/);
    held(result, /^no request got 401 or 403$/);
    held(result, /the apiserver now presents its new-CA certificate/);
    held(result, /an old-CA client certificate now gets 401/);
    expect(text).to.include('phase 1, trust both (bundle handed out: old + new CA bundle)');
    expect(text).to.match(/kubelet \(node-1\)( \(probe\))? → kube-apiserver: presented nodes\/node-1\/kubelet\.conf \[new CA\]; got apiserver \[new CA\]/);
  });

  it('join-control-plane: wrong keys fail with kubeadm\'s words, cp-2 serves the same cluster with its own leaves', async () => {
    const { result } = await play('join-control-plane', pki);
    held(result, /another valid-looking key fails: "error decoding secret data with provided key: cipher: message authentication failed"/);
    held(result, /nothing was written on cp-2/);
    held(result, /a ConfigMap written through cp-2 is read through cp-1/);
    held(result, /the kubelet verified cp-2's apiserver-kubelet-client/);
    held(result, /a Kubernetes-CA certificate is refused on the peer port/);
  });
});
