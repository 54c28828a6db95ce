import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { goTime, KubeletStartError, loadClientConfig } from '../../components/kubelet/client-config.js';
import { generateKey, privateKeyPem, signCsr } from '../../pki/issue.js';
import { renderKubeconfig } from '../../pki/kubeconfig.js';
import { issuePki, type Pki } from '../../pki/store.js';
import { createCsr } from '../../pki/x509.js';
import { held, play } from '../helpers/play.js';


describe('the kubelet\'s start-up with its kubeconfigs (LoadClientConfig)', function () {
  this.timeout(60_000);
  let pki: Pki;
  let dir: string;
  const DAY = 86_400_000;
  const kubeletConf = async (from: Date, to: Date): Promise<{ certPem: string; keyPem: string; text: string }> => {
    const key = await generateKey('ecdsa-p256');
    const signedAt = new Date();
    const cert = signCsr(createCsr({ cn: 'system:node:node-9', o: ['system:nodes'] }, { dns: [], ip: [] }, key), pki.signers.get('ca')!,
      { usages: ['clientAuth'], now: signedAt, validityMs: to.getTime() - signedAt.getTime(), notBefore: from });
    const certPem = cert.toString();
    const keyPem = privateKeyPem(key.privateKey);
    return { certPem, keyPem, text: renderKubeconfig({ server: 'https://127.0.0.1:6443', clusterName: 'kubernetes', user: 'system:node:node-9', caPem: pki.signers.get('ca')!.cert.toString(), certPem, keyPem }) };
  };
  before(async () => {
    pki = await issuePki({ nodes: ['node-1'] });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'load-client-config-'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('an expired kubelet.conf and no bootstrap kubeconfig: the kubelet exits in its words', async () => {
    const now = Date.now();
    const c = await kubeletConf(new Date(now - 2 * DAY), new Date(now - DAY));
    await fs.writeFile(path.join(dir, 'kubelet.conf'), c.text, { mode: 0o600 });
    const missing = path.join(dir, 'bootstrap-kubelet.conf');
    const err = await loadClientConfig(path.join(dir, 'kubelet.conf'), missing).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(KubeletStartError);
    expect((err as KubeletStartError).code).to.equal('BOOTSTRAP_KUBECONFIG_MISSING');
    expect((err as KubeletStartError).message).to.equal(`failed to run Kubelet: unable to load bootstrap kubeconfig: stat ${missing}: no such file or directory`);
  });

  it('an expired kubelet.conf with a bootstrap kubeconfig: bootstrap again with its token, after saying why', async () => {
    const now = Date.now();
    const c = await kubeletConf(new Date(now - 2 * DAY), new Date(now - DAY));
    await fs.writeFile(path.join(dir, 'kubelet.conf'), c.text, { mode: 0o600 });
    const boot = path.join(dir, 'bootstrap-kubelet.conf');
    await fs.writeFile(boot, [
      'apiVersion: v1', 'kind: Config', 'current-context: tls-bootstrap-token-user@kubernetes',
      'clusters:', '- name: kubernetes', '  cluster:', '    server: https://127.0.0.1:6443', `    certificate-authority-data: ${Buffer.from(pki.signers.get('ca')!.cert.toString()).toString('base64')}`,
      'contexts:', '- name: tls-bootstrap-token-user@kubernetes', '  context:', '    cluster: kubernetes', '    user: tls-bootstrap-token-user',
      'users:', '- name: tls-bootstrap-token-user', '  user:', '    token: abcdef.0123456789abcdef', '',
    ].join('\n'), { mode: 0o600 });
    try {
      const r = await loadClientConfig(path.join(dir, 'kubelet.conf'), boot);
      expect(r.source).to.equal('bootstrap');
      expect(r.token).to.equal('abcdef.0123456789abcdef');
      expect(r.identity).to.equal(undefined);
      expect(r.log).to.deep.equal([`part of the existing bootstrap client certificate is expired: ${goTime(new Date(new Date(now - DAY).toISOString().slice(0, 19) + 'Z'))}`]);
    } finally { await fs.rm(boot); }
  });

  it('a valid kubelet.conf, embedded or naming kubelet-client-current.pem, is used as it is', async () => {
    const now = Date.now();
    const c = await kubeletConf(new Date(now - DAY), new Date(now + DAY));
    await fs.writeFile(path.join(dir, 'kubelet.conf'), c.text, { mode: 0o600 });
    const embedded = await loadClientConfig(path.join(dir, 'kubelet.conf'), path.join(dir, 'none'));
    expect(embedded.source).to.equal('kubeconfig');
    expect(embedded.identity?.cert).to.equal(c.certPem);
    await fs.writeFile(path.join(dir, 'current.pem'), c.certPem + c.keyPem, { mode: 0o600 });
    await fs.writeFile(path.join(dir, 'kubelet.conf'), c.text.replace(/client-certificate-data: .*/, 'client-certificate: current.pem').replace(/client-key-data: .*/, 'client-key: current.pem'), { mode: 0o600 });
    const byFile = await loadClientConfig(path.join(dir, 'kubelet.conf'), path.join(dir, 'none'));
    expect(byFile.source).to.equal('kubeconfig');
    expect(byFile.identity?.cert).to.include(c.certPem.trim());
  });
});

describe('dead-end scenarios', function () {
  this.timeout(180_000);
  let pki: Pki;
  before(async () => { pki = await issuePki({ nodes: ['node-1'] }); });

  it('kubelet-dead-end: refused by the kubelet\'s start-up and the apiserver (401), restored by kubeadm\'s recovery', async () => {
    const { result, text } = await play('kubelet-dead-end', pki);
    expect(result.expectations.filter((e) => !e.ok), text).to.deep.equal([]);
    expect(result.ok, text).to.equal(true);
    held(result, /^the kubelet exits: "failed to run Kubelet: unable to load bootstrap kubeconfig: stat \S+\/bootstrap-kubelet\.conf: no such file or directory"$/);
    held(result, /^kubelet \(node-3\) with its expired certificate: decided at authentication \(401\)$/);
    held(result, /^the rotation was forced at start, from the hand-made certificate$/);
    held(result, /^node-3 is Ready with a new boot ID$/);
    expect(text).to.include('HTTP 401 (client cert: x509: certificate has expired or is not yet valid)');
    expect(text).not.to.match(/PRIVATE KEY/);
  });
});
