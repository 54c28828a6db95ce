/**
 * kubeadm's copycerts phase against a running cluster (cmd/kubeadm/app/phases/copycerts), both sides:
 *
 * - `kubeadm init phase upload-certs --upload-certs` (UploadCerts): a short-lived bootstrap token
 *   (createShortLivedBootstrapToken: no usages, no groups, "Proxy for managing TTL for the kubeadm-certs
 *   secret", kubeadm's DefaultCertTokenDuration of 2 hours), then the Secret kube-system/kubeadm-certs
 *   created or updated with a controller ownerReference to that token Secret (getSecretOwnerRef:
 *   NewControllerRef, so controller and blockOwnerDeletion are true), then Role and RoleBinding
 *   kubeadm:kubeadm-certs (get on that Secret for the default-node-token group). When the token cleaner
 *   deletes the expired token, the garbage collector deletes kubeadm-certs through that reference.
 * - `kubeadm join --control-plane --certificate-key KEY`'s download-certs (DownloadCerts): decode the
 *   key, GET the Secret (a 404 fails in kubeadm's words: "This Secret might have expired"), decrypt.
 */
import { bootstrapTokenSecret, KUBEADM_DEFAULT_NODE_TOKEN_GROUP } from '../components/api/bootstrap-token.js';
import type { KubeObject } from '../components/api/types.js';
import { ApiError, type KubeClient, resourcePath } from '../components/client/kube-client.js';
import {
  CERT_TOKEN_DESCRIPTION, createCertificateKey, decodeHexKey, DEFAULT_CERT_TOKEN_DURATION_MS, DOWNLOAD_CERTS_PHASE, downloadCerts,
  KUBEADM_CERTS_SECRET, kubeadmCertsNotFound, kubeadmCertsSecret, type KubeadmCertsSecret, type TransferredFile,
} from '../pki/copycerts.js';
import { PkiError } from '../pki/errors.js';
import type { Pki } from '../pki/store.js';

export const KUBEADM_CERTS_ROLE = 'kubeadm:kubeadm-certs';

export interface UploadCertsOptions {
  /** `--certificate-key`; default a fresh one (CreateCertificateKey). */
  readonly certificateKey?: string;
  /** The owning token's TTL; default kubeadm's 2 hours. A scenario shortens it to watch the Secret expire. */
  readonly tokenTtlMs?: number;
  /** Default: now. */
  readonly now?: Date;
}

export interface UploadedCerts {
  readonly certificateKey: string;
  /** The owning token Secret, as stored (its name, uid and expiration). */
  readonly token: { readonly name: string; readonly uid: string; readonly expiration: string };
  readonly secret: KubeadmCertsSecret & KubeObject;
}

const secretsPath = resourcePath({ resource: 'secrets', namespace: 'kube-system' });

/** apiclient.CreateOrUpdate*: create; on AlreadyExists, update (keeping the stored resourceVersion). */
async function createOrUpdate<T extends KubeObject>(client: KubeClient, collection: string, obj: T): Promise<T> {
  try {
    return await client.create<T>(collection, obj);
  } catch (err) {
    if (!(err instanceof ApiError && err.httpStatus === 409)) throw err;
    const path = `${collection}/${obj.metadata.name ?? ''}`;
    const current = await client.get<T>(path);
    return client.update<T>(path, { ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata.resourceVersion } });
  }
}

/** UploadCerts, with a client allowed to write Secrets and Roles in kube-system (super-admin.conf / admin.conf). */
export async function uploadCerts(client: KubeClient, pki: Pki, options: UploadCertsOptions = {}): Promise<UploadedCerts> {
  const certificateKey = options.certificateKey ?? createCertificateKey();
  decodeHexKey(certificateKey);
  const { secret: tokenSecret } = bootstrapTokenSecret({
    now: options.now ?? new Date(), ttlMs: options.tokenTtlMs ?? DEFAULT_CERT_TOKEN_DURATION_MS,
    description: CERT_TOKEN_DESCRIPTION, usages: [], groups: [],
  });
  await client.create<KubeObject>(secretsPath, tokenSecret);
  // getSecretOwnerRef reads the token Secret back for its uid.
  const stored = await client.get<KubeObject & { data?: Record<string, string> }>(`${secretsPath}/${tokenSecret.metadata.name ?? ''}`);
  const token = {
    name: stored.metadata.name ?? '', uid: stored.metadata.uid ?? '',
    expiration: Buffer.from(stored.data?.['expiration'] ?? '', 'base64').toString(),
  };
  const secret = await createOrUpdate<KubeadmCertsSecret & KubeObject>(client, secretsPath,
    kubeadmCertsSecret(pki, certificateKey, { name: token.name, uid: token.uid }) as KubeadmCertsSecret & KubeObject);
  const rbac = (resource: string): string => resourcePath({ group: 'rbac.authorization.k8s.io', resource, namespace: 'kube-system' });
  await createOrUpdate<KubeObject>(client, rbac('roles'), {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: KUBEADM_CERTS_ROLE, namespace: 'kube-system' },
    rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: [KUBEADM_CERTS_SECRET] }],
  } as KubeObject);
  await createOrUpdate<KubeObject>(client, rbac('rolebindings'), {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: KUBEADM_CERTS_ROLE, namespace: 'kube-system' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: KUBEADM_CERTS_ROLE },
    subjects: [{ kind: 'Group', name: KUBEADM_DEFAULT_NODE_TOKEN_GROUP }],
  } as KubeObject);
  return { certificateKey, token, secret };
}

/**
 * DownloadCerts' reading half: the key is decoded first, then the Secret is read; a 404 is kubeadm's
 * "This Secret might have expired" (code CERTS_SECRET_MISSING), a wrong key CERT_KEY_INVALID.
 */
export async function downloadCertsFrom(client: KubeClient, certificateKey: string): Promise<Record<TransferredFile, string>> {
  try {
    decodeHexKey(certificateKey);
  } catch (err) {
    throw new PkiError('CERT_KEY_INVALID', `${DOWNLOAD_CERTS_PHASE}: ${(err as Error).message}`);
  }
  let secret: KubeadmCertsSecret & KubeObject;
  try {
    secret = await client.get<KubeadmCertsSecret & KubeObject>(`${secretsPath}/${KUBEADM_CERTS_SECRET}`);
  } catch (err) {
    if (err instanceof ApiError && err.httpStatus === 404) throw kubeadmCertsNotFound(err);
    throw err;
  }
  return downloadCerts(secret, certificateKey);
}
