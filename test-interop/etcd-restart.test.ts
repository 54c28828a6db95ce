/**
 * Real etcd 3.4 and data that survives: a member killed with SIGKILL is restarted with backoff while
 * the apiserver's /readyz reports it; `npm run cluster -- --etcd real` loses no acknowledged write to a
 * kill -9 of the whole process group, runs etcd with --data-dir under the cluster directory and the
 * PKI directory's own certificate files, and leaves nothing in TMPDIR; --ephemeral keeps nothing.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EtcdProcess } from '../components/etcd/process.js';
import { KubeApiserver } from '../components/kube-apiserver/index.js';
import { KubeClient } from '../components/client/kube-client.js';
import type { KubeObject } from '../components/api/types.js';
import { caPem, credential, issuePki, loadPki, type Pki } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { silentLogger } from '../sim/logger.js';
import { need, ROOT, tools, waitFor, type ClusterInfo } from './helpers.js';

const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';
const configMap = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: name } } as KubeObject);

interface CliCluster {
  readonly child: ChildProcess;
  readonly info: ClusterInfo;
  readonly output: () => string;
  readonly exited: Promise<void>;
}

/** `npm run cluster -- --pki-dir DIR ...` in its own process group (so kill -9 can take etcd with it), until it is up. */
async function startCli(dir: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliCluster> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'cluster', '--pki-dir', dir, '--nodes', '0', ...args], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { out += c; });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { out += c; });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await waitFor('npm run cluster to come up', () => {
    if (child.exitCode !== null) throw new Error(`npm run cluster exited:\n${out}`);
    return out.includes('Ctrl-C stops it.') ? true : undefined;
  }, 90_000, 100);
  const info = JSON.parse(await fs.readFile(path.join(dir, 'cluster.json'), 'utf8')) as ClusterInfo;
  return { child, info, output: () => out, exited };
}

function adminOf(pki: Pki, server: string): KubeClient {
  const c = credential(pki, 'admin.conf');
  return new KubeClient({ name: 'admin', server, identity: { cert: c.certPem, key: c.keyPem }, serverCa: caPem(pki, 'ca') });
}

/** The etcd process the cluster spawned: its pid and command line, from /proc. */
async function etcdChild(parent: number): Promise<{ pid: number; args: string[] }> {
  const children = (await fs.readFile(`/proc/${parent}/task/${parent}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean);
  for (const pid of children) {
    const args = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
    if (args[0] && path.basename(args[0]) === 'etcd') return { pid: Number(pid), args };
  }
  throw new Error(`no etcd child of ${parent}`);
}

/** Whether a process is gone (or a zombie nobody reaped yet). */
async function gone(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat === undefined || / Z /.test(stat);
}

const flag = (args: readonly string[], name: string): string | undefined => args[args.indexOf(name) + 1];

describe('real etcd 3.4: restarts and data that survives', function () {
  this.timeout(240_000);

  it('a member killed with SIGKILL is restarted with backoff, and /readyz fails meanwhile and is ok again after', async function () {
    need(this, tools.etcd);
    const pki = await issuePki({ nodes: [] });
    const etcd = new EtcdProcess({
      host: '127.0.1.1', clientPort: 0, peerPort: 0, identity: identityOf(pki, 'etcd/server'), peerIdentity: identityOf(pki, 'etcd/peer'),
      trustedCa: caPem(pki, 'etcd/ca'), healthcheckIdentity: identityOf(pki, 'etcd/healthcheck-client'), logger: silentLogger(),
      restart: { initialMs: 2000 },
    });
    await etcd.start();
    const apiserver = new KubeApiserver({
      host: '127.0.1.1', port: 0, identity: identityOf(pki, 'apiserver'), clientCa: caPem(pki, 'ca'),
      etcd: { endpoints: [etcd.clientUrl], identity: identityOf(pki, 'apiserver-etcd-client'), ca: caPem(pki, 'etcd/ca') },
      kubeletClient: {}, serviceAccount: pki.serviceAccount, advertiseAddress: '127.0.1.1', logger: silentLogger(), etcdHealthcheckTimeoutMs: 300,
    });
    let admin: KubeClient | undefined;
    try {
      await apiserver.start();
      admin = new KubeClient({ name: 'admin', server: apiserver.url, identity: identityOf(pki, 'super-admin.conf'), serverCa: caPem(pki, 'ca') });
      expect((await admin.create(CONFIGMAPS, configMap('before-crash'))).metadata.name).to.equal('before-crash');
      expect((await admin.raw('GET', '/readyz')).status).to.equal(200);
      const pid = etcd.pid!;
      process.kill(pid, 'SIGKILL');
      const failing = await waitFor('/readyz to fail', async () => {
        const r = await admin!.raw('GET', '/readyz?verbose');
        return r.status === 500 ? r.body : undefined;
      }, 10_000, 50);
      expect(failing).to.contain('[-]etcd failed: reason withheld');
      await waitFor('/readyz to pass again', async () => ((await admin!.raw('GET', '/readyz')).status === 200 ? true : undefined), 60_000, 200);
      expect(etcd.restarts).to.equal(1);
      expect(etcd.pid).to.not.equal(pid);
      expect((await admin.raw('GET', `${CONFIGMAPS}/before-crash`)).status).to.equal(200);
    } finally {
      admin?.close();
      await apiserver.stop();
      await etcd.stop();
    }
  });

  it('npm run cluster -- --etcd real: kill -9 loses no acknowledged write; --data-dir and the certificates are the cluster directory\'s; nothing is left in TMPDIR', async function () {
    need(this, tools.etcd);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'interop-restart-'));
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'interop-tmpdir-'));
    const env = { ...process.env, TMPDIR: tmp, TSX_DISABLE_CACHE: '1' };
    let first: CliCluster | undefined;
    let second: CliCluster | undefined;
    try {
      first = await startCli(dir, ['--etcd', 'real'], env);
      expect(first.output()).to.contain(`etcd data: ${path.join(dir, 'etcd')}`);
      const { pid: etcdPid, args } = await etcdChild(first.child.pid!);
      expect(flag(args, '--data-dir')).to.equal(path.join(dir, 'etcd'));
      expect(flag(args, '--cert-file')).to.equal(path.join(dir, 'pki', 'etcd', 'server.crt'));
      expect(flag(args, '--key-file')).to.equal(path.join(dir, 'pki', 'etcd', 'server.key'));
      expect(flag(args, '--peer-key-file')).to.equal(path.join(dir, 'pki', 'etcd', 'peer.key'));
      expect(await fs.readdir(tmp)).to.deep.equal([]);

      const pki = await loadPki(dir);
      const admin = adminOf(pki, first.info.apiserver);
      const acknowledged: string[] = [];
      let killed = false;
      let next = 0;
      const group = first.child.pid!;
      try {
        await Promise.all(Array.from({ length: 8 }, async () => {
          while (!killed && next < 2000) {
            const name = `cm-${next++}`;
            const res = await admin.raw('POST', CONFIGMAPS, configMap(name)).catch(() => undefined);
            if (res && res.status >= 200 && res.status < 300) acknowledged.push(name);
            if (acknowledged.length >= 60 && !killed) {
              killed = true;
              process.kill(-group, 'SIGKILL'); // the sim and its etcd at once, as a power cut would
            }
          }
        }));
      } finally {
        admin.close();
      }
      await first.exited;
      await waitFor('etcd to be gone', async () => ((await gone(etcdPid)) ? true : undefined), 10_000, 100);

      second = await startCli(dir, ['--etcd', 'real'], env);
      const again = adminOf(pki, second.info.apiserver);
      try {
        const list = await again.list(CONFIGMAPS);
        const present = new Set(list.items.map((o) => o.metadata.name));
        expect(acknowledged.length).to.be.at.least(60);
        expect(acknowledged.filter((n) => !present.has(n))).to.deep.equal([]);
      } finally {
        again.close();
      }
      second.child.kill('SIGTERM');
      await second.exited;
      second = undefined;
      expect(existsSync(path.join(dir, 'etcd', 'member'))).to.equal(true);
      expect(await fs.readdir(tmp)).to.deep.equal([]);
    } finally {
      for (const c of [first, second]) if (c && c.child.exitCode === null) { try { process.kill(-c.child.pid!, 'SIGKILL'); } catch { /* gone */ } await c.exited; }
      rmSync(dir, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('npm run cluster -- --etcd real --ephemeral: no data in the cluster directory, and its temporary folder is gone after a stop', async function () {
    need(this, tools.etcd);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'interop-ephemeral-'));
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'interop-tmpdir-'));
    let c: CliCluster | undefined;
    try {
      c = await startCli(dir, ['--etcd', 'real', '--ephemeral'], { ...process.env, TMPDIR: tmp, TSX_DISABLE_CACHE: '1' });
      const during = await fs.readdir(tmp);
      expect(during).to.have.length(1);
      expect(during[0]).to.match(/^etcd-etcd-/);
      expect((await fs.stat(path.join(tmp, during[0]!))).mode & 0o777).to.equal(0o700);
      c.child.kill('SIGTERM');
      await c.exited;
      expect(await fs.readdir(tmp)).to.deep.equal([]);
      expect(existsSync(path.join(dir, 'etcd'))).to.equal(false);
    } finally {
      if (c && c.child.exitCode === null) { try { process.kill(-c.child.pid!, 'SIGKILL'); } catch { /* gone */ } await c.exited; }
      rmSync(dir, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
