/**
 * `npm run node -- join https://<apiserver>:6443 --token T --discovery-token-ca-cert-hash sha256:H --nodes node-101,node-102`
 *
 * Nodes joining a running cluster from this process, as `kubeadm join` of workers does it (sim/join.ts,
 * components/kubelet/bootstrap.ts): token discovery of kube-public/cluster-info with the CA pinned by its
 * hash, the kubelet's TLS bootstrap (a CSR approved and signed by the controller-manager), then a kubelet
 * per node with the certificate it got, and a kube-proxy per node with kube-proxy.conf when it is given
 * (--kube-proxy-kubeconfig: what "Kubernetes The Hard Way" copies to each worker; kubeadm instead runs
 * kube-proxy as a DaemonSet with the kube-proxy ServiceAccount's token). They run until SIGINT/SIGTERM.
 *
 * node-k takes node k's address and pod range from the plan (127.0.2.k, 10.244.k.0/24), so several
 * processes (or machines) can each run their share. Bad input is one line on stderr and exit 2; a join
 * that fails (discovery, CSR) one line naming the node and exit 1.
 */
import { KubeSimError } from '../pki/errors.js';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Trace } from '../components/client/trace.js';
import { KubeProxy, PROXY_MODES, type ProxyMode } from '../components/kube-proxy/index.js';
import { PkiError } from '../pki/errors.js';
import { parseKubeconfig } from '../pki/kubeconfig.js';
import { nodePlan } from '../pki/spec.js';
import { KubeClient } from '../components/client/kube-client.js';
import { loadKubeconfig, resolveKubeconfigPath } from '../components/kubectl/config.js';
import { caCertHash, createBootstrapToken, joinNode, type JoinedNode } from '../sim/join.js';
import { createLogger } from '../sim/logger.js';
import { tolerateClosedStdout } from './stdio.js';

const USAGE = `usage: npm run node -- token create [--kubeconfig FILE]   (kubeadm token create --print-join-command)
       npm run node -- join <apiserver> --token <id>.<secret> --discovery-token-ca-cert-hash sha256:<hex> --nodes node-101,node-102
  <apiserver>                         https://host:port or host:port, as kubeadm join takes it
  --token                             a bootstrap token (kubeadm token create; npm run kubectl -- create token is not one)
  --discovery-token-ca-cert-hash      sha256 of the CA's SubjectPublicKeyInfo (repeatable)
  --discovery-token-unsafe-skip-ca-verification   join without pinning the CA (as kubeadm, unsafe)
  --nodes                             the nodes to join from this process; node-k gets 127.0.2.k
  --kube-proxy-kubeconfig FILE        kube-proxy.conf: run a kube-proxy per node with it
  --proxy-mode iptables|ipvs          those kube-proxies' mode (KubeProxyConfiguration mode; default iptables)
  --dir DIR                           write each node's kubelet.conf and pki/ under DIR/<node>/ (0600)
  --kubelet-port N                    the kubelet API's port (default 10250 where free, else any free port; 0: any)`;

class UsageError extends KubeSimError<'USAGE'> {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** The kubelet's port: 10250 where it is free on the node's address, else any free port (reported in the Node's status). */
function freePort(host: string, preferred: number): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(0));
    s.listen(preferred, host, () => s.close(() => resolve(preferred)));
  });
}

async function join(args: string[], say: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: {
      token: { type: 'string' }, 'discovery-token-ca-cert-hash': { type: 'string', multiple: true },
      'discovery-token-unsafe-skip-ca-verification': { type: 'boolean' }, nodes: { type: 'string' },
      'kube-proxy-kubeconfig': { type: 'string' }, 'proxy-mode': { type: 'string' }, dir: { type: 'string' }, 'kubelet-port': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { say(USAGE); return 0; }
  const [endpoint, ...extra] = positionals;
  if (!endpoint || extra.length > 0) throw new UsageError('join takes one apiserver endpoint');
  const apiserver = endpoint.startsWith('https://') ? endpoint : `https://${endpoint}`;
  if (!values.token) throw new UsageError('--token is required');
  const proxyMode = values['proxy-mode'];
  if (proxyMode !== undefined && !(PROXY_MODES as readonly string[]).includes(proxyMode)) throw new UsageError(`--proxy-mode "${proxyMode}": iptables or ipvs`);
  if (proxyMode !== undefined && values['kube-proxy-kubeconfig'] === undefined) throw new UsageError('--proxy-mode goes with --kube-proxy-kubeconfig (no kube-proxy runs without it)');
  const hashes = values['discovery-token-ca-cert-hash'] ?? [];
  if (hashes.length === 0 && !values['discovery-token-unsafe-skip-ca-verification']) {
    throw new UsageError('--discovery-token-ca-cert-hash is required (or --discovery-token-unsafe-skip-ca-verification), as kubeadm requires it');
  }
  const names = (values.nodes ?? '').split(',').map((n) => n.trim()).filter((n) => n.length > 0);
  if (names.length === 0) throw new UsageError('--nodes names at least one node');
  const plans = names.map((name) => {
    const k = /-(\d+)$/.exec(name)?.[1];
    if (k === undefined || Number(k) < 1) throw new UsageError(`--nodes: "${name}" must end in -<k> (k >= 1): node-k takes node k's address from the plan`);
    return nodePlan(name, Number(k) - 1);
  });
  const kubeletPort = Number(values['kubelet-port'] ?? 10250);
  if (!Number.isInteger(kubeletPort) || kubeletPort < 0 || kubeletPort > 65535) throw new UsageError(`--kubelet-port "${values['kubelet-port'] ?? ''}": a port number, or 0 for any`);
  const proxyConfig = values['kube-proxy-kubeconfig'];
  const proxyCredentials = proxyConfig ? parseKubeconfig(await readFile(proxyConfig, 'utf8'), proxyConfig) : undefined;

  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'node' });
  const trace = new Trace();
  const joined: JoinedNode[] = [];
  const proxies: KubeProxy[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await Promise.all(joined.splice(0).map((j) => j.kubelet.close()));
  };
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  try {
    await Promise.all(plans.map(async (node) => {
      const port = kubeletPort === 0 ? 0 : await freePort(node.ip, kubeletPort);
      const j = await joinNode({
        apiserver, token: values.token!, caCertHashes: hashes, nodeName: node.name, node, trace, logger,
        ...(values.dir ? { dir: path.join(values.dir, node.name) } : {}), kubelet: { port },
      });
      joined.push(j);
      let proxied = '';
      if (proxyCredentials) {
        const proxy = new KubeProxy({
          nodeName: node.name, nodeIP: node.ip, ...(proxyMode ? { mode: proxyMode as ProxyMode } : {}), apiserver: proxyCredentials.server, identity: { cert: proxyCredentials.certPem, key: proxyCredentials.keyPem }, serverCa: proxyCredentials.caPem,
        }, { logger, trace });
        proxies.push(proxy);
        await proxy.start();
        proxied = `, kube-proxy synced (${proxy.mode} mode)`;
      }
      say(`${node.name}: joined ${j.discovered.server} (CSR ${j.bootstrapped.csrName} approved and issued), kubelet https://${node.ip}:${j.kubelet.listening?.port ?? '?'}${proxied}`);
    }));
  } catch (err) {
    await stopAll();
    throw err;
  }
  say(`${joined.length} node${joined.length === 1 ? '' : 's'} running in process ${process.pid}${proxyCredentials ? '' : ' (no kube-proxy: --kube-proxy-kubeconfig not given)'}; Ctrl-C stops them.`);
  await stopped;
  say('stopping...');
  await stopAll();
  return 0;
}

/**
 * `kubeadm token create --print-join-command`: a bootstrap token (24 h) in kube-system, and the join line
 * with the CA's hash. The kubeconfig as kubectl finds it (--kubeconfig, $KUBECONFIG, .cluster/cluster.json).
 */
async function tokenCreate(args: string[], say: (s: string) => void): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { kubeconfig: { type: 'string' } } });
  const file = await resolveKubeconfigPath(values.kubeconfig, process.env, process.env.INIT_CWD ?? process.cwd());
  const k = await loadKubeconfig(file);
  const client = new KubeClient({ name: 'kubeadm token create', server: k.server, identity: { cert: k.certPem, key: k.keyPem }, serverCa: k.caPem });
  try {
    const { token } = await createBootstrapToken(client, { now: new Date() });
    say(`npm run node -- join ${k.server} --token ${token} --discovery-token-ca-cert-hash ${caCertHash(k.caPem)} --nodes node-101`);
  } finally {
    client.close();
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const say = (s: string): void => { process.stdout.write(`${s}\n`); };
  if (command === 'join') return join(rest, say);
  if (command === 'token' && rest[0] === 'create') return tokenCreate(rest.slice(1), say);
  if (command === undefined || command === '--help' || command === '-h') { say(USAGE); return command === undefined ? 2 : 0; }
  throw new UsageError(`unknown command "${command}" (join, token create)`);
}

tolerateClosedStdout();
main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  const msg = err instanceof Error ? err.message : String(err);
  const usage = err instanceof UsageError || (err instanceof Error && String((err as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS'));
  process.stderr.write(`node: ${msg}${usage ? `\n${USAGE}` : ''}\n`);
  process.exitCode = usage || err instanceof PkiError ? 2 : 1;
});
