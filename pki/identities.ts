/**
 * The client identities a certificate directory holds, for probing a cluster from the outside
 * (`npm run probe`): every leaf certificate with its private key (kubeadm's pki/*.crt + .key, a
 * kubeconfig's client-certificate-data + client-key-data, a combined .pem), named as `inspect` names
 * its role (admin.conf, etcd/healthcheck-client, nodes/node-1/kubelet.conf), and the three CA bundles
 * that a kubeadm cluster's clients trust. Unlike `pkiFromDirectory` it needs no CA key: a worker's
 * /etc/kubernetes or a copy without ca.key is enough. It reads only; the key text it returns goes to
 * TLS and nowhere else.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PkiError } from './errors.js';
import { inspect, type Inspection, type LeafInfo } from './inspect.js';
import { parseKubeconfig } from './kubeconfig.js';

export interface FoundIdentity {
  /** The role's name (`admin.conf`, `nodes/node-1/kubelet`), else the file. */
  readonly name: string;
  /** The file it came from, relative to the directory (`admin.conf (client-certificate-data)`). */
  readonly file: string;
  readonly kind: 'client certificate' | 'server certificate used as a client';
  readonly cn: string;
  readonly o: readonly string[];
  /** The issuer's CN. */
  readonly issuer: string;
  readonly usages: readonly ('serverAuth' | 'clientAuth')[];
  readonly cert: string;
  readonly key: string;
}

export interface FoundCas {
  /** pki/ca.crt: the apiserver's and kubelets' client CA, and what clients check their serving certificates against. */
  readonly ca?: string;
  /** pki/etcd/ca.crt. */
  readonly etcdCa?: string;
  /** pki/front-proxy-ca.crt. */
  readonly frontProxyCa?: string;
}

export interface FoundIdentities {
  readonly inspection: Inspection;
  readonly identities: readonly FoundIdentity[];
  readonly cas: FoundCas;
}

async function keyTextOf(dir: string, leaf: LeafInfo): Promise<string> {
  const rel = leaf.keyFile!;
  const text = await fs.readFile(path.join(dir, rel), 'utf8');
  return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) && !rel.endsWith('.conf') && !rel.endsWith('.kubeconfig') ? text : parseKubeconfig(text, rel).keyPem;
}

const certText = async (dir: string, leaf: LeafInfo): Promise<string> =>
  (leaf.file.endsWith('.crt') ? fs.readFile(path.join(dir, leaf.file), 'utf8') : leaf.cert.toString());

/** Every identity under `dir` that TLS could present (clientAuth first, then serverAuth-only leaves). */
export async function identitiesFromDirectory(dir: string, now: Date = new Date()): Promise<FoundIdentities> {
  const inspection = await inspect(dir, now);
  const clients: FoundIdentity[] = [];
  const serverOnly: FoundIdentity[] = [];
  const seen = new Set<string>();
  for (const leaf of inspection.leaves) {
    if (!leaf.keyFile) continue;
    const name = leaf.role?.name ?? leaf.file;
    if (seen.has(name)) continue;
    seen.add(name);
    const eku = leaf.details.extKeyUsage;
    const usages = [...(eku.includes('serverAuth') ? ['serverAuth' as const] : []), ...(eku.includes('clientAuth') ? ['clientAuth' as const] : [])];
    let key: string;
    try {
      key = await keyTextOf(dir, leaf);
    } catch (err) {
      if (err instanceof PkiError) continue; // inspect recorded the fault
      throw err;
    }
    const id: FoundIdentity = {
      name, file: leaf.file, cn: leaf.details.subject.cn, o: leaf.details.subject.o, issuer: leaf.details.issuer.cn, usages,
      kind: usages.includes('clientAuth') ? 'client certificate' : 'server certificate used as a client',
      cert: await certText(dir, leaf), key,
    };
    (id.kind === 'client certificate' ? clients : serverOnly).push(id);
  }
  const pem = (name: string): string | undefined => inspection.cas.find((c) => c.name === name)?.cert.toString();
  const ca = pem('ca');
  const etcdCa = pem('etcd-ca');
  const frontProxyCa = pem('front-proxy-ca');
  return {
    inspection, identities: [...clients, ...serverOnly],
    cas: { ...(ca ? { ca } : {}), ...(etcdCa ? { etcdCa } : {}), ...(frontProxyCa ? { frontProxyCa } : {}) },
  };
}
