import { expect } from 'chai';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Row } from '../../bench/table.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** `npm run bench -- ARGS` as a fresh process: its exit code, stdout and stderr. */
function bench(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/main.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench (the one table)', function () {
  this.timeout(240_000);

  it('--json --quick prints well-formed rows for handshakes, the scheduler and fan-out, each with its rerun command', async () => {
    const r = await bench('--json', '--quick', '--only', 'handshakes,scheduler,fanout', '--key-algorithm', 'ecdsa-p256', '--phase-ms', '200');
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as { benchmark: string; rows: Row[]; loadAverage: string[]; cpus: number };
    expect(out.benchmark).to.equal('table');
    expect(out.loadAverage).to.have.length(3);
    const figures = out.rows.map((x) => x.figure);
    expect(figures.filter((f) => /^full mTLS handshakes/.test(f))).to.have.length(1);
    expect(figures.filter((f) => /^resumed mTLS handshakes/.test(f))).to.have.length(1);
    expect(figures.filter((f) => /^scheduler bindings\/s/.test(f))).to.have.length(1);
    expect(figures.filter((f) => /kube-proxies' rules, (p50|p99|max)$/.test(f))).to.have.length(3);
    for (const row of out.rows) {
      expect(row.ours, row.figure).to.be.a('number').and.be.greaterThan(0);
      expect(Number.isFinite(row.ours), row.figure).to.equal(true);
      expect(row.baseline, row.figure).to.be.a('number').and.be.greaterThan(0);
      expect(row.ratio, row.figure).to.be.closeTo(row.figure.includes('kube-proxies') ? row.ours / row.baseline! : row.ratio!, 1e-9);
      expect(row.command, row.figure).to.match(/^npm run bench -- (handshakes|scheduler|fanout) /);
      if (row.goal !== undefined) expect(row.pass, row.figure).to.be.a('boolean');
    }
    // The handshake rows carry the resumption share of the resumed phases: sessions really were resumed.
    const resumed = out.rows.find((x) => x.figure.startsWith('resumed'))!;
    expect(resumed.detail).to.match(/connections resumed [1-9]\d*%/);
  });

  it('refuses a row set it does not have with one line naming the ones it has', async () => {
    const r = await bench('--only', 'handshakes,warp');
    expect(r.code).to.equal(1);
    expect(r.stderr.trim()).to.equal('bench: unknown row set warp (the table has pki, tour, handshakes, scheduler, fanout, scale)');
    expect(r.stdout).to.equal('');
  });
});
