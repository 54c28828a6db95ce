import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const run = (args: string[]): ReturnType<typeof spawnSync> => spawnSync(TSX, ['cli/main.ts', 'scenario', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

describe('npm run scenario -- NAME --report DIR --mermaid FILE', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'report-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a self-contained index.html and the graph and timeline as Mermaid', () => {
    const out = path.join(dir, 'out');
    const mmd = path.join(dir, 'flows.mmd');
    const r = run(['refuse-kubelet-to-etcd', '--report', out, '--mermaid', mmd, '--pki-dir', path.join(dir, 'pki')]);
    expect(r.status, String(r.stderr) + String(r.stdout)).to.equal(0);
    expect(String(r.stdout)).to.include(`report: wrote ${path.join(out, 'index.html')}`);
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    // Nothing to fetch: no external script, stylesheet, image or font; a CSP that forbids any.
    expect(html).to.not.match(/\b(src|href)="(https?:)?\/\//);
    expect(html).to.not.match(/<link rel="stylesheet"|<script src=/);
    expect(html).to.include("default-src 'none'");
    // The refusal: kubelet (node-1) → etcd, refused in the handshake, in Go's words.
    expect(html).to.match(/class="arrow o-refused"[^>]*aria-label="kubelet \(node-1\) → etcd, client certificate CN=system:node:node-1: handshake refused/);
    expect(html).to.include('x509: certificate signed by unknown authority');
    const arrows = html.match(/<g class="arrow /g)?.length ?? 0;
    const text = readFileSync(mmd, 'utf8');
    expect(text).to.match(/^flowchart LR$/m).and.match(/^sequenceDiagram$/m);
    expect(text.match(/ -->\|"/g)?.length, 'one Mermaid edge per arrow').to.equal(arrows);
    expect(text.match(/^ {2}linkStyle \d+ stroke:#c62828/m), 'the refused arrow is red').to.not.equal(null);
    expect(text).to.match(/-x\S+: TLS handshake: CN=system:node:node-1 · refused by the server/);
  });

  it('refuses flags that do not go together, with one line and exit status 2', () => {
    const golden = run(['tour', '--golden']);
    expect(golden.status).to.equal(2);
    expect(String(golden.stderr)).to.include('--golden and --golden-file go with --report DIR');
    const many = run(['tour', 'matrix', '--report', path.join(dir, 'x')]);
    expect(many.status).to.equal(2);
    expect(String(many.stderr)).to.include('--report and --mermaid draw one scenario; got 2 (tour, matrix)');
    const notMatrix = run(['tour', '--report', path.join(dir, 'y'), '--golden']);
    expect(String(notMatrix.stderr)).to.include('--golden compares the trust matrix');
  });
});
