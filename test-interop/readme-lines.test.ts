/**
 * The README's curl and `openssl s_client` lines, run as written (only `D=.cluster` points at the test's
 * cluster) against `npm run cluster`, with the embedded etcd and with the real one.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { need, ROOT, run, startSimCluster, tools, type SimCluster } from './helpers.js';

function readmeLines(): { setup: string[]; commands: string[] } {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- interop:begin -->\n```sh\n([\s\S]*?)```\n<!-- interop:end -->/.exec(readme)?.[1];
  if (!block) throw new Error('README.md: no interop block (<!-- interop:begin --> ```sh ... ``` <!-- interop:end -->)');
  const lines = block.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const first = lines.findIndex((l) => /^(openssl|curl|printf) /.test(l));
  return { setup: lines.slice(0, first), commands: lines.slice(first) };
}

/** What each README command must show, by what it runs; every command must have one. */
const EXPECTED: ReadonlyArray<{ readonly match: RegExp; readonly check: (out: string, code: number | null) => void }> = [
  { match: /^openssl s_client -connect \$\{A#https:\/\/\} .*-cert \$D\/admin\.crt/, check: (out, code) => {
    expect(code).to.equal(0);
    expect(out).to.contain('CONNECTION ESTABLISHED').and.contain('Peer certificate: CN = kube-apiserver').and.contain('Verification: OK');
  } },
  { match: /^curl .*--cert \$D\/admin\.crt .*\/api\/v1\/nodes$/, check: (out, code) => {
    expect(code).to.equal(0);
    expect(JSON.parse(out) as { kind: string }).to.have.property('kind', 'NodeList');
  } },
  { match: /^curl -sS --cacert \$D\/pki\/ca\.crt \$A\/api\/v1\/nodes$/, check: (out) => {
    expect(JSON.parse(out) as object).to.deep.include({ code: 403, reason: 'Forbidden', message: 'nodes is forbidden: User "system:anonymous" cannot list resource "nodes" in API group "" at the cluster scope' });
  } },
  { match: /front-proxy-client\.crt .*\/api\/v1\/nodes$/, check: (out) => {
    expect(JSON.parse(out) as object).to.deep.include({ code: 401, reason: 'Unauthorized' });
  } },
  { match: /^curl -sS --cacert \$D\/pki\/etcd\/ca\.crt \$A\/version$/, check: (out, code) => {
    expect(code).to.equal(60);
    expect(out).to.match(/curl: \(60\) SSL certificate problem: (self-signed certificate in certificate chain|unable to get local issuer certificate)/);
  } },
  { match: /^printf .*healthcheck-client\.key -quiet$/, check: (out) => {
    expect(out).to.match(/^HTTP\/1\.[01] 200 OK/m);
    expect(out).to.contain('{"health":"true"}');
  } },
  { match: /^curl .*healthcheck-client\.key \$E\/health$/, check: (out, code) => {
    expect(code).to.equal(0);
    expect(out.trim()).to.equal('{"health":"true"}');
  } },
  { match: /apiserver-kubelet-client\.key \$E\/health$/, check: (out, code) => {
    // TLS 1.3: the server judges the client certificate after the client's side of the handshake is done,
    // so curl meets the refusal on its first read or write: reset, alert, or an empty reply, by timing.
    expect([52, 55, 56]).to.include(code);
    expect(out).to.match(/curl: \((52|55|56)\) (Recv failure: Connection reset by peer|OpenSSL SSL_read: .*alert (bad certificate|certificate required)|Empty reply from server|getpeername\(\) failed|Send failure)/);
    expect(out).to.not.contain('health');
  } },
  { match: /^printf .*-CAfile \$D\/pki\/etcd\/ca\.crt -quiet$/, check: (out, code) => {
    expect(code).to.equal(1);
    expect(out).to.match(/alert (certificate required|bad certificate)/);
    expect(out).to.not.contain('HTTP/1');
  } },
];

for (const etcd of ['embedded', 'real'] as const) {
  describe(`the README's curl and openssl lines (etcd ${etcd})`, function () {
    this.timeout(120_000);
    let cluster: SimCluster | undefined;
    const { setup, commands } = readmeLines();

    before(async function () {
      need(this, tools.curl, tools.openssl, ...(etcd === 'real' ? [tools.etcd] : []));
      cluster = await startSimCluster(['--etcd', etcd]);
    });
    after(async () => {
      await cluster?.stop();
    });

    it('has an expectation for every command, and each holds', async () => {
      expect(commands.length).to.equal(EXPECTED.length);
      const prelude = setup.map((l) => (l === 'D=.cluster' ? `D=${cluster!.dir}` : l)).join('\n');
      expect(prelude).to.contain(`D=${cluster!.dir}`);
      for (const command of commands) {
        const e = EXPECTED.find((x) => x.match.test(command));
        expect(e, `no expectation for: ${command}`).to.not.equal(undefined);
        const r = await run('bash', ['-c', `set -o pipefail\n${prelude}\n${command} 2>&1`], { timeoutMs: 20_000 });
        try {
          e!.check(r.stdout, r.code);
        } catch (err) {
          throw new Error(`${command}\n→ exit ${r.code}\n${r.stdout}${r.stderr}\n${(err as Error).message}`, { cause: err });
        }
      }
    });
  });
}
