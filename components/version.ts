/**
 * The Kubernetes release every component of the sim claims to be: the apiserver's /version, the
 * kubelet's nodeInfo, and the User-Agent each client sends.
 */
export const KUBERNETES_VERSION = 'v1.30.14';
export const KUBERNETES_GIT_COMMIT = '9e18483918821121abdf9aa82bc14d66df5d68cd';

/** client-go's DefaultUserAgent: `<binary>/<version> (<os>/<arch>) kubernetes/<first 7 of the commit>`. */
export const userAgent = (binary: string): string => `${binary}/${KUBERNETES_VERSION} (linux/amd64) kubernetes/${KUBERNETES_GIT_COMMIT.slice(0, 7)}`;
