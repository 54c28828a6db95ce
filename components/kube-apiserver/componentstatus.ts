/**
 * v1 ComponentStatus (pkg/registry/core/componentstatus), deprecated since 1.19 and still served by
 * 1.32: no storage; each GET or LIST probes the servers it knows, as storage_core.go's
 * serversToValidate names them — `controller-manager` and `scheduler` over HTTPS on their default
 * secure ports on 127.0.0.1 (10257, 10259; the real apiserver skips verifying them), and `etcd-0`
 * through the apiserver's own etcd client (a read of `health`, as the etcd3 prober does).
 */
import https from 'node:https';
import type { KubeObject } from '../api/types.js';

export const COMPONENT_STATUS_DEPRECATION = 'v1 ComponentStatus is deprecated in v1.19+';

export interface ComponentCondition { type: 'Healthy'; status: 'True' | 'False' | 'Unknown'; message?: string; error?: string }
export interface ComponentStatus extends KubeObject { conditions: ComponentCondition[] }

export interface HttpComponent { readonly name: string; readonly url: string }

/** The real apiserver's list (it assumes the default ports on 127.0.0.1). */
export const DEFAULT_COMPONENTS: readonly HttpComponent[] = [
  { name: 'controller-manager', url: 'https://127.0.0.1:10257/healthz' },
  { name: 'scheduler', url: 'https://127.0.0.1:10259/healthz' },
];

type Probe = { result: 'Success' | 'Failure' | 'Unknown'; message: string; error?: string };

/** Go's net.Dial wording of the usual failures, after `Get "<url>": ` as http.Client words them. */
function goError(url: string, err: NodeJS.ErrnoException): string {
  const u = new URL(url);
  const addr = `${u.hostname}:${u.port || '443'}`;
  const why = err.code === 'ECONNREFUSED' ? `dial tcp ${addr}: connect: connection refused`
    : err.code === 'ETIMEDOUT' ? `dial tcp ${addr}: i/o timeout`
      : err.message;
  return `Get ${JSON.stringify(url)}: ${why}`;
}

/** pkg/probe/http DoHTTPProbe: a transport error or a status >= 400 is a Failure whose output is the message; 2xx/3xx is Success with the body. */
export function probeHttps(url: string, timeoutMs = 20_000): Promise<Probe> {
  return new Promise((resolve) => {
    // componentstatus.HttpServer's TLSConfig is InsecureSkipVerify: the real apiserver does not verify these servers.
    const req = https.get(url, { rejectUnauthorized: false, timeout: timeoutMs, headers: { 'User-Agent': 'kube-probe/1.32', Accept: '*/*' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8').slice(0, 10 * 1024);
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400 ? { result: 'Success', message: body } : { result: 'Failure', message: `HTTP probe failed with statuscode: ${code}` });
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ result: 'Failure', message: goError(url, err) }));
  });
}

const toStatus = (r: Probe['result']): ComponentCondition['status'] => (r === 'Success' ? 'True' : r === 'Failure' ? 'False' : 'Unknown');

function componentStatus(name: string, p: Probe): ComponentStatus {
  return {
    // Made in Go with no ObjectMeta but the name: creationTimestamp is a zero metav1.Time, written as null.
    kind: 'ComponentStatus', apiVersion: 'v1', metadata: { name, creationTimestamp: null as unknown as string },
    conditions: [{ type: 'Healthy', status: toStatus(p.result), ...(p.message ? { message: p.message } : {}), ...(p.error ? { error: p.error } : {}) }],
  };
}

export interface ComponentStatusSources {
  readonly components: readonly HttpComponent[];
  /** One etcd check per configured storage backend (the apiserver has one): resolves when etcd answers. */
  readonly etcd: readonly (() => Promise<void>)[];
}

async function probeEtcd(check: () => Promise<void>): Promise<Probe> {
  try {
    await check();
    return { result: 'Success', message: 'ok' };
  } catch (err) {
    return { result: 'Failure', message: '', error: `error getting data from etcd: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Every component's status, probed now, in serversToValidate's order (controller-manager, scheduler, etcd-N). */
export async function componentStatuses(s: ComponentStatusSources): Promise<ComponentStatus[]> {
  const probes: Promise<ComponentStatus>[] = [
    ...s.components.map(async (c) => componentStatus(c.name, await probeHttps(c.url))),
    ...s.etcd.map(async (check, i) => componentStatus(`etcd-${i}`, await probeEtcd(check))),
  ];
  return Promise.all(probes);
}

/** REST Get: one by name; an unknown name is the plain error the real one returns (a 500). */
export async function componentStatusByName(s: ComponentStatusSources, name: string): Promise<ComponentStatus | undefined> {
  const c = s.components.find((x) => x.name === name);
  if (c) return componentStatus(c.name, await probeHttps(c.url));
  const m = /^etcd-(\d+)$/.exec(name);
  const check = m ? s.etcd[Number(m[1])] : undefined;
  return check ? componentStatus(name, await probeEtcd(check)) : undefined;
}
