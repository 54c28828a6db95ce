/**
 * Which certificate each component holds and which CA it trusts, made from the PKI in one place:
 * `Cluster.start`, `Cluster.reloadPki` and the tests' control plane all read `clusterTls`, so the
 * wiring cannot drift between them. The names are the spec table's (`LeafName`): a typo does not compile.
 *
 *   etcd               etcd/server (serving), etcd/peer, etcd/healthcheck-client; trusts etcd/ca
 *   kube-apiserver     apiserver (serving), trusts ca for clients, front-proxy-ca for request headers;
 *                      front-proxy-client towards extension apiservers; apiserver-etcd-client towards etcd
 *                      (trusts etcd/ca); apiserver-kubelet-client towards kubelets (trusts ca when
 *                      --kubelet-certificate-authority is set)
 *   controller-manager, scheduler, kube-proxy, kubectl: <name>.conf, trust ca for the apiserver
 *   kubelet (node)     nodes/<node>/kubelet.conf towards the apiserver, nodes/<node>/kubelet serving;
 *                      trusts ca both ways
 */
import type { Identity } from '../components/client/tls.js';
import { kubeadmRequestHeader } from '../components/api/requestheader.js';
import type { AggregationOptions } from '../components/kube-apiserver/aggregator/options.js';
import { caPem, credential, kubeletClientName, kubeletServingName, type LeafName, type Pki } from '../pki/store.js';

/** A certificate of the PKI as the components take it. */
export const identityOf = (pki: Pki, name: LeafName): Identity => {
  const c = credential(pki, name);
  return { cert: c.certPem, key: c.keyPem };
};

/**
 * The CA bundles the components trust: by default the PKI's own CAs; during a CA rotation, bundles of
 * old and new (`pki rotate-ca`).
 */
export interface Trust {
  /** The Kubernetes CA bundle (apiserver clients, the apiserver's serving certificate, kubelets). */
  readonly ca: string;
  /** The etcd CA bundle (etcd's clients and peers, etcd's serving certificate). */
  readonly etcdCa: string;
}

/** A client of the apiserver: its identity and the CA it checks the apiserver's certificate against. */
export interface ApiClientTls {
  readonly identity: Identity;
  readonly serverCa: string;
}

export interface ApiserverTls {
  /** Serving certificate (--tls-cert-file). */
  readonly identity: Identity;
  /** --client-ca-file. */
  readonly clientCa: string;
  /** --etcd-certfile/--etcd-keyfile and --etcd-cafile. */
  readonly etcd: { readonly identity: Identity; readonly ca: string };
  /** --kubelet-client-certificate and, when set, --kubelet-certificate-authority. */
  readonly kubeletClient: { readonly identity: Identity; readonly ca?: string };
  /** --requestheader-* (the front-proxy CA, front-proxy-client allowed) and --proxy-client-cert-file (front-proxy-client). */
  readonly aggregation: AggregationOptions;
}

export interface KubeletTls extends ApiClientTls {
  /** Serving certificate on port 10250. */
  readonly servingIdentity: Identity;
  /** --client-ca-file: whom the kubelet accepts (the apiserver's kubelet client). */
  readonly clientCa: string;
}

export interface ClusterTls {
  readonly trust: Trust;
  /** The embedded etcd: serving certificate and the CA its clients must chain to. */
  readonly etcd: { readonly identity: Identity; readonly trustedCa: string };
  /** A real etcd member: also its peer certificate and the health-check client (etcdctl). */
  readonly etcdMember: { readonly identity: Identity; readonly peerIdentity: Identity; readonly healthcheckIdentity: Identity; readonly trustedCa: string };
  readonly apiserver: ApiserverTls;
  readonly controllerManager: ApiClientTls;
  readonly scheduler: ApiClientTls;
  readonly kubeProxy: ApiClientTls;
  kubelet(node: string): KubeletTls;
  /** Any other client of the apiserver: `admin.conf`, `super-admin.conf`, a kubelet's kubelet.conf. */
  client(name: LeafName): ApiClientTls;
}

export interface ClusterTlsOptions {
  /** Whether the apiserver verifies kubelet serving certificates (--kubelet-certificate-authority). */
  readonly kubeletCertificateAuthority: boolean;
  /** CA bundles to trust instead of the PKI's own CAs (a CA rotation). */
  readonly bundles?: Partial<Trust>;
}

/** Every component's TLS material from `pki`. */
export function clusterTls(pki: Pki, options: ClusterTlsOptions): ClusterTls {
  const trust: Trust = { ca: options.bundles?.ca ?? caPem(pki, 'ca'), etcdCa: options.bundles?.etcdCa ?? caPem(pki, 'etcd/ca') };
  const id = (name: LeafName): Identity => identityOf(pki, name);
  const client = (name: LeafName): ApiClientTls => ({ identity: id(name), serverCa: trust.ca });
  const etcd = { identity: id('etcd/server'), trustedCa: trust.etcdCa };
  return {
    trust,
    etcd,
    etcdMember: { ...etcd, peerIdentity: id('etcd/peer'), healthcheckIdentity: id('etcd/healthcheck-client') },
    apiserver: {
      identity: id('apiserver'), clientCa: trust.ca,
      etcd: { identity: id('apiserver-etcd-client'), ca: trust.etcdCa },
      kubeletClient: { identity: id('apiserver-kubelet-client'), ...(options.kubeletCertificateAuthority ? { ca: trust.ca } : {}) },
      aggregation: { requestHeader: kubeadmRequestHeader(caPem(pki, 'front-proxy-ca')), proxyClient: id('front-proxy-client') },
    },
    controllerManager: client('controller-manager.conf'),
    scheduler: client('scheduler.conf'),
    kubeProxy: client('kube-proxy.conf'),
    kubelet: (node) => ({ ...client(kubeletClientName(node)), servingIdentity: id(kubeletServingName(node)), clientCa: trust.ca }),
    client,
  };
}
