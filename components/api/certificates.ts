/**
 * certificates.k8s.io/v1 CertificateSigningRequest (k8s.io/api/certificates/v1): the type, the
 * well-known signer names, and the condition summary kubectl and the apiserver's Table print.
 */
import { parseCsr, type ParsedCsr } from '../../pki/x509.js';
import type { KubeObject } from './types.js';

export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
export const KUBE_APISERVER_CLIENT_KUBELET_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
export const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';

export type CsrConditionType = 'Approved' | 'Denied' | 'Failed';

export interface CsrCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export interface CertificateSigningRequest extends KubeObject {
  spec: {
    /** base64 of the PEM-encoded PKCS#10 request. */
    request: string;
    signerName: string;
    expirationSeconds?: number;
    usages?: string[];
    username?: string;
    uid?: string;
    groups?: string[];
    extra?: Record<string, string[]>;
  };
  status?: {
    conditions?: CsrCondition[];
    /** base64 of the PEM certificate(s). */
    certificate?: string;
  };
}

/** printers.extractCSRStatus: Pending / Approved / Denied, then ,Failed and ,Issued. */
export function csrCondition(csr: CertificateSigningRequest): string {
  const types = new Set((csr.status?.conditions ?? []).map((c) => c.type));
  let s = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) s += ',Failed';
  if (csr.status?.certificate) s += ',Issued';
  return s;
}

/** One PEM block of a given type from text. */
export function pemBlock(text: string): { type: string; der: Buffer } | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return undefined;
  return { type: m[1]!, der: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') };
}

/** certificates.ParseCSR + CheckSignature: the request of a CSR object, or the error the apiserver reports. */
export function parseCsrRequest(requestB64: string): ParsedCsr {
  const pem = Buffer.from(requestB64, 'base64').toString('latin1');
  const block = pemBlock(pem);
  if (!block || block.type !== 'CERTIFICATE REQUEST') throw new Error('PEM block type must be CERTIFICATE REQUEST');
  try {
    return parseCsr(block.der);
  } catch (err) {
    throw new Error(err instanceof Error && /signature/.test(err.message) ? 'x509: ECDSA verification failure' : 'asn1: structure error', { cause: err });
  }
}
