/**
 * Shared pieces of the certificate-lifecycle scenarios (expiry, rotate-ca, join-control-plane): a
 * temporary cluster directory, one-shot probes of a flow that report exactly what TLS and the
 * apiserver said, and the deployment round trip that proves "everything works".
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiError, KubeClient, resourcePath } from '../components/client/kube-client.js';
import type { Identity } from '../components/client/tls.js';
import type { KubeList, Pod } from '../components/api/types.js';
import type { Trace, TraceEvent } from '../components/client/trace.js';
import { waitFor } from '../sim/wait.js';

export const DAY_MS = 24 * 3600 * 1000;
export const YEAR_MS = 365 * DAY_MS;

export async function tempClusterDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** What one request to the apiserver came to: an HTTP status, or the transport error's code and message. */
export interface ProbeOutcome {
  readonly ok: boolean;
  readonly status?: number;
  readonly code?: string;
  readonly message: string;
}

/** One GET with `identity` against `server`, trusting `ca`; never throws. */
export async function probe(trace: Trace, name: string, server: string, identity: Identity, ca: string, path = '/api'): Promise<ProbeOutcome> {
  const client = new KubeClient({ name, server, identity, serverCa: ca, trace });
  try {
    const r = await client.raw('GET', path);
    return { ok: r.status === 200, status: r.status, message: `HTTP ${r.status}` };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, ...(e.code ? { code: e.code } : {}), message: e.message };
  } finally {
    client.close();
  }
}

/** The first refused handshake since `mark` on the client's side, or (for a server) its reason. */
export function refusal(events: readonly TraceEvent[], match: (e: TraceEvent) => boolean): TraceEvent | undefined {
  return events.find((e) => (e.type === 'tls-client' || e.type === 'tls-server') && match(e)
    && (e.handshake === 'refused' || (e.type === 'tls-server' && e.verified === false)));
}

/**
 * The proof that a cluster works: a Deployment made with `admin` becomes Running pods (controller-manager,
 * scheduler, kubelets), and one pod's log comes back through the apiserver from its kubelet.
 */
export async function deployAndRead(admin: KubeClient, name: string, replicas = 2): Promise<{ running: number; log: string }> {
  const labels = { app: name };
  try {
    await admin.create(resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default' }), {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default' },
      spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
    });
  } catch (err) {
    if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
  }
  const pods = await waitFor(`${replicas} Running pods of ${name}`, async () => {
    const list = await admin.list<Pod>('/api/v1/namespaces/default/pods', { labelSelector: `app=${name}` });
    const running = (list as KubeList<Pod>).items.filter((p) => p.status?.phase === 'Running' && p.metadata.deletionTimestamp === undefined);
    return running.length >= replicas ? running : undefined;
  }, 30_000);
  const pod = pods[0]!;
  const res = await admin.raw('GET', `/api/v1/namespaces/default/pods/${pod.metadata.name}/log?container=app`, undefined, undefined, 'text/plain');
  if (res.status !== 200) throw new Error(`logs of ${pod.metadata.name}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
  return { running: pods.length, log: res.body };
}
