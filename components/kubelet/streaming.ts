/**
 * The kubelet's streaming endpoints (pkg/kubelet/server: /exec, /attach, /portForward, served here by
 * the kubelet itself where a real one hands them to the container runtime's streaming server): an
 * HTTP/1.1 upgrade to SPDY/3.1 (httpstream.Handshake negotiates X-Stream-Protocol-Version), then the
 * client's streams. The caller has authenticated and authorized the request (nodes/proxy).
 *
 *   /exec/{ns}/{pod}/{container}?command=..&input=1&output=1&error=1&tty=1
 *   /attach/{ns}/{pod}/{container}?input=1&output=1&error=1&tty=1
 *   /portForward/{ns}/{pod}
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import { SpdyConnection, SPDY_UPGRADE, type SpdyStream } from '../client/spdy.js';
import {
  exitStatus, internalErrorStatus, kubeletStreamOptions, PORT_FORWARD_PROTOCOL_V1, SPDY_EXEC_PROTOCOLS, successStatus,
  type StreamOptions, type StreamStatus,
} from '../client/remotecommand.js';
import type { RunningPod } from './pod-runtime.js';
import { ExecStartError, isShell, Shell, type ShellContext } from './shell.js';

/** streamCreationTimeout: how long the client has to open its streams (the kubelet's default is 30 s). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

export type StreamingRoute =
  | { kind: 'exec' | 'attach'; namespace: string; pod: string; container: string }
  | { kind: 'portforward'; namespace: string; pod: string };

/** The streaming route of a kubelet path, or undefined. */
export function streamingRoute(path: string): StreamingRoute | undefined {
  const d = (s: string): string => decodeURIComponent(s);
  const m = /^\/(exec|attach)\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(path);
  if (m) return { kind: m[1] as 'exec' | 'attach', namespace: d(m[2]!), pod: d(m[3]!), container: d(m[4]!) };
  const p = /^\/portForward\/([^/]+)\/([^/]+)\/?$/.exec(path);
  if (p) return { kind: 'portforward', namespace: d(p[1]!), pod: d(p[2]!) };
  return undefined;
}

/** Writes a plain HTTP answer on a socket that was not upgraded, and closes it. */
export function refuseUpgrade(socket: Duplex, status: number, statusText: string, body: string, contentType = 'text/plain; charset=utf-8'): void {
  socket.end(`HTTP/1.1 ${status} ${statusText}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

const headerList = (v: string | string[] | undefined): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);

/** The sandbox id a runtime would name (containerd's pod sandbox: 64 hex digits). */
const sandboxId = (pod: RunningPod): string => createHash('sha256').update(`sandbox/${pod.uid}`).digest('hex');

export interface StreamingContext {
  readonly pod: RunningPod;
  readonly serviceHost?: string;
  /** Called once the connection has switched protocols (for the trace). */
  upgraded(protocol: string): void;
}

/**
 * Serves an authorized streaming request on `socket`: answers 101 with the negotiated protocol and
 * runs it, or answers the refusal (404 for a container the pod lacks, 400 without an upgrade, 403 when
 * no protocol is shared) and closes. Resolves when the session ends.
 */
export async function serveStreaming(req: IncomingMessage, socket: Duplex, head: Buffer, route: StreamingRoute, query: URLSearchParams, ctx: StreamingContext): Promise<number> {
  const container = route.kind === 'portforward' ? undefined : ctx.pod.pod.spec.containers.find((c) => c.name === route.container);
  if (route.kind !== 'portforward' && !container) {
    refuseUpgrade(socket, 404, 'Not Found', `container not found ("${route.container}")`);
    return 404;
  }
  if (headerList(req.headers.upgrade).map((u) => u.toLowerCase()).indexOf(SPDY_UPGRADE.toLowerCase()) < 0) {
    // The runtime's streaming server also speaks WebSocket; this one only SPDY (the apiserver translates).
    refuseUpgrade(socket, 400, 'Bad Request', 'unable to upgrade: missing upgrade headers in request: Upgrade: SPDY/3.1 required');
    return 400;
  }
  const offered = headerList(req.headers['x-stream-protocol-version']);
  const accepted: readonly string[] = route.kind === 'portforward' ? [PORT_FORWARD_PROTOCOL_V1] : SPDY_EXEC_PROTOCOLS;
  const protocol = offered.find((p) => accepted.includes(p));
  if (!protocol) {
    refuseUpgrade(socket, 403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${accepted.join(' ')}]\n`);
    return 403;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${SPDY_UPGRADE}\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
  ctx.upgraded(protocol);
  const conn = new SpdyConnection(socket, 'server', head);
  if (route.kind === 'portforward') {
    servePortForward(conn, ctx.pod);
  } else {
    const shellCtx: ShellContext = { pod: ctx.pod.pod, container: container!, podIP: ctx.pod.podIP, ...(ctx.serviceHost ? { serviceHost: ctx.serviceHost } : {}) };
    await serveRemoteCommand(conn, route.kind, query, shellCtx, ctx.pod);
  }
  return 101;
}

/** Waits for the streams the options call for, runs the command (or attaches), reports its end on the error stream. */
async function serveRemoteCommand(conn: SpdyConnection, kind: 'exec' | 'attach', query: URLSearchParams, ctx: ShellContext, pod: RunningPod): Promise<void> {
  const opts = kubeletStreamOptions(query);
  const wanted = new Set<string>(['error', ...(opts.stdin ? ['stdin'] : []), ...(opts.stdout ? ['stdout'] : []), ...(opts.stderr && !opts.tty ? ['stderr'] : []), ...(opts.tty ? ['resize'] : [])]);
  const streams = new Map<string, SpdyStream>();
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), STREAM_CREATION_TIMEOUT_MS);
    conn.on('stream', (s) => {
      const type = s.headers.streamtype ?? '';
      if (!wanted.has(type) || streams.has(type)) { s.reset(); return; }
      streams.set(type, s);
      if (type === 'resize') s.resume();
      if (streams.size === wanted.size) { clearTimeout(timer); resolve(true); }
    });
    conn.once('close', () => { clearTimeout(timer); resolve(false); });
  });
  if (!ready) { conn.destroy(); return; }
  const errorStream = streams.get('error')!;
  errorStream.resume();
  const stdout = streams.get('stdout');
  const stderr = streams.get('stderr') ?? (opts.tty ? stdout : undefined);
  const io = {
    out: (t: string): void => { stdout?.write(opts.tty ? t.replace(/\r?\n/g, '\r\n') : t); },
    err: (t: string): void => { stderr?.write(opts.tty ? t.replace(/\r?\n/g, '\r\n') : t); },
  };
  const argv = query.getAll('command');
  let status: StreamStatus;
  try {
    const attachInteractive = kind === 'attach' && (ctx.container as { stdin?: boolean }).stdin === true;
    if (kind === 'attach' && !attachInteractive) {
      // The main process prints nothing more here: the session lasts until the client goes away.
      await new Promise<void>((resolve) => conn.once('close', () => resolve()));
      return;
    }
    const code = await runCommand(kind === 'attach' ? ['sh'] : argv, streams.get('stdin'), io, opts, ctx);
    status = code === 0 ? successStatus() : exitStatus(code, `error executing command [${argv.join(' ')}], exit code ${code}`);
  } catch (err) {
    if (!(err instanceof ExecStartError)) throw err;
    const id = pod.containers.find((c) => c.name === ctx.container.name)?.containerID.replace(/^containerd:\/\//, '') ?? '';
    status = internalErrorStatus(`error executing command in container: failed to exec in container: failed to start exec "${id.slice(0, 64)}": OCI runtime exec failed: exec failed: unable to start container process: ${err.message}: unknown`);
  }
  stdout?.end();
  if (stderr !== stdout) stderr?.end();
  errorStream.end(JSON.stringify(status));
  conn.close();
}

/** Runs argv with the simulated shell; an interactive shell reads stdin lines until `exit` or end of input. */
export async function runCommand(argv: readonly string[], stdin: NodeJS.ReadableStream | undefined, io: { out(t: string): void; err(t: string): void }, opts: StreamOptions, ctx: ShellContext): Promise<number> {
  if (argv.length === 0) throw new ExecStartError('exec: no command');
  const shell = new Shell(ctx, io);
  if (!isShell(argv)) return shell.run([...argv], false);
  const c = argv.indexOf('-c');
  if (c > 0) {
    for (const line of (argv[c + 1] ?? '').split('\n')) { if (shell.exited === undefined) shell.line(line); }
    return shell.exited ?? shell.status;
  }
  if (!stdin) return 0;
  const prompt = (): void => { if (opts.tty) io.out('/ # '); };
  prompt();
  return new Promise<number>((resolve) => {
    let pending = '';
    const finish = (): void => {
      stdin.removeListener('data', onData);
      resolve(shell.exited ?? shell.status);
    };
    const onData = (chunk: Buffer | string): void => {
      const text = chunk.toString();
      if (opts.tty) io.out(text.replace(/\r/g, '\n'));
      pending += text;
      let i: number;
      while ((i = pending.search(/[\r\n]/)) >= 0) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        shell.line(line);
        if (shell.exited !== undefined) { finish(); return; }
        prompt();
      }
    };
    stdin.on('data', onData);
    stdin.once('end', () => { if (pending.trim()) shell.line(pending); finish(); });
    stdin.once('close', finish);
  });
}

/**
 * portforward.k8s.io: each forwarded connection is an error stream and a data stream sharing a
 * `requestid`; the data stream is joined to the pod's port (a port a container declares answers
 * HTTP; any other refuses, as a closed port inside the pod's network namespace would).
 */
function servePortForward(conn: SpdyConnection, pod: RunningPod): void {
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream }>();
  conn.on('stream', (s) => {
    const id = s.headers.requestid ?? String(s.id);
    const pair = pairs.get(id) ?? {};
    if (s.headers.streamtype === 'error') pair.error = s;
    else if (s.headers.streamtype === 'data') pair.data = s;
    else { s.reset(); return; }
    pairs.set(id, pair);
    if (!pair.error || !pair.data) return;
    pairs.delete(id);
    const port = Number(s.headers.port);
    pair.error.resume();
    const declared = pod.pod.spec.containers.flatMap((c) => (c.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => ({ port: p.containerPort, container: c })));
    const target = declared.find((d) => d.port === port);
    if (!target) {
      const sandbox = sandboxId(pod);
      pair.error.end(`error forwarding port ${port} to pod ${sandbox}, uid : failed to execute portforward in network namespace "/var/run/netns/cni-${sandbox.slice(0, 8)}": failed to connect to localhost:${port} inside namespace "${sandbox}", IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: connection refused `);
      pair.data.end();
      return;
    }
    answerHttp(pair.data, pod, port, target.container.name, target.container.image, () => pair.error?.end());
  });
}

/** A tiny HTTP/1.1 server on one stream: one request, one answer naming the pod, then the stream ends. */
function answerHttp(stream: SpdyStream, pod: RunningPod, port: number, container: string, image: string, done: () => void): void {
  let head = '';
  const input = new PassThrough();
  stream.pipe(input);
  input.on('data', (c: Buffer) => {
    if (head.includes('\r\n\r\n')) return;
    head += c.toString('latin1');
    if (!head.includes('\r\n\r\n')) return;
    const [method = 'GET', path = '/'] = (head.split('\r\n')[0] ?? '').split(' ');
    const body = `Hello from ${pod.namespace}/${pod.name} (container ${container}, image ${image}), listening on ${pod.podIP}:${port}: ${method} ${path}\n`;
    stream.end(`HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nServer: k8s-mtls-sim\r\nConnection: close\r\n\r\n${body}`);
    done();
  });
  input.on('end', () => { if (!head.includes('\r\n\r\n')) { stream.end(); done(); } });
}
