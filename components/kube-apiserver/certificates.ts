/**
 * certificates.k8s.io/v1 CertificateSigningRequest: the strategy and validation of
 * pkg/registry/certificates/certificates/strategy.go and pkg/apis/certificates/validation, and the
 * admission plugins that guard it (CertificateApproval, CertificateSigning,
 * CertificateSubjectRestriction).
 *
 * - create: spec.username/uid/groups/extra come from the authenticated user (never from the body);
 *   status is cleared; spec.request must be a PEM "CERTIFICATE REQUEST" whose self-signature verifies;
 *   usages, signerName and expirationSeconds (>= 600) are validated.
 * - update of the main resource: spec and status are kept from the stored object (metadata only).
 * - /approval: only the Approved/Denied conditions change; /status: the certificate and other
 *   conditions, never Approved/Denied. Approved and Denied exclude each other, and neither can be
 *   removed; a certificate once set cannot be changed.
 */
import { X509Certificate } from 'node:crypto';
import type { KubeObject } from '../api/types.js';
import { KUBE_APISERVER_CLIENT_SIGNER, LEGACY_UNKNOWN_SIGNER, parseCsrRequest, pemBlock, type CertificateSigningRequest, type CsrCondition } from '../api/certificates.js';
import { forbidden, invalid } from '../api/errors.js';
import type { UserInfo } from './gate.js';

export const CSR_GR = { group: 'certificates.k8s.io', resource: 'certificatesigningrequests' } as const;
const KIND = 'CertificateSigningRequest';

/** validation.allValidUsages. */
export const VALID_USAGES = [
  'any', 'cert sign', 'client auth', 'code signing', 'content commitment', 'crl sign', 'data encipherment', 'decipher only', 'digital signature',
  'email protection', 'encipher only', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'key agreement', 'key encipherment', 'microsoft sgc',
  'netscape sgc', 'ocsp signing', 's/mime', 'server auth', 'signing', 'timestamping',
] as const;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** ValidateCertificateSigningRequestSignerName. */
function signerNameErrors(signerName: string): { field: string; message: string }[] {
  const field = 'spec.signerName';
  if (!signerName) return [{ field, message: 'Required value: signerName must be provided' }];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [{ field, message: `Invalid value: "${signerName}": must be a fully qualified domain and path of the form 'example.com/signer-name'` }];
  const errors: { field: string; message: string }[] = [];
  const labels = segments[0]!.split('.');
  const bad = labels.find((l) => !DNS1123_LABEL.test(l));
  if (bad !== undefined) errors.push({ field, message: `Invalid value: "${segments[0]!}": validating label "${bad}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character` });
  if (labels.length < 2) errors.push({ field, message: `Invalid value: "${segments[0]!}": should be a domain with at least two segments separated by dots` });
  return errors;
}

function conditionErrors(conditions: readonly CsrCondition[]): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  conditions.forEach((c, i) => {
    const f = `status.conditions[${i}]`;
    if (!c.type) errors.push({ field: `${f}.type`, message: 'Required value' });
    const trueOnly = ['Approved', 'Denied', 'Failed'].includes(c.type);
    const allowed = trueOnly ? ['True'] : ['False', 'True', 'Unknown'];
    if (!c.status) errors.push({ field: `${f}.status`, message: 'Required value' });
    else if (!allowed.includes(c.status)) errors.push({ field: `${f}.status`, message: `Unsupported value: "${c.status}": supported values: ${allowed.map((a) => `"${a}"`).join(', ')}` });
    if (c.type === 'Approved') { approved = true; if (denied) errors.push({ field: `${f}.type`, message: 'Invalid value: "Approved": Approved and Denied conditions are mutually exclusive' }); }
    if (c.type === 'Denied') { denied = true; if (approved) errors.push({ field: `${f}.type`, message: 'Invalid value: "Denied": Approved and Denied conditions are mutually exclusive' }); }
    if (seen.has(c.type)) errors.push({ field: `${f}.type`, message: `Duplicate value: "${c.type}"` });
    seen.add(c.type);
  });
  return errors;
}

function certificateError(b64: string | undefined): string | undefined {
  if (!b64) return undefined;
  const text = Buffer.from(b64, 'base64').toString('latin1');
  const blocks = text.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g) ?? [];
  if (blocks.length === 0) return 'must contain at least one CERTIFICATE PEM block';
  for (const b of blocks) {
    const block = pemBlock(b)!;
    if (block.type !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found "${block.type}"`;
    try { new X509Certificate(block.der); } catch (err) { return `x509: malformed certificate: ${(err as Error).message}`; }
  }
  return undefined;
}

/** validateCertificateSigningRequest (create options). */
export function validateCsr(csr: CertificateSigningRequest): void {
  const errors: { field: string; message: string }[] = [];
  const spec = isRec(csr.spec) ? csr.spec : ({} as CertificateSigningRequest['spec']);
  try {
    parseCsrRequest(typeof spec.request === 'string' ? spec.request : '');
  } catch (err) {
    errors.push({ field: 'spec.request', message: `Invalid value: []byte{...}: ${(err as Error).message}` });
  }
  const usages = Array.isArray(spec.usages) ? spec.usages : [];
  if (usages.length === 0) errors.push({ field: 'spec.usages', message: 'Required value: usages must be provided' });
  const seen = new Set<string>();
  usages.forEach((u, i) => {
    if (!(VALID_USAGES as readonly string[]).includes(u)) errors.push({ field: `spec.usages[${i}]`, message: `Unsupported value: "${u}": supported values: ${VALID_USAGES.map((v) => `"${v}"`).join(', ')}` });
    if (seen.has(u)) errors.push({ field: `spec.usages[${i}]`, message: `Duplicate value: "${u}"` });
    seen.add(u);
  });
  const signerName = typeof spec.signerName === 'string' ? spec.signerName : '';
  if (signerName === LEGACY_UNKNOWN_SIGNER) errors.push({ field: 'spec.signerName', message: `Invalid value: "${signerName}": the legacy signerName is not allowed via this API version` });
  else errors.push(...signerNameErrors(signerName));
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds < 600) {
    errors.push({ field: 'spec.expirationSeconds', message: `Invalid value: ${spec.expirationSeconds}: may not specify a duration less than 600 seconds (10 minutes)` });
  }
  errors.push(...conditionErrors(csr.status?.conditions ?? []));
  const certErr = certificateError(csr.status?.certificate);
  if (certErr) errors.push({ field: 'status.certificate', message: `Invalid value: "<certificate data>": ${certErr}` });
  if (errors.length > 0) throw invalid(CSR_GR, KIND, csr.metadata.name ?? '', errors);
}

/**
 * Strategy.PrepareForCreate: the requesting user's identity goes into the spec, status starts empty.
 * The CertificateSubjectRestriction admission plugin is checked here too.
 */
export function prepareCsrCreate(obj: KubeObject & Rec, user: UserInfo): void {
  const spec = isRec(obj.spec) ? { ...obj.spec } : {};
  delete spec.username; delete spec.uid; delete spec.groups; delete spec.extra;
  spec.username = user.name;
  if (user.uid) spec.uid = user.uid;
  spec.groups = [...user.groups];
  if (user.extra && Object.keys(user.extra).length > 0) spec.extra = structuredClone(user.extra);
  obj.spec = spec;
  obj.status = {};
  const csr = obj as unknown as CertificateSigningRequest;
  validateCsr(csr);
  if (csr.spec.signerName === KUBE_APISERVER_CLIENT_SIGNER) {
    const req = parseCsrRequest(csr.spec.request);
    if (req.subject.o.includes('system:masters')) {
      throw forbidden(`certificatesigningrequests.certificates.k8s.io "${obj.metadata.name ?? ''}" is forbidden: use of ${KUBE_APISERVER_CLIENT_SIGNER} signer with system:masters group is not allowed`, CSR_GR, obj.metadata.name ?? '', 'admission');
    }
  }
}

const byType = (c: readonly CsrCondition[] | undefined, t: string): CsrCondition[] => (c ?? []).filter((x) => x.type === t);

/**
 * PrepareForUpdate of the main resource, /status and /approval, then
 * validateCertificateSigningRequestUpdate. Returns the object to store.
 */
export function prepareCsrUpdate(next: KubeObject & Rec, old: KubeObject & Rec, subresource: string | undefined): KubeObject & Rec {
  const o = old as unknown as CertificateSigningRequest;
  const n = next as unknown as CertificateSigningRequest;
  const result: CertificateSigningRequest = { ...o, metadata: next.metadata, spec: o.spec, status: o.status ?? {} };
  const newConds = n.status?.conditions ?? [];
  const oldConds = o.status?.conditions ?? [];
  if (subresource === 'approval') {
    // Only the Approved/Denied conditions come from the request.
    const others = oldConds.filter((c) => c.type !== 'Approved' && c.type !== 'Denied');
    result.status = { ...result.status, conditions: [...newConds.filter((c) => c.type === 'Approved' || c.type === 'Denied'), ...others] };
  } else if (subresource === 'status') {
    result.status = { ...(n.status ?? {}) };
  }
  // lastUpdateTime/lastTransitionTime defaulting is left to the writer; status kept otherwise.
  const errors: { field: string; message: string }[] = [];
  validateCsr(result);
  const resConds = result.status?.conditions ?? [];
  for (const t of ['Approved', 'Denied', 'Failed']) {
    if (byType(resConds, t).length < byType(oldConds, t).length) errors.push({ field: 'status.conditions', message: `Forbidden: updates may not remove a condition of type "${t}"` });
  }
  if (subresource !== 'approval') {
    for (const t of ['Approved', 'Denied']) {
      const a = byType(oldConds, t);
      const b = byType(resConds, t);
      if (b.length > a.length) errors.push({ field: 'status.conditions', message: `Forbidden: updates may not add a condition of type "${t}"` });
      else if (b.length === a.length && JSON.stringify(a) !== JSON.stringify(b)) errors.push({ field: 'status.conditions', message: `Forbidden: updates may not modify a condition of type "${t}"` });
    }
  }
  const oldCert = o.status?.certificate ?? '';
  const newCert = result.status?.certificate ?? '';
  if (oldCert !== newCert) {
    if (subresource !== 'status') errors.push({ field: 'status.certificate', message: 'Forbidden: updates may not set certificate content' });
    else if (oldCert) errors.push({ field: 'status.certificate', message: 'Forbidden: updates may not modify existing certificate content' });
  }
  if (errors.length > 0) throw invalid(CSR_GR, KIND, old.metadata.name ?? '', errors);
  return result as unknown as KubeObject & Rec;
}

/** What an update asks the CertificateApproval / CertificateSigning admission plugins to check. */
export function csrAdmissionCheck(next: KubeObject, old: KubeObject, subresource: string | undefined): { verb: 'approve' | 'sign'; signerName: string } | undefined {
  const n = next as CertificateSigningRequest;
  const o = old as CertificateSigningRequest;
  if (subresource === 'approval') {
    const changed = ['Approved', 'Denied'].some((t) => JSON.stringify(byType(n.status?.conditions, t)) !== JSON.stringify(byType(o.status?.conditions, t)));
    return changed ? { verb: 'approve', signerName: o.spec.signerName } : undefined;
  }
  if (subresource === 'status' && (n.status?.certificate ?? '') !== (o.status?.certificate ?? '')) return { verb: 'sign', signerName: o.spec.signerName };
  return undefined;
}

/** The admission plugins' refusal. */
export const csrAdmissionForbidden = (name: string, verb: 'approve' | 'sign', signerName: string): Error =>
  forbidden(`certificatesigningrequests.certificates.k8s.io "${name}" is forbidden: user not permitted to ${verb} requests with signerName "${signerName}"`, CSR_GR, name, 'admission');
