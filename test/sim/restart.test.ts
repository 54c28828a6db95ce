import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeClient, resourcePath } from '../../components/client/kube-client.js';
import type { KubeObject } from '../../components/api/types.js';
import { caPem, credential, loadPki } from '../../pki/store.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CONFIGMAPS = resourcePath({ resource: 'configmaps', namespace: 'default' });

interface Child {
  readonly process: ChildProcess;
  readonly apiserver: string;
  /** The revision etcd recovered at start (1: nothing was there). */
  readonly revision: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** test/helpers/cluster-child.ts in a child process, until it prints its apiserver URL. */
async function startChild(dir: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cluster-child.ts', dir, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    void exited.then((e) => reject(new Error(`the cluster exited (${e.code ?? e.signal}) before it was up:\n${err}`)));
  });
  const info = JSON.parse(line) as { apiserver: string; revision: number };
  return { process: child, apiserver: info.apiserver, revision: info.revision, exited };
}

async function stopChild(c: Child): Promise<void> {
  if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGTERM');
  await c.exited;
}

const configMap = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: name } } as KubeObject);

describe('npm run cluster: state that survives a restart', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'restart-test-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('keeps every write acknowledged with a 2xx before a kill -9 (embedded etcd, write-ahead log)', async () => {
    const first = await startChild(dir);
    expect(first.revision).to.equal(1);
    const pki = await loadPki(dir);
    const admin = new KubeClient({ name: 'admin', server: first.apiserver, identity: { cert: credential(pki, 'admin.conf').certPem, key: credential(pki, 'admin.conf').keyPem }, serverCa: caPem(pki, 'ca') });
    const acknowledged: string[] = [];
    let killed = false;
    try {
      // Eight writers in flight; the process is killed when 60 writes have been acknowledged, mid-stream.
      let next = 0;
      const writer = async (): Promise<void> => {
        while (!killed && next < 1000) {
          const name = `cm-${next++}`;
          const res = await admin.raw('POST', CONFIGMAPS, configMap(name)).catch(() => undefined);
          if (res && res.status >= 200 && res.status < 300) acknowledged.push(name);
          if (acknowledged.length >= 60 && !killed) {
            killed = true;
            first.process.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, writer));
      expect((await first.exited).signal).to.equal('SIGKILL');
    } finally {
      admin.close();
      await stopChild(first);
    }
    expect(acknowledged.length).to.be.at.least(60);

    const second = await startChild(dir);
    const again = new KubeClient({ name: 'admin', server: second.apiserver, identity: { cert: credential(pki, 'admin.conf').certPem, key: credential(pki, 'admin.conf').keyPem }, serverCa: caPem(pki, 'ca') });
    try {
      expect(second.revision).to.be.above(60);
      const list = await again.list(CONFIGMAPS);
      const present = new Set(list.items.map((o) => o.metadata.name));
      expect(acknowledged.filter((n) => !present.has(n))).to.deep.equal([]);
      // And the cluster goes on writing where it stopped.
      const res = await again.raw('POST', CONFIGMAPS, configMap('after-restart'));
      expect(res.status).to.equal(201);
      expect(Number((JSON.parse(res.body) as KubeObject).metadata.resourceVersion)).to.be.above(second.revision);
    } finally {
      again.close();
      await stopChild(second);
    }
  });

  it('--ephemeral keeps nothing: no etcd data in the cluster directory, nothing in TMPDIR, and the next start is empty', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'restart-tmpdir-'));
    try {
      const env = { ...process.env, TMPDIR: tmp, TSX_DISABLE_CACHE: '1' };
      const first = await startChild(dir, ['--ephemeral'], env);
      const pki = await loadPki(dir);
      const admin = new KubeClient({ name: 'admin', server: first.apiserver, identity: { cert: credential(pki, 'admin.conf').certPem, key: credential(pki, 'admin.conf').keyPem }, serverCa: caPem(pki, 'ca') });
      try {
        expect((await admin.raw('POST', CONFIGMAPS, configMap('gone'))).status).to.equal(201);
      } finally {
        admin.close();
      }
      await stopChild(first);
      expect((await fs.readdir(dir)).filter((f) => f === 'etcd')).to.deep.equal([]);
      expect(await fs.readdir(tmp)).to.deep.equal([]);
      const second = await startChild(dir, ['--ephemeral'], env);
      try {
        expect(second.revision).to.equal(0);
        const c = new KubeClient({ name: 'admin', server: second.apiserver, identity: { cert: credential(pki, 'admin.conf').certPem, key: credential(pki, 'admin.conf').keyPem }, serverCa: caPem(pki, 'ca') });
        try {
          expect((await c.raw('GET', `${CONFIGMAPS}/gone`)).status).to.equal(404);
        } finally {
          c.close();
        }
      } finally {
        await stopChild(second);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
