import { expect } from 'chai';
import { issuePki, type Pki } from '../../pki/store.js';
import { held, play } from '../helpers/play.js';


describe('join-control-plane-late (kubeadm#2656)', function () {
  this.timeout(180_000);
  let pki: Pki;
  before(async () => { pki = await issuePki({ nodes: ['node-1'] }); });

  it('kubeadm-certs goes with its expired token (token cleaner, then garbage collector); the join fails in kubeadm\'s words; upload-certs again fixes it', async () => {
    const { result, text } = await play('join-control-plane-late', pki);
    expect(result.expectations.filter((e) => !e.ok), text).to.deep.equal([]);
    expect(result.ok, text).to.equal(true);
    held(result, /^the token cleaner deleted bootstrap-token-[a-z0-9]{6} \(as system:serviceaccount:kube-system:token-cleaner\)$/);
    held(result, /^the garbage collector deleted kubeadm-certs \(as system:serviceaccount:kube-system:generic-garbage-collector\), after its owner$/);
    held(result, /^the join fails in kubeadm's words$/);
    held(result, /^the apiserver answered the join token's GET with a real 404/);
    held(result, /^the old certificate key no longer decrypts the Secret/);
    held(result, /^cp-2 issued its own apiserver certificate/);
    expect(text).to.include('error execution phase control-plane-prepare/download-certs: error downloading certs: error downloading the secret: ' +
      'Secret "kubeadm-certs" was not found in the "kube-system" Namespace. This Secret might have expired. ' +
      'Please, run `kubeadm init phase upload-certs --upload-certs` on a control plane to generate a new one');
    expect(text).to.match(/GET \/api\/v1\/namespaces\/kube-system\/secrets\/kubeadm-certs as system:bootstrap:[a-z0-9]{6} .*: allowed, 404/);
    expect(text).not.to.match(/PRIVATE KEY/);
  });
});
