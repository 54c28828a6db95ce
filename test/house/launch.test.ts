import { expect } from 'chai';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

describe('cli/launch.mjs (npm run scenario and npm run cluster start cli/main.ts from one bundle)', function () {
  this.timeout(120_000);
  // Inside the repository (.cache/ is ignored by git), as the launcher requires: packages resolve from there.
  mkdirSync(path.join(ROOT, '.cache'), { recursive: true });
  const cache = mkdtempSync(path.join(ROOT, '.cache', 'launch-test-'));
  after(() => rmSync(cache, { recursive: true, force: true }));
  const launch = (args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> => spawnSync(process.execPath, ['cli/launch.mjs', 'main', ...args], {
    cwd: ROOT, encoding: 'utf8', timeout: 90_000,
    env: { ...process.env, K8S_SIM_LAUNCH_CACHE: cache, K8S_SIM_LAUNCH_VERBOSE: '1', ...env },
  });

  it('builds the bundle on the first run, reuses it on the next, and prints what tsx cli/main.ts prints', () => {
    const first = launch(['scenario', '--list']);
    expect(first.status, first.stderr).to.equal(0);
    expect(first.stderr).to.include('launch: cli/main.ts bundle: built');
    const second = launch(['scenario', '--list', '--lang', 'ko']);
    expect(second.status, second.stderr).to.equal(0);
    expect(second.stderr).to.include('launch: cli/main.ts bundle: reused').and.not.include('built');
    const viaTsx = (args: string[]): string => spawnSync(TSX, ['cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 90_000 }).stdout;
    expect(first.stdout).to.equal(viaTsx(['scenario', '--list'])).and.include('tour');
    expect(second.stdout).to.equal(viaTsx(['scenario', '--list', '--lang', 'ko']));
  });

  it('rebuilds when a source it was built from changed since (by its recorded mtime and size)', () => {
    expect(launch(['scenario', '--list']).status).to.equal(0);
    const stampFile = path.join(cache, 'main.json');
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as { files: Record<string, string> };
    expect(Object.keys(stamp.files)).to.include.members(['cli/main.ts', 'sim/cluster.ts', 'scenarios/tour.ts']);
    stamp.files['sim/wait.ts'] = '0:0';
    writeFileSync(stampFile, JSON.stringify(stamp));
    const r = launch(['scenario', '--list']);
    expect(r.stderr).to.include('sim/wait.ts changed').and.include('built');
  });

  it("gives each module its own import.meta: the paths computed from it are the sources', as under tsx", () => {
    expect(launch(['scenario', '--list']).status).to.equal(0);
    const bundle = readFileSync(path.join(cache, 'main.mjs'), 'utf8');
    // Only the banner's createRequire reads the bundle's own import.meta.
    expect(bundle.match(/import\.meta\.\w+/g)).to.deep.equal(['import.meta.url']);
    expect(bundle).to.include(JSON.stringify(path.join(ROOT, 'cli'))) // cli/main.ts: ROOT, hence the default .cluster/
      .and.include(JSON.stringify(path.join(ROOT, 'scenarios'))) // scenarios/matrix.ts: matrix.golden.json beside it
      .and.include(JSON.stringify(new URL('../../sim/worker-process.ts', import.meta.url).href)); // the node and etcd workers' entries
  });

  it('runs the TypeScript through tsx with K8S_SIM_TSX=1, and passes usage errors through (exit 2)', () => {
    const r = launch(['scenario', '--list'], { K8S_SIM_TSX: '1' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.not.include('launch:');
    expect(r.stdout).to.include('tour');
    const bad = launch(['bogus']);
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.include('sim: unknown command "bogus"');
    const none = spawnSync(process.execPath, ['cli/launch.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect(none.status).to.equal(2);
    expect(none.stderr).to.match(/^usage: node cli\/launch\.mjs ENTRY/);
    const outside = launch(['scenario', '--list'], { K8S_SIM_LAUNCH_CACHE: os.tmpdir() });
    expect(outside.status).to.equal(2);
    expect(outside.stderr).to.include('is outside').and.include('could not find node_modules');
  });
});
