/**
 * README "Pinning your wiring in your own tests": the mocha example under `<!-- library-example -->`, run as
 * a user runs it (its own mocha process, importing the package by its name through package.json
 * `exports`), once as written (it must pass) and once against a cluster wired wrong (it must fail).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function example(): Promise<string> {
  const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
  const m = /<!-- library-example -->\n```ts\n([\s\S]+?)\n```/.exec(readme);
  if (!m) throw new Error('README.md: no ```ts block after <!-- library-example -->');
  return m[1]!;
}

/** Runs one spec file with mocha and tsx in a child process; resolves with its exit code and output. */
function mocha(file: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/mocha/bin/mocha.js'), '--no-config', '--node-option', 'import=tsx', '--reporter', 'dot', '--timeout', '180000', file],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out }));
  });
}

describe('README: the library example', function () {
  this.timeout(600_000);
  // Inside the package, so `k8s-mtls-sim` resolves to this checkout (a package's self-reference).
  const dir = path.join(ROOT, '.readme-example');
  before(() => fs.mkdir(dir, { recursive: true }));
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('imports k8s-mtls-sim by name and passes as written', async () => {
    const code = await example();
    expect(code).to.match(/from 'k8s-mtls-sim'/);
    const file = path.join(dir, `as-written-${process.pid}.test.ts`);
    await fs.writeFile(file, code);
    const r = await mocha(file);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(/3 passing/);
  });

  it('fails against a cluster whose etcd trusts the Kubernetes CA (the cell and the differences)', async () => {
    const code = (await example()).replace("startCluster({ nodes: ['node-1'] })", "startCluster({ nodes: ['node-1'], miswire: 'etcd-trusts-kubernetes-ca' })");
    expect(code).to.include("miswire: 'etcd-trusts-kubernetes-ca'");
    const file = path.join(dir, `miswired-${process.pid}.test.ts`);
    await fs.writeFile(file, code);
    const r = await mocha(file);
    expect(r.code, r.out).to.equal(2);
    expect(r.out).to.match(/1 passing/);
    expect(r.out).to.match(/2 failing/);
    expect(r.out).to.include("expected 'allowed' to equal 'handshake refused'");
  });
});
