/**
 * What the node-join scenarios share (join-node, rotate-kubelet, kubelet-serving-csr): a control plane
 * with node join enabled and no worker yet, `kubeadm join` of a worker with a fresh bootstrap token, and a
 * workspace (a temporary directory) that stops what was started in it, the newest first, and removes the
 * directory, however the story ends.
 */
import type { KubeObject } from '../components/api/types.js';
import { type KubeClient, resourcePath } from '../components/client/kube-client.js';
import type { KubeletOptions } from '../components/kubelet/index.js';
import { nodePlan } from '../pki/spec.js';
import { caPem } from '../pki/store.js';
import { Cluster } from '../sim/cluster.js';
import { caCertHash, createBootstrapToken, joinNode, type JoinedNode } from '../sim/join.js';
import { createLogger } from '../sim/logger.js';
import type { ScenarioContext } from '../sim/scenario.js';
import { waitFor } from '../sim/wait.js';
import { tempClusterDir } from './lifecycle.js';

/** A control plane with node join enabled (cluster-info, the certificate controllers), and no worker yet. */
export async function startJoinCluster(ctx: ScenarioContext, signing: { durationMs?: number; backdateMs?: number } = {}): Promise<{ cluster: Cluster; admin: KubeClient }> {
  const cluster = await new Cluster({ pki: ctx.pki, trace: ctx.trace, logger: createLogger(), ports: 'ephemeral', nodes: [], clusterSigning: signing }).start();
  return { cluster, admin: cluster.client('admin.conf', 'kubeadm') };
}

/** Waits until the bootstrap signer has signed cluster-info for a token id. */
export async function waitForSignature(admin: KubeClient, id: string, present = true): Promise<Record<string, string>> {
  return waitFor(`cluster-info ${present ? 'signed' : 'no longer signed'} for token ${id}`, async () => {
    const cm = await admin.get<KubeObject & { data?: Record<string, string> }>(resourcePath({ resource: 'configmaps', namespace: 'kube-public', name: 'cluster-info' }));
    return (cm.data?.[`jws-kubeconfig-${id}`] !== undefined) === present ? cm.data ?? {} : undefined;
  }, 10_000);
}

export interface JoinWorkspace {
  /** The temporary directory (kubelet.conf and the kubelet's pki/ go here when asked). */
  readonly dir: string;
  /** The control plane; throws before startCluster. */
  readonly cluster: Cluster;
  /** startJoinCluster; the cluster is stopped at the end. */
  startCluster(signing?: { durationMs?: number; backdateMs?: number }): Promise<{ cluster: Cluster; admin: KubeClient }>;
  /**
   * `kubeadm token create` then `kubeadm join` of `node` (the plan's third node address, 127.0.2.3) with
   * these kubelet options; `writeFiles` puts kubelet.conf and pki/ in `dir`. The kubelet is stopped at the end.
   */
  join(node: string, options: { readonly kubelet: Partial<KubeletOptions>; readonly writeFiles?: boolean }): Promise<JoinedNode>;
  /** Runs `stop` at the end, before whatever was started earlier. */
  defer(stop: () => Promise<void>): void;
}

/** Runs `story` in a fresh workspace, then stops what it started (newest first) and removes the directory. */
export async function inJoinWorkspace(ctx: ScenarioContext, prefix: string, story: (w: JoinWorkspace) => Promise<void>): Promise<void> {
  const tmp = await tempClusterDir(prefix);
  const stops: (() => Promise<void>)[] = [];
  let started: { cluster: Cluster; admin: KubeClient } | undefined;
  const w: JoinWorkspace = {
    dir: tmp.dir,
    get cluster(): Cluster {
      if (!started) throw new Error('the control plane has not been started');
      return started.cluster;
    },
    async startCluster(signing = {}) {
      started = await startJoinCluster(ctx, signing);
      const { cluster } = started;
      stops.push(() => cluster.stop());
      return started;
    },
    async join(node, options) {
      if (!started) throw new Error('the control plane has not been started');
      const { token } = await createBootstrapToken(started.admin, { now: new Date() });
      const joined = await joinNode({
        apiserver: started.cluster.apiserverUrl, token, caCertHashes: [caCertHash(caPem(ctx.pki, 'ca'))], nodeName: node,
        node: nodePlan(node, 2, ctx.pki.plan.loopback), trace: ctx.trace, logger: createLogger(), ...(options.writeFiles ? { dir: tmp.dir } : {}),
        discovery: { timeoutMs: 5000, intervalMs: 100 }, kubelet: options.kubelet,
      });
      stops.push(() => joined.kubelet.stop());
      return joined;
    },
    defer(stop) { stops.push(stop); },
  };
  try {
    await story(w);
  } finally {
    for (const stop of stops.reverse()) await stop();
    await tmp.remove();
  }
}
