import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DEPCRUISE = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation { from: string; to: string; rule: { name: string }; cycle?: { name: string }[] }
interface CruiseResult { modules: { source: string }[]; summary: { violations: Violation[]; totalCruised: number } }

/** The floors of README "How the code is laid out", as .dependency-cruiser.cjs states them. */
describe('the floors (dependency-cruiser)', function () {
  this.timeout(120_000);

  it('no import runs up a floor or across to another component, and nothing imports in a circle', () => {
    const r = spawnSync(process.execPath, [DEPCRUISE, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', 'components', 'sim', 'pki', 'scenarios', 'report', 'cli', 'bench'], {
      cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
    });
    expect(r.stdout, r.stderr).to.match(/^\{/);
    const result = JSON.parse(r.stdout) as CruiseResult;
    const lines = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);
    expect(lines, lines.join('\n')).to.deep.equal([]);
    // It saw the tree: both floors, every component, the sim and the entry points.
    expect(result.summary.totalCruised).to.be.greaterThan(100);
    const seen = (prefix: string): boolean => result.modules.some((m) => m.source.startsWith(prefix));
    for (const p of ['pki/', 'components/api/', 'components/client/', 'components/etcd/', 'components/kube-apiserver/', 'components/kubelet/',
      'components/kube-scheduler/', 'components/kube-controller-manager/', 'components/kube-proxy/', 'components/kubectl/', 'components/metrics-server/', 'sim/', 'scenarios/', 'report/', 'cli/']) {
      expect(seen(p), p).to.equal(true);
    }
  });

});
