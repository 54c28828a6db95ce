/**
 * The etcd certificates of one more stacked etcd member, as `kubeadm join --control-plane` makes them
 * on the joining node: etcd/server and etcd/peer signed by the shared etcd CA, with the joining node's
 * name as CN and its name and address in the SANs (plus localhost, 127.0.0.1 and ::1, as kubeadm's
 * etcd certificates carry). The key usages come from the PKI's own spec table, so they stay kubeadm's.
 */
import { PkiError } from './errors.js';
import { issueLeaf, privateKeyPem, type Now } from './issue.js';
import type { LeafSpec } from './spec.js';
import type { Pki } from './store.js';

export interface EtcdMemberCerts {
  /** etcd/server for this member: serving on its client port (and, in 3.4, the JSON gateway's client). */
  readonly server: { readonly cert: string; readonly key: string };
  /** etcd/peer for this member: serving and dialling on the peer port. */
  readonly peer: { readonly cert: string; readonly key: string };
}

export async function issueEtcdMemberCerts(pki: Pki, member: { readonly name: string; readonly ip: string }, now: Now = () => new Date()): Promise<EtcdMemberCerts> {
  const ca = pki.signers.get('etcd/ca');
  if (!ca) throw new PkiError('FILE_MISSING', 'the PKI has no CA "etcd/ca"');
  const at = now();
  const one = async (name: 'etcd/server' | 'etcd/peer'): Promise<{ cert: string; key: string }> => {
    const base = pki.table.certs.find((c): c is LeafSpec => c.kind === 'leaf' && c.name === name);
    if (!base) throw new PkiError('FILE_MISSING', `the PKI's spec table has no "${name}"`);
    const spec: LeafSpec = {
      ...base, cn: member.name,
      sans: { dns: [member.name, 'localhost'], ip: [...new Set([member.ip, '127.0.0.1', '::1'])] },
    };
    const leaf = await issueLeaf(spec, ca, pki.plan.keyAlgorithm, at);
    return { cert: leaf.certPem, key: privateKeyPem(leaf.key.privateKey) };
  };
  const [server, peer] = await Promise.all([one('etcd/server'), one('etcd/peer')]);
  return { server, peer };
}
