/**
 * Real kubectl's `--dry-run=server` (issue 11, item 5): `create` prints the object the server would
 * make and makes nothing; `delete` says what it would delete and deletes nothing.
 */
import { expect } from 'chai';
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { renderKubeconfig } from '../pki/kubeconfig.js';
import { caPem, credential, issuePki, type Pki } from '../pki/store.js';
import { startControlPlane, type ControlPlane } from '../test/helpers/control-plane.js';
import { need, run, tools, type Tool } from './helpers.js';

// The dispatcher (JSON bodies) and kubectl 1.33 (protobuf bodies, DeleteOptions included).
for (const tool of [tools.kubectl, tools.kubectl133] as Tool[]) describe(`${tool.label}: --dry-run=server`, function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;
  let dir: string;
  let kubeconfig: string;

  const kubectl = (...args: string[]) => run(tool.path!, ['--kubeconfig', kubeconfig, ...args], { timeoutMs: 30_000 });
  const revision = (): number => cp.etcd.store.revision;

  before(async function () {
    need(this, tool);
    dir = mkdtempSync(path.join(os.tmpdir(), 'dryrun-'));
    pki = await issuePki();
    cp = await startControlPlane(pki);
    const admin = credential(pki, 'admin.conf');
    kubeconfig = path.join(dir, 'admin.conf');
    await fs.writeFile(kubeconfig, renderKubeconfig({ server: cp.url, clusterName: 'kubernetes', user: 'kubernetes-admin', caPem: caPem(pki, 'ca'), certPem: admin.certPem, keyPem: admin.keyPem }), { mode: 0o600 });
  });
  after(async () => {
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('create cm x --dry-run=server -o yaml prints the server\'s object and stores nothing', async () => {
    const before = revision();
    const r = await kubectl('create', 'configmap', 'x', '--from-literal=k=v', '--dry-run=server', '-o', 'yaml');
    expect(r.code, r.stderr).to.equal(0);
    const obj = YAML.parse(r.stdout) as { kind: string; data: Record<string, string>; metadata: Record<string, string> };
    expect(obj.kind).to.equal('ConfigMap');
    expect(obj.data).to.deep.equal({ k: 'v' });
    expect(obj.metadata).to.include({ name: 'x', namespace: 'default' });
    expect(obj.metadata.uid, 'the server filled in a uid').to.match(/^[0-9a-f-]{36}$/);
    expect(obj.metadata).to.not.have.property('resourceVersion');
    expect(revision()).to.equal(before);
    const get = await kubectl('get', 'configmap', 'x');
    expect(get.code).to.not.equal(0);
    expect(get.stderr).to.include('configmaps "x" not found');
  });

  it('delete cm --dry-run=server says it deleted and keeps the configmap', async () => {
    expect((await kubectl('create', 'configmap', 'kept', '--from-literal=k=v')).code).to.equal(0);
    const before = revision();
    const r = await kubectl('delete', 'configmap', 'kept', '--dry-run=server');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal('configmap "kept" deleted (server dry run)');
    expect(revision()).to.equal(before);
    expect((await kubectl('get', 'configmap', 'kept')).code).to.equal(0);
  });

  it('reports a refused dry run as kubectl reports any refusal (422 for an invalid name)', async () => {
    const r = await kubectl('create', 'configmap', 'Bad_Name', '--dry-run=server');
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.include('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"');
  });
});
