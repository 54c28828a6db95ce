/**
 * The Kubernetes release every component of the sim claims to be: the apiserver's /version, the
 * kubelet's nodeInfo, and the User-Agent each client sends. 1.32 because the behaviour modelled is
 * 1.32's: the Node authorizer with AuthorizeNodeWithSelectors (beta, on by default from 1.32), kubeadm's
 * super-admin.conf and kubeadm:cluster-admins (1.29+), and the kubectl 1.32 wire format in
 * ../shared/reference/real-clients.md. The build facts are v1.32.5's, as its kubectl reports them.
 */
export const KUBERNETES_VERSION = 'v1.32.5';
export const KUBERNETES_GIT_COMMIT = '9894294ef13a5b32803e3ca2c0d620a088cc84d1';
export const KUBERNETES_BUILD = { buildDate: '2025-05-15T09:12:10Z', goVersion: 'go1.23.8' } as const;

/** client-go's DefaultUserAgent: `<binary>/<version> (<os>/<arch>) kubernetes/<first 7 of the commit>`. */
export const userAgent = (binary: string): string => `${binary}/${KUBERNETES_VERSION} (linux/amd64) kubernetes/${KUBERNETES_GIT_COMMIT.slice(0, 7)}`;
