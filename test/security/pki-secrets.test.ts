/**
 * Issue 11, item 10: no error ever prints key material. `npm run pki -- check` (and everything that reads
 * a kubeconfig) names the file and the fault, never the PEM or base64 it could not read.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseKubeconfig } from '../../pki/kubeconfig.js';
import { PkiError } from '../../pki/errors.js';
import { sharedPkiCopy } from '../pki/helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function cli(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/pki.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

/** Fails if `out` holds "PRIVATE KEY" or any 24-character run of one of `secrets` (base64 bodies). */
function expectNoSecret(out: string, secrets: readonly string[]): void {
  expect(out).to.not.match(/PRIVATE KEY/);
  const flat = out.replace(/\s+/g, '');
  for (const s of secrets) {
    const body = s.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    for (let i = 0; i + 24 <= body.length; i += 12) {
      const run = body.slice(i, i + 24);
      if (flat.includes(run)) expect.fail(`output holds key material (${run}...):\n${out.slice(0, 2000)}`);
    }
  }
}

const field = (conf: string, key: string): string => new RegExp(`${key}: (\\S+)`).exec(conf)![1]!;

describe('key material never appears in an error', function () {
  this.timeout(60_000);

  it('pki check with malformed client-key-data (YAML alias, YAML tag, bad base64, cut short): the file and the fault only', async function () {
    const t = await sharedPkiCopy();
    try {
      const secrets: string[] = [];
      const damage = (file: string, how: (b64: string, pem: string) => string): void => {
        const p = path.join(t.dir, file);
        const conf = readFileSync(p, 'utf8');
        const b64 = field(conf, 'client-key-data');
        const pem = Buffer.from(b64, 'base64').toString();
        secrets.push(b64, pem);
        writeFileSync(p, conf.replace(b64, how(b64, pem)), { mode: 0o600 });
      };
      // The yaml library used to echo the whole value in its error ("Unresolved alias ... LS0t...") and warning.
      damage('admin.conf', (b64) => `*${b64}`);
      damage('super-admin.conf', (b64) => `!${b64}`);
      damage('scheduler.conf', (_b64, pem) => Buffer.from(pem.replace(/\n(?=-----END)/, '!!\n')).toString('base64'));
      damage('controller-manager.conf', (_b64, pem) => Buffer.from(pem.slice(0, 700)).toString('base64'));
      const r = cli('check', t.dir);
      expect(r.status).to.equal(1);
      expectNoSecret(r.out, secrets);
      expect(r.out).to.match(/FAULT admin\.conf: not valid YAML \(yaml: line \d+, column \d+: unresolved alias\)/);
      expect(r.out).to.match(/FAULT super-admin\.conf: not valid YAML \(yaml: line \d+, column \d+: unresolved tag\)/);
      expect(r.out).to.include('FAULT scheduler.conf (client-key-data): PKCS#1 RSA private key block is not valid base64');
      expect(r.out).to.match(/FAULT controller-manager\.conf \(client-key-data\): truncated PEM/);
    } finally { t.remove(); }
  });

  it('pki check with a malformed embedded certificate and a truncated key file: no key, no base64', async function () {
    const t = await sharedPkiCopy();
    try {
      const kubeProxy = path.join(t.dir, 'kube-proxy.conf');
      const conf = readFileSync(kubeProxy, 'utf8');
      const cert = field(conf, 'client-certificate-data');
      writeFileSync(kubeProxy, conf.replace(cert, `*${cert}`), { mode: 0o600 });
      const keyFile = path.join(t.dir, 'pki/apiserver.key');
      const key = readFileSync(keyFile, 'utf8');
      writeFileSync(keyFile, key.slice(0, Math.floor(key.length / 2)), { mode: 0o600 });
      const r = cli('check', t.dir);
      expect(r.status).to.equal(1);
      expectNoSecret(r.out, [key, field(conf, 'client-key-data'), cert]);
      expect(r.out).to.match(/FAULT kube-proxy\.conf: not valid YAML \(yaml: line \d+, column \d+: unresolved alias\)/);
      expect(r.out).to.include('FAULT pki/apiserver.key: truncated PEM (PKCS#1 RSA private key block has no END line)');
    } finally { t.remove(); }
  });

  it('parseKubeconfig errors name the file, the line and the fault; the yaml library writes no warning', function () {
    // A real key made now (no key material lives in the repository), base64'd as client-key-data holds it.
    const secret = Buffer.from(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()).toString('base64');
    const base = (v: string): string => [
      'apiVersion: v1', 'kind: Config', 'current-context: a@k', 'clusters:', '- name: k', '  cluster:', '    server: https://127.0.1.1:6443',
      '    certificate-authority-data: QQ==', 'contexts:', '- name: a@k', '  context: {cluster: k, user: a}', 'users:', '- name: a', '  user:',
      '    client-certificate-data: QQ==', `    client-key-data: ${v}`, '',
    ].join('\n');
    const warnings: string[] = [];
    const onWarning = (w: Error): void => { warnings.push(w.message); };
    process.on('warning', onWarning);
    try {
      for (const v of [`*${secret}`, `!${secret}`, `"${secret}`, `${secret.slice(0, 40)}: ${secret.slice(40)}`, `%${secret}`, `[${secret}`]) {
        let err: unknown;
        try { parseKubeconfig(base(v), 'x.conf'); } catch (e) { err = e; }
        if (err === undefined) continue; // a value the YAML reader accepts: the PEM reader judges it later
        expect(err).to.be.instanceOf(PkiError);
        expect((err as PkiError).code).to.equal('KUBECONFIG_INVALID');
        expect((err as Error).message).to.match(/^x\.conf: not valid YAML \(yaml: line 1[67], column \d+: [a-z ,'()-]+\)$/);
        expectNoSecret((err as Error).message, [secret]);
      }
    } finally {
      process.off('warning', onWarning);
    }
    expectNoSecret(warnings.join('\n'), [secret]);
  });
});
