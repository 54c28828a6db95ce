import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KubeClient } from '../../components/client/kube-client.js';
import type { Node } from '../../components/api/types.js';
import { Trace, type RequestEvent, type TlsClientEvent, type TlsServerEvent } from '../../components/client/trace.js';
import { renderKubeconfig } from '../../pki/kubeconfig.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { caCertHash } from '../../sim/join.js';
import { silentLogger } from '../../sim/logger.js';
import { TraceRecorder } from '../../sim/trace.js';
import { waitFor } from '../../sim/wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Whether a process still runs (a zombie no longer does: it has exited and waits to be reaped). */
const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
};

/** Starts `node --import tsx <args>` in the repository and resolves with the first stdout line that `match`es. */
function start(args: string[]): { child: ChildProcess; line: (match: RegExp) => Promise<string>; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', TSX, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child, exited, output: () => out,
    line: (match) => waitFor(`a line matching ${match} from ${args.join(' ')}`, () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out}`);
      return out.split('\n').find((l) => match.test(l));
    }, 60_000),
  };
}

describe('node processes', function () {
  this.timeout(120_000);

  it('node workers exit when the cluster process is killed (SIGKILL): no orphans', async () => {
    const p = start(['test/helpers/workers-child.ts']);
    try {
      const info = JSON.parse(await p.line(/^\{"apiserver"/)) as { workers: number[] };
      expect(info.workers).to.have.length(2);
      for (const pid of info.workers) expect(running(pid), `worker ${pid} before`).to.equal(true);
      p.child.kill('SIGKILL');
      await p.exited;
      // Their IPC channel disconnects: each destroys its nodes and exits.
      await waitFor('every node worker to exit', () => (info.workers.every((pid) => !running(pid)) ? true : undefined), 20_000);
    } finally {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }
  });

  describe('npm run node -- join, from a separate process', () => {
    let pki: Pki;
    let cluster: Cluster;
    let recorder: TraceRecorder;
    let admin: KubeClient;
    let dir: string;
    before(async () => {
      pki = await issuePki({ nodes: ['node-1'] });
      const trace = new Trace();
      recorder = new TraceRecorder(trace);
      cluster = await new Cluster({ pki, trace, logger: silentLogger(), ports: 'ephemeral', nodes: [], clusterSigning: {} }).start();
      admin = cluster.client('admin.conf');
      dir = await mkdtemp(path.join(os.tmpdir(), 'node-join-'));
    });
    after(async () => {
      await cluster?.stop();
      recorder?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('token create prints the join line; joins node-3 with it: TLS bootstrap, the Node Ready, its kube-proxy reading services; SIGTERM stops it', async () => {
      const kubeconfig = async (name: 'admin.conf' | 'kube-proxy.conf', user: string): Promise<string> => {
        const c = credential(pki, name);
        const file = path.join(dir, name);
        await writeFile(file, renderKubeconfig({ server: cluster.apiserverUrl, clusterName: pki.plan.clusterName, user, caPem: caPem(pki, 'ca'), certPem: c.certPem, keyPem: c.keyPem }), { mode: 0o600 });
        return file;
      };
      const proxyConf = await kubeconfig('kube-proxy.conf', 'system:kube-proxy');
      // kubeadm token create --print-join-command, then the join it prints, each its own process.
      const create = start(['cli/node.ts', 'token', 'create', '--kubeconfig', await kubeconfig('admin.conf', 'kubernetes-admin')]);
      expect(await create.exited, create.output()).to.equal(0);
      const printed = /^npm run node -- join (\S+) --token ([a-z0-9]{6}\.[a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64}) --nodes node-101$/m.exec(create.output());
      expect(printed, create.output()).to.not.equal(null);
      expect(printed![1]).to.equal(cluster.apiserverUrl);
      expect(printed![3]).to.equal(caCertHash(caPem(pki, 'ca')));
      const p = start(['cli/node.ts', 'join', printed![1]!, '--token', printed![2]!, '--discovery-token-ca-cert-hash', printed![3]!,
        '--nodes', 'node-3', '--kube-proxy-kubeconfig', proxyConf, '--kubelet-port', '0']);
      try {
        const joined = await p.line(/^node-3: joined/);
        expect(joined, joined).to.match(/CSR node-csr-\S+ approved and issued\), kubelet https:\/\/127\.0\.2\.3:\d+, kube-proxy synced/);
        await p.line(/1 node running in process \d+; Ctrl-C stops them/);
        const node = await waitFor('node-3 Ready', async () => {
          const n = await admin.get<Node>('/api/v1/nodes/node-3');
          return n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ? n : undefined;
        });
        expect(node.status?.addresses).to.deep.include({ type: 'InternalIP', address: '127.0.2.3' });
        // The apiserver saw the joined kubelet's new certificate (signed by the controller-manager) and verified it.
        const seen = recorder.events.find((e): e is TlsServerEvent => e.type === 'tls-server' && e.server === 'kube-apiserver' && e.clientCert?.cn === 'system:node:node-3');
        expect(seen?.verified).to.equal(true);
        const bootstrap = recorder.events.find((e): e is RequestEvent => e.type === 'request' && e.resource === 'certificatesigningrequests' && e.method === 'POST' && e.user.startsWith('system:bootstrap:'));
        expect(bootstrap?.status).to.equal(201);
        const proxied = recorder.events.find((e): e is RequestEvent => e.type === 'request' && e.user === 'system:kube-proxy' && e.resource === 'endpointslices' && e.decision === 'allow');
        expect(proxied, 'kube-proxy listed EndpointSlices').to.not.equal(undefined);
        // apiserver → the joined kubelet in the other process: its serving certificate is self-signed (kubeadm's
        // default), so this apiserver, with --kubelet-certificate-authority, refuses it in the handshake.
        const res = await admin.raw('GET', '/api/v1/nodes/node-3/proxy/healthz', undefined, undefined, '*/*');
        expect(res.status, res.body).to.equal(503);
        expect(res.body).to.include('x509: certificate signed by unknown authority');
        const hop = recorder.events.find((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === 'kube-apiserver' && e.server === 'kubelet (node-3)');
        expect(hop?.cause).to.equal('unknown-authority');
        expect(hop?.serverCert?.cn).to.match(/^node-3@\d+$/);
        p.child.kill('SIGTERM');
        expect(await p.exited, p.output()).to.equal(0);
        expect(p.output()).to.match(/stopping\.\.\./);
      } finally {
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
        await p.exited;
      }
    });

    it('refuses bad input with one line: no CA hash, a node name without a number', async () => {
      const noHash = start(['cli/node.ts', 'join', cluster.apiserverUrl, '--token', 'abcdef.0123456789abcdef', '--nodes', 'node-4']);
      expect(await noHash.exited).to.equal(2);
      expect(noHash.output()).to.match(/^node: --discovery-token-ca-cert-hash is required/);
      const badName = start(['cli/node.ts', 'join', cluster.apiserverUrl, '--token', 'abcdef.0123456789abcdef', '--discovery-token-ca-cert-hash', 'sha256:00', '--nodes', 'worker']);
      expect(await badName.exited).to.equal(2);
      expect(badName.output()).to.match(/^node: --nodes: "worker" must end in -<k>/);
    });
  });
});
