/**
 * A control plane for tests: the embedded etcd and the kube-apiserver on 127.0.1.1 (port 0), with a
 * trace, plus clients with the PKI's identities. Other components' tests start one of these; keep
 * the API stable.
 *
 *   const cp = await startControlPlane(pki);
 *   const admin = cp.client('admin.conf');
 *   ...
 *   await cp.stop();
 */
import { Etcd } from '../../components/etcd/index.js';
import { KubeApiserver, type KubeApiserverOptions } from '../../components/kube-apiserver/index.js';
import { ApiError, KubeClient } from '../../components/client/kube-client.js';
import type { LeafName, Pki } from '../../pki/store.js';
import { clusterTls } from '../../sim/wiring.js';
import { silentLogger } from '../../sim/logger.js';
import { Trace } from '../../components/client/trace.js';
import { TraceRecorder } from '../../sim/trace.js';
import { kubeadmInitObjects } from '../../components/kube-apiserver/bootstrap.js';
import { resourcePath } from '../../components/client/kube-client.js';
import type { Clock } from '../../components/client/common.js';

export interface ControlPlaneOptions {
  /** Verify kubelet serving certificates against the Kubernetes CA (--kubelet-certificate-authority). Default false (kubeadm). */
  readonly kubeletCertificateAuthority?: boolean;
  /** --anonymous-auth; default true. */
  readonly anonymousAuth?: boolean;
  readonly clock?: Clock;
  /** Create kubeadm's ClusterRoles and ClusterRoleBindings (kubeadm:cluster-admins, node join) as `kubeadm init` does; default true. */
  readonly kubeadmBindings?: boolean;
  /** Extra apiserver options (overrides). */
  readonly apiserver?: Partial<KubeApiserverOptions>;
}

export interface ControlPlane {
  readonly etcd: Etcd;
  readonly apiserver: KubeApiserver;
  /** `https://127.0.1.1:<port>`. */
  readonly url: string;
  readonly trace: Trace;
  /** Records every trace event from start. */
  readonly recorder: TraceRecorder;
  /** A client with one of the PKI's identities (`admin.conf`, `scheduler.conf`, `nodes/node-1/kubelet.conf`), closed by stop(). */
  client(credentialName: LeafName, name?: string): KubeClient;
  stop(): Promise<void>;
}

/** A KubeClient with a PKI identity against `url`. */
export function clientFor(pki: Pki, credentialName: LeafName, url: string, trace?: Trace, name: string = credentialName): KubeClient {
  const tls = clusterTls(pki, { kubeletCertificateAuthority: false }).client(credentialName);
  return new KubeClient({ name, server: url, ...tls, ...(trace ? { trace } : {}) });
}

export async function startControlPlane(pki: Pki, options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const trace = new Trace();
  const recorder = new TraceRecorder(trace);
  const logger = silentLogger();
  const host = pki.plan.advertiseAddress;
  const clock = options.clock ? { clock: options.clock } : {};
  const tls = clusterTls(pki, { kubeletCertificateAuthority: options.kubeletCertificateAuthority ?? false });
  const etcd = new Etcd({ host, port: 0, ...tls.etcd, logger, trace, ...clock });
  await etcd.start();
  const apiserver = new KubeApiserver({
    host, port: 0, ...tls.apiserver, etcd: { endpoints: [etcd.clientUrl], ...tls.apiserver.etcd },
    serviceAccount: pki.serviceAccount,
    advertiseAddress: host,
    ...(options.anonymousAuth === undefined ? {} : { anonymousAuth: options.anonymousAuth }),
    logger, trace, ...clock,
    ...options.apiserver,
  });
  try {
    await apiserver.start();
  } catch (err) {
    await etcd.stop();
    recorder.stop();
    throw err;
  }
  const url = apiserver.url;
  const clients: KubeClient[] = [];
  const client = (credentialName: LeafName, name: string = credentialName): KubeClient => {
    const c = clientFor(pki, credentialName, url, trace, name);
    clients.push(c);
    return c;
  };
  if (options.kubeadmBindings ?? true) {
    // kubeadm creates this with super-admin.conf (group system:masters) right after the apiserver is up.
    const superAdmin = client('super-admin.conf', 'kubeadm');
    for (const obj of kubeadmInitObjects()) {
      const resource = obj.kind === 'ClusterRole' ? 'clusterroles' : 'clusterrolebindings';
      try {
        await superAdmin.create(resourcePath({ group: 'rbac.authorization.k8s.io', resource }), obj);
      } catch (err) {
        if (!(err instanceof ApiError && err.httpStatus === 409)) throw err;
      }
    }
  }
  let stopped: Promise<void> | undefined;
  return {
    etcd, apiserver, url, trace, recorder, client,
    stop: () => {
      stopped ??= (async () => {
        for (const c of clients) c.close();
        await apiserver.stop();
        await etcd.stop();
        recorder.stop();
      })();
      return stopped;
    },
  };
}
