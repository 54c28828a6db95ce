/**
 * Certificates as the report shows them: the fields of the trust tree (CN, O, EKU, SANs, validity, key
 * algorithm), read from an X509Certificate of the PKI or from the summary a handshake recorded.
 */
import type { X509Certificate } from 'node:crypto';

export interface CertView {
  readonly id: string;
  readonly cn: string;
  readonly o: readonly string[];
  /** The id of the CA that signed it (null: self-signed, or a CA). */
  readonly caId: string | null;
  /** The PKI's name for it (`admin.conf`, `etcd/server`), when it is one of the PKI's. */
  readonly name?: string | undefined;
  readonly serial?: string;
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly sans: readonly string[];
  readonly eku: readonly string[];
  readonly key?: string;
  /** What the spec table says it is for. */
  readonly uses: readonly string[];
  /** Who presented it on the wire in this run, and as what (`kubectl (client)`). */
  readonly held: string[];
}

export interface CaView extends CertView {
  /** `kubernetes`, `etcd` (a separate trust domain: etcd trusts only it), `front-proxy`, or a CA known only by name. */
  readonly branch: 'kubernetes' | 'etcd' | 'front-proxy' | 'other';
  /** Whether its certificate is in the PKI (false: known only as the issuer name of a certificate seen on the wire). */
  readonly inPki: boolean;
  /** Replaced by a newer CA of the same name during the run (a rotation). */
  rotatedOut: boolean;
}

const field = (dn: string, k: string): string[] => dn.split('\n').filter((l) => l.startsWith(`${k}=`)).map((l) => l.slice(k.length + 1));
const EKU: Readonly<Record<string, string>> = { '1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth' };
const CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

export function keyAlgorithm(x: X509Certificate): string {
  const k = x.publicKey;
  const d = k.asymmetricKeyDetails ?? {};
  if (k.asymmetricKeyType === 'rsa') return `RSA ${d.modulusLength ?? '?'}`;
  if (k.asymmetricKeyType === 'ec') return `ECDSA ${CURVES[d.namedCurve ?? ''] ?? d.namedCurve ?? '?'}`;
  return k.asymmetricKeyType === 'ed25519' ? 'Ed25519' : k.asymmetricKeyType ?? '?';
}

export function certView(id: string, x: X509Certificate, caId: string | null): CertView {
  return {
    id, cn: field(x.subject, 'CN')[0] ?? '', o: field(x.subject, 'O'), caId, serial: x.serialNumber.toUpperCase(),
    notBefore: new Date(x.validFrom).toISOString(), notAfter: new Date(x.validTo).toISOString(),
    sans: x.subjectAltName ? x.subjectAltName.split(', ') : [], eku: (x.keyUsage ?? []).map((o) => EKU[o] ?? o), key: keyAlgorithm(x),
    uses: [], held: [],
  };
}
