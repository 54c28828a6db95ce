/**
 * The command line of the sim.
 *
 *   npm run scenario [-- NAME ...] [--list] [--json] [--format text|json] [--quiet] [--pki-dir DIR] [--lang en|ko]
 *       plays the tour (default) or the named scenarios; exit 0 only if every expectation held. --lang picks the
 *       narration's language (default: Korean when LC_ALL, LC_MESSAGES or LANG starts with `ko`, else English);
 *       --json and --format json print the same bytes in either.
 *       --format json prints what a scenario reports (the trust matrix of `matrix`) as JSON on stdout,
 *       the narration going to stderr; --json (NDJSON trace events) is unchanged. `matrix --pki-dir DIR` on a
 *       directory without plan.json (a kubeadm /etc/kubernetes, an openssl-made set) reads it read-only by role.
 *   npm run scenario [-- NAME] --report DIR [--golden | --golden-file FILE] [--mermaid FILE]
 *       one scenario (the tour by default) as DIR/index.html, a self-contained page (report/); --golden outlines
 *       the matrix cells that differ from scenarios/matrix.golden.json; --mermaid writes the graph and timeline as Mermaid.
 *   npm run cluster [-- --pki-dir DIR] [--nodes N] [--ephemeral]
 *       starts the cluster and stays up until SIGINT/SIGTERM; writes DIR/cluster.json. etcd's data lives in
 *       DIR/etcd and the next run starts where this one stopped; --ephemeral keeps it in memory (a real etcd:
 *       a temporary folder removed on stop). Scenarios are always ephemeral.
 *   Both take --capture DIR (every TCP connection of the run as DIR/<scenario>.pcapng, its TLS secrets as
 *   DIR/<scenario>.keys; `cluster.pcapng` for the cluster, written when it stops) and --tls-max 1.2 (every
 *   server and client capped at TLS 1.2, so certificates cross in clear text); `scenario --wire` tells each
 *   connection's handshake message by message, from the bytes.
 *   Both take --workers K|auto: the nodes' kubelets and kube-proxies in K node worker processes (sim/workers.ts);
 *   auto (the default) keeps them in this process below 50 nodes. Both take --proxy-mode iptables|ipvs: every kube-proxy's
 *   mode (KubeProxyConfiguration `mode`, written to kube-system/kube-proxy as kubeadm does); default iptables.
 *   And both take --etcd embedded|own-process|real (embedded: in this process; own-process: the same etcd in
 *   a process of its own; by default in its own process when the nodes run in workers; real: spawn
 *   Debian's etcd 3.4 binary with the generated etcd certificates) or --etcd-endpoints URL,... (an etcd
 *   the user runs, trusting the generated etcd CA).
 *
 * The PKI lives in DIR (default `.cluster/` in the repository): made on the first run, reused after.
 */
import { existsSync, promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { PkiError } from '../pki/errors.js';
import { pkiFromDirectory } from '../pki/import.js';
import { renderKubeconfig } from '../pki/kubeconfig.js';
import { caPem, credential, initPki, type Pki } from '../pki/store.js';
import { MAX_NODES } from '../pki/spec.js';
import { SCENARIOS } from '../scenarios/index.js';
import { Etcd } from '../components/etcd/index.js';
import { EtcdChild } from '../sim/etcd-child.js';
import { Cluster, type EtcdChoice } from '../sim/cluster.js';
import { createLogger, REDACT } from '../sim/logger.js';
import { runScenario, scenarioTitle } from '../sim/scenario.js';
import { isLang, langFromEnv, translator, type Lang, type Translate } from '../sim/i18n/index.js';
import { MISWIRINGS, miswire, type Miswired, type Miswiring } from '../sim/miswire.js';
import { tolerateClosedStdout } from './stdio.js';
import { Wire, type TlsMax } from '../components/client/wire.js';
import { writeCapture } from '../sim/wire/files.js';
import { writeReport } from '../report/index.js';
import { GOLDEN_FILE, readGolden, type Matrix } from '../scenarios/matrix.js';
import { KubeSimError } from '../pki/errors.js';
import { PROXY_MODES, type ProxyMode } from '../components/kube-proxy/index.js';

const ROOT = path.resolve(import.meta.dirname, '..');
export const DEFAULT_DIR = path.join(ROOT, '.cluster');

const USAGE = `usage:
  npm run scenario [-- NAME ...] [--list] [--json] [--format text|json] [--quiet] [--pki-dir DIR] [--lang en|ko] [--workers K|auto] [--etcd embedded|own-process|real] [--etcd-endpoints URL,...]
                   [--proxy-mode iptables|ipvs] [--capture DIR] [--wire] [--tls-max 1.2|1.3]
  npm run scenario [-- NAME] --report DIR [--golden | --golden-file FILE] [--mermaid FILE]
  npm run cluster [-- --pki-dir DIR] [--nodes N] [--workers K|auto] [--ephemeral] [--etcd embedded|own-process|real] [--etcd-endpoints URL,...] [--no-metrics-server] [--miswire ${MISWIRINGS.join('|')}]
                  [--proxy-mode iptables|ipvs] [--capture DIR] [--tls-max 1.2|1.3]`;

class UsageError extends KubeSimError<'USAGE'> {
  constructor(message: string) {
    super('USAGE', message);
  }
}

const ETCD_OPTIONS = { etcd: { type: 'string' }, 'etcd-endpoints': { type: 'string' }, workers: { type: 'string' }, 'proxy-mode': { type: 'string' } } as const;

/** --proxy-mode iptables|ipvs: every kube-proxy's mode (undefined: kubeadm's default, iptables). */
function proxyModeChoice(value: string | undefined): ProxyMode | undefined {
  if (value === undefined) return undefined;
  if (!(PROXY_MODES as readonly string[]).includes(value)) throw new UsageError(`--proxy-mode "${value}": iptables or ipvs`);
  return value as ProxyMode;
}

/** --workers K|auto: how many node worker processes (0: the nodes in this process; auto: by the cluster's size). */
function workersChoice(value: string | undefined): number | 'auto' {
  if (value === undefined || value === 'auto') return 'auto';
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n)) throw new UsageError(`--workers "${value}": a number of processes (0 for none), or auto`);
  return n;
}

const WIRE_OPTIONS = { capture: { type: 'string' }, 'tls-max': { type: 'string' } } as const;

/** --tls-max 1.2|1.3 → the version cap every server and client of the run negotiates up to. */
function tlsMax(value: string | undefined): TlsMax {
  if (value === undefined || value === '1.3') return 'TLSv1.3';
  if (value === '1.2') return 'TLSv1.2';
  throw new UsageError(`--tls-max "${value}": 1.2 or 1.3`);
}

/** --etcd embedded|own-process|real and --etcd-endpoints URL,... → the Cluster's etcd choice (default: embedded, in its own process when the nodes run in workers). */
function etcdChoice(values: { etcd?: string | undefined; 'etcd-endpoints'?: string | undefined }): EtcdChoice {
  const endpoints = values['etcd-endpoints'];
  if (endpoints !== undefined) {
    if (values.etcd !== undefined) throw new UsageError('--etcd and --etcd-endpoints exclude each other');
    const list = endpoints.split(',').map((e) => e.trim()).filter(Boolean);
    for (const e of list) {
      let url: URL | undefined;
      try { url = new URL(e); } catch { url = undefined; }
      if (url?.protocol !== 'https:') throw new UsageError(`--etcd-endpoints "${e}": an https:// URL (etcd with --client-cert-auth)`);
    }
    if (list.length === 0) throw new UsageError('--etcd-endpoints: at least one URL');
    return { kind: 'external', endpoints: list };
  }
  if (values.etcd === undefined) return { kind: 'embedded', ownProcess: 'auto' };
  if (values.etcd === 'embedded') return { kind: 'embedded', ownProcess: false };
  if (values.etcd === 'own-process') return { kind: 'embedded', ownProcess: true };
  if (values.etcd === 'real') return { kind: 'process' };
  throw new UsageError(`--etcd "${values.etcd}": embedded, own-process or real`);
}

/** Whether this system lets a process bind loopback addresses other than 127.0.0.1 (Linux does, macOS does not). */
function loopbackAliasesWork(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '127.0.1.1', () => s.close(() => resolve(true)));
  });
}

/** --lang en|ko, else the locale (LC_ALL, LC_MESSAGES, LANG: Korean when it starts with `ko`). */
function langChoice(value: string | undefined): Lang {
  if (value === undefined) return langFromEnv(process.env);
  if (!isLang(value)) throw new UsageError(`--lang "${value}": en or ko`);
  return value;
}

async function obtainPki(dir: string, nodes: number | undefined, say: (s: string) => void, t: Translate = translator('en')): Promise<Pki> {
  const names = nodes === undefined ? undefined : Array.from({ length: nodes }, (_, i) => `node-${i + 1}`);
  const fresh = !existsSync(path.join(dir, 'plan.json'));
  const single = fresh && !(await loopbackAliasesWork());
  if (single) say('This system allows only 127.0.0.1 on loopback: every component shares it, on distinct ports (the certificates name 127.0.0.1).');
  const r = await initPki(dir, { ...(names ? { nodes: names } : {}), ...(single ? { loopback: 'single' as const } : {}) });
  const made = r.created.filter((f) => f !== 'plan.json').length;
  // .cluster inside the project reads best relative; a directory elsewhere (/tmp/p) as the user gave it.
  const rel = path.relative(process.cwd(), dir);
  const shown = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : dir;
  say(fresh
    ? t('cli.pkiMade', { dir: shown, n: made })
    : t('cli.pkiUsing', { dir: shown, n: r.kept.length, made: made ? t('cli.pkiUsingMade', { n: made }) : '' }));
  return r.pki;
}

async function scenarioCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { list: { type: 'boolean' }, json: { type: 'boolean' }, format: { type: 'string' }, quiet: { type: 'boolean' }, 'pki-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' }, wire: { type: 'boolean' }, lang: { type: 'string' }, ...ETCD_OPTIONS, ...WIRE_OPTIONS,
      report: { type: 'string' }, mermaid: { type: 'string' }, golden: { type: 'boolean' }, 'golden-file': { type: 'string' } },
  });
  const etcd = etcdChoice(values);
  const proxyMode = proxyModeChoice(values['proxy-mode']);
  const max = tlsMax(values['tls-max']);
  const captureDir = values.capture === undefined ? undefined : path.resolve(values.capture);
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (values.format !== undefined && values.format !== 'text' && values.format !== 'json') throw new UsageError(`--format "${values.format}": text or json`);
  if (values.format === 'json' && values.json) throw new UsageError('--json and --format json exclude each other (both write to stdout)');
  const reportJson = values.format === 'json';
  const lang = langChoice(values.lang);
  if (values.list) {
    const width = Math.max(...SCENARIOS.map((s) => s.name.length));
    for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(width)}  ${scenarioTitle(s, lang)}\n`);
    return 0;
  }
  const names = positionals.length > 0 ? positionals : ['tour'];
  const reporting = values.report !== undefined || values.mermaid !== undefined;
  if (reporting && names.length > 1) throw new UsageError(`--report and --mermaid draw one scenario; got ${names.length} (${names.join(', ')})`);
  if ((values.golden || values['golden-file'] !== undefined) && values.report === undefined) throw new UsageError('--golden and --golden-file go with --report DIR');
  if (values.golden && values['golden-file'] !== undefined) throw new UsageError('--golden and --golden-file exclude each other');
  const goldenFile = values['golden-file'] ?? (values.golden ? GOLDEN_FILE : undefined);
  if (goldenFile !== undefined && names[0] !== 'matrix') throw new UsageError('--golden compares the trust matrix: it goes with the matrix scenario');
  const golden = goldenFile === undefined ? undefined : readGoldenOrSay(goldenFile);
  const chosen = names.map((n) => {
    const s = SCENARIOS.find((x) => x.name === n);
    if (!s) throw new UsageError(`unknown scenario "${n}" (npm run scenario -- --list names them)`);
    return s;
  });
  // --json: every trace event as one NDJSON line on stdout; the narration is left out, the verdict goes to stderr.
  const json = values.json === true;
  const events = json ? pino({ base: null, timestamp: false, redact: REDACT }, process.stdout) : undefined;
  const write = json || reportJson ? (s: string): void => { process.stderr.write(`${s}\n`); } : (s: string): void => { process.stdout.write(`${s}\n`); };
  const dir = values['pki-dir'] ?? DEFAULT_DIR;
  // The matrix on a user's own certificate set (a kubeadm /etc/kubernetes, or a flat openssl-made set): read
  // it as it is, by role, and write nothing into it.
  const foreign = names.every((n) => n === 'matrix') && values['pki-dir'] !== undefined && !existsSync(path.join(dir, 'plan.json'))
    && (existsSync(path.join(dir, 'ca.crt')) || existsSync(path.join(dir, 'pki', 'ca.crt')));
  const pki = foreign ? await pkiFromDirectory(dir) : await obtainPki(dir, undefined, values.quiet || json ? () => undefined : write, translator(lang));
  if (foreign && !values.quiet) write(`PKI: read the certificates under ${dir} by role (nothing written): nodes ${pki.plan.nodes.map((n) => n.name).join(', ') || '(none)'}, apiserver on ${pki.plan.advertiseAddress}`);
  const logger = createLogger();
  const workers = workersChoice(values.workers);
  const t = translator(lang);
  let ok = true;
  for (const scenario of chosen) {
    // Every run has a wire, so that a scenario can record a step (the tour's refusals); --capture and --wire record it all.
    const wire = new Wire({ recording: captureDir !== undefined || values.wire === true, tlsMax: max });
    const result = await runScenario(scenario, {
      pki, write, quiet: values.quiet === true || json, wire, wireView: values.wire === true, lang,
      startCluster: (p, trace) => new Cluster({ pki: p, trace, logger, ports: 'ephemeral', etcd, workers, ...(proxyMode ? { proxyMode } : {}) }).start(),
      ...(events ? { onEvent: (e) => events.info(e) } : {}),
    });
    ok &&= result.ok;
    if (captureDir !== undefined) {
      const files = await writeCapture(captureDir, scenario.name, wire, result.connections);
      write(`${t('cli.capture', { n: files.connections, pcapng: files.pcapng, keys: files.keys })}\n  wireshark -r ${files.pcapng} -o tls.keylog_file:${files.keys}`);
    }
    if (reporting) {
      const written = await writeReport(result, { ...(values.report === undefined ? {} : { dir: values.report }), ...(values.mermaid === undefined ? {} : { mermaidFile: values.mermaid }), ...(golden ? { golden } : {}) });
      for (const f of written) write(t('cli.reportWrote', { file: f }));
    }
    if (reportJson && result.report !== undefined) process.stdout.write(`${JSON.stringify(result.report, null, 2)}\n`);
  }
  return ok ? 0 : 1;
}

/** The kubelets for the start-up line: each one for a small cluster, the first and the count for a large one. */
function kubeletList(kubelets: Readonly<Record<string, string>>): string {
  const all = Object.entries(kubelets).map(([n, u]) => `kubelet ${n} ${u}`);
  return all.length <= 10 ? all.join(', ') : `${all.slice(0, 3).join(', ')} ... and ${all.length - 3} more kubelets (cluster.json lists them)`;
}

function readGoldenOrSay(file: string): Matrix {
  try {
    return readGolden(file);
  } catch (err) {
    throw new UsageError(`--golden-file ${file}: cannot read a trust matrix (${(err as Error).message})`);
  }
}

async function clusterCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { 'pki-dir': { type: 'string' }, nodes: { type: 'string' }, ephemeral: { type: 'boolean' }, 'no-metrics-server': { type: 'boolean' }, miswire: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...ETCD_OPTIONS, ...WIRE_OPTIONS } });
  const etcd = etcdChoice(values);
  const proxyMode = proxyModeChoice(values['proxy-mode']);
  const max = tlsMax(values['tls-max']);
  const captureDir = values.capture === undefined ? undefined : path.resolve(values.capture);
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const nodes = values.nodes === undefined ? undefined : Number(values.nodes);
  if (nodes !== undefined && (!Number.isInteger(nodes) || nodes < 0 || nodes > MAX_NODES)) throw new UsageError(`--nodes "${values.nodes}": a number from 0 to ${MAX_NODES}`);
  const dir = path.resolve(values['pki-dir'] ?? DEFAULT_DIR);
  const say = (s: string): void => { process.stdout.write(`${s}\n`); };
  if (values.miswire !== undefined && !MISWIRINGS.includes(values.miswire as Miswiring)) throw new UsageError(`--miswire "${values.miswire}": one of ${MISWIRINGS.join(', ')}`);
  let pki = await obtainPki(dir, nodes, say);
  let wrong: Miswired['options'] = {};
  if (values.miswire !== undefined) {
    const m = await miswire(dir, pki, values.miswire as Miswiring);
    pki = m.pki;
    wrong = m.options;
    say(`MIS-WIRED on purpose (--miswire ${values.miswire}): ${m.what}. npm run probe must catch it.`);
  }
  const { Trace } = await import('../components/client/trace.js');
  const persistent = values.ephemeral !== true && etcd.kind !== 'external';
  const workers = workersChoice(values.workers);
  const startedAt = performance.now();
  const wire = new Wire({ recording: captureDir !== undefined, tlsMax: max });
  const trace = new Trace(undefined, wire);
  const { TraceRecorder, joinConnections } = await import('../sim/trace.js');
  // The trace names each connection in the capture (its SYN's comment); kept only when capturing.
  const recorder = captureDir === undefined ? undefined : new TraceRecorder(trace);
  const cluster = new Cluster({ pki, trace, logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }), ports: 'real', etcd, workers, ...wrong, ...(persistent ? { stateDir: dir } : {}),
    metricsServer: values['no-metrics-server'] === true ? false : {}, ...(proxyMode ? { proxyMode } : {}),
  });
  await cluster.start();
  const nodeCount = cluster.kubelets.size;
  const where = cluster.nodeWorkers ? `in ${cluster.nodeWorkers.pids.length} node worker process${cluster.nodeWorkers.pids.length === 1 ? '' : 'es'} (${cluster.nodeWorkers.pids.join(', ')})` : 'in this process';
  say(`${nodeCount} node${nodeCount === 1 ? '' : 's'} started ${where}, kube-proxy in ${cluster.proxyMode} mode, after ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  if (persistent) {
    const recovered = cluster.etcd instanceof Etcd || cluster.etcd instanceof EtcdChild ? cluster.etcd.recovery : undefined;
    const at = recovered ? (recovered.revision > 1 ? `, resumed at revision ${recovered.revision}` : ', new') : '';
    say(`etcd data: ${path.join(dir, 'etcd')} (kept across restarts${at}; --ephemeral for none)`);
  }
  const ep = cluster.endpoints;
  // The kubeconfigs name https://<advertise>:6443; if 6443 was taken, write copies that name the real port.
  let admin = path.join(dir, 'admin.conf');
  const kubeconfigs: Record<string, string> = {};
  for (const [key, name] of [['admin', 'admin.conf'], ['super-admin', 'super-admin.conf'], ['scheduler', 'scheduler.conf'], ['controller-manager', 'controller-manager.conf'], ['kube-proxy', 'kube-proxy.conf']] as const) {
    let file = path.join(dir, name);
    if (!ep.apiserver.endsWith(`:${pki.plan.apiserverPort}`)) {
      file = path.join(dir, 'run', name);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const c = credential(pki, name);
      await fs.writeFile(file, renderKubeconfig({ server: ep.apiserver, clusterName: pki.plan.clusterName, user: /CN=([^\n]*)/.exec(c.cert.subject)?.[1] ?? key, caPem: caPem(pki, 'ca'), certPem: c.certPem, keyPem: c.keyPem }), { mode: 0o600 });
    }
    kubeconfigs[key] = file;
    if (key === 'admin') admin = file;
  }
  const info = { apiserver: ep.apiserver, etcd: ep.etcd, kubelets: ep.kubelets, pkiDir: dir, kubeconfigs, ...(cluster.nodeWorkers ? { nodeWorkers: cluster.nodeWorkers.pids } : {}) };
  await fs.writeFile(path.join(dir, 'cluster.json'), `${JSON.stringify(info, null, 2)}\n`);
  say(`\nThe cluster is up: kube-apiserver ${ep.apiserver}, etcd ${ep.etcd}${etcd.kind === 'process' ? ' (the etcd binary)' : etcd.kind === 'external' ? ' (external)' : ''}, ${kubeletList(ep.kubelets)}`);
  const cmPort = cluster.controllerManager?.secureServing?.address.port;
  const schedPort = cluster.scheduler?.secureServing?.address.port;
  if (cmPort && schedPort) say(`kube-controller-manager https://127.0.0.1:${cmPort}, kube-scheduler https://127.0.0.1:${schedPort} (self-signed; /healthz for anyone, /metrics for who the apiserver allows; kubectl get cs)`);
  if (cluster.metricsServer?.address) say(`metrics-server ${cluster.metricsServer.address.address}:${cluster.metricsServer.address.port} behind APIService v1beta1.metrics.k8s.io (kubectl top nodes, kubectl get apiservices)`);
  say(`Endpoints and kubeconfigs: ${path.join(dir, 'cluster.json')}`);
  say('\nFrom another terminal:');
  say('  npm run kubectl -- get pods -A');
  say(`  kubectl --kubeconfig ${admin} get nodes -o wide`);
  say(`  curl --cacert ${dir}/pki/ca.crt --cert <(grep client-certificate-data ${admin} | awk '{print $2}' | base64 -d) --key <(grep client-key-data ${admin} | awk '{print $2}' | base64 -d) ${ep.apiserver}/api/v1/nodes`);
  say('\nCtrl-C stops it.');
  await new Promise<void>((resolve) => {
    const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  say('stopping...');
  await cluster.stop();
  recorder?.stop();
  if (captureDir !== undefined) {
    const files = await writeCapture(captureDir, 'cluster', wire, joinConnections(recorder?.events ?? []));
    say(`capture: ${files.connections} TCP connections in ${files.pcapng}, TLS secrets in ${files.keys}`);
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'scenario') return scenarioCommand(rest);
  if (command === 'cluster') return clusterCommand(rest);
  throw new UsageError(`unknown command "${command ?? ''}"\n${USAGE}`);
}

tolerateClosedStdout();
main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  const msg = err instanceof Error ? err.message : String(err);
  const prefix = err instanceof PkiError ? 'pki' : 'sim';
  const parseError = err instanceof Error && String((err as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`${prefix}: ${msg}${parseError ? `\n${USAGE}` : ''}\n`);
  process.exitCode = 2;
});
