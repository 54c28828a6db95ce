/**
 * Real kubectl's exec and port-forward against `npm run cluster`: the dispatcher (1.32) and 1.33
 * speak WebSocket (v5.channel.k8s.io; port-forward as SPDY tunnelled in a WebSocket), 1.20 speaks
 * SPDY. Each crosses both hops: kubectl → apiserver (admin.conf), apiserver → kubelet
 * (apiserver-kubelet-client).
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { need, run, startSimCluster, tools, waitFor, type SimCluster, type Tool } from './helpers.js';

const podYaml = (ns: string): string => `apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: v1
kind: Pod
metadata:
  name: shell
  namespace: ${ns}
spec:
  containers:
  - name: web
    image: nginx:1.27
    ports:
    - containerPort: 80
    env:
    - name: GREETING
      value: hello
`;

function get(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('real kubectl exec and port-forward against npm run cluster', function () {
  this.timeout(180_000);
  let cluster: SimCluster | undefined;

  before(async function () {
    if (!tools.kubectl.path && !tools.kubectl120.path) need(this, tools.kubectl, tools.kubectl120);
    cluster = await startSimCluster();
  });
  after(async () => {
    await cluster?.stop();
  });

  const suites: Array<{ tool: Tool; ns: string; protocol: string }> = [
    { tool: tools.kubectl, ns: 'exec-current', protocol: 'WebSocket' },
    { tool: tools.kubectl133, ns: 'exec-133', protocol: 'WebSocket' },
    { tool: tools.kubectl120, ns: 'exec-120', protocol: 'SPDY' },
  ];

  for (const { tool, ns, protocol } of suites) {
    describe(`${tool.label} (${protocol})`, () => {
      const kubectl = (args: string[], input?: string) => run(tool.path!, ['--kubeconfig', cluster!.info.kubeconfigs.admin, '-n', ns, ...args], { timeoutMs: 60_000, ...(input === undefined ? {} : { input }) });

      before(async function () {
        need(this, tool);
        const f = path.join(cluster!.dir, `${ns}.yaml`);
        await fs.writeFile(f, podYaml(ns));
        const r = await kubectl(['apply', '-f', f]);
        expect(r.code, r.stderr).to.equal(0);
        await waitFor('pod shell Running', async () => {
          const s = await kubectl(['get', 'pod', 'shell', '-o', 'jsonpath={.status.phase}']);
          return s.stdout === 'Running' ? true : undefined;
        }, 60_000, 300);
      });

      it('exec POD -- hostname', async () => {
        const r = await kubectl(['exec', 'shell', '--', 'hostname']);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.equal('shell\n');
      });

      it('exec -i POD -- sh with lines on stdin', async () => {
        const r = await kubectl(['exec', '-i', 'shell', '--', 'sh'], 'cat /etc/hostname\necho $GREETING\nid\n');
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.equal('shell\nhello\nuid=0(root) gid=0(root) groups=0(root),10(wheel)\n');
      });

      it('the exit code comes back: kubectl exits with it and says so', async () => {
        const r = await kubectl(['exec', 'shell', '--', 'sh', '-c', 'echo bye; exit 7']);
        expect(r.stdout).to.equal('bye\n');
        expect(r.code).to.equal(7);
        expect(r.stderr).to.include('command terminated with exit code 7');
      });

      it('port-forward pod/POD 0:80, then an HTTP GET through the chosen local port', async () => {
        const child: ChildProcess = spawn(tool.path!, ['--kubeconfig', cluster!.info.kubeconfigs.admin, '-n', ns, 'port-forward', 'pod/shell', '0:80'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout!.setEncoding('utf8').on('data', (c: string) => { out += c; });
        child.stderr!.setEncoding('utf8').on('data', (c: string) => { out += c; });
        const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
        try {
          const port = await waitFor('kubectl port-forward to print its local port', () => {
            const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 80/.exec(out);
            if (!m && child.exitCode !== null) throw new Error(`port-forward exited: ${out}`);
            return m ? Number(m[1]) : undefined;
          }, 30_000);
          const first = await get(port, '/hello');
          expect(first.status).to.equal(200);
          expect(first.body).to.match(new RegExp(`^Hello from ${ns}/shell \\(container web, image nginx:1\\.27\\), listening on 10\\.244\\.\\d+\\.\\d+:80: GET /hello\\n$`));
          const second = await get(port, '/again');
          expect(second.body).to.include('GET /again');
          expect(out).to.include(`Handling connection for ${port}`);
        } finally {
          child.kill('SIGTERM');
          await exited;
        }
      });
    });
  }
});
