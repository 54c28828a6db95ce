/**
 * The trust matrix of any cluster, probed from the outside (`npm run probe`): every client identity
 * found in a kubeadm-style directory against every server given, one fresh real mutual-TLS connection
 * and one read each (the trust matrix's requests), plus, per kubelet, the apiserver's own hop to it
 * through nodes/<node>/proxy. Nothing here can see inside the servers, so a cell is what a client sees:
 *
 *   handshake refused by the client   this side's OpenSSL refused the server's certificate (code, Go's words)
 *   handshake refused by the server   the server's alert or reset (`remote error: tls: bad certificate`)
 *   401 / 403 / 2xx                   the HTTP answer and the Status message the server wrote
 *
 * and, beside it, a `diagnosis`: the probe's own verification of the client certificate against the CA
 * kubeadm wires that server to trust (etcd: pki/etcd/ca.crt; apiserver, kubelets: pki/ca.crt), so a
 * refusal says why even when the server only says "Unauthorized". The diagnosis is never the verdict.
 *
 * Strictly read-only: GETs, etcd's count-only range read, and one SelfSubjectReview per identity sent
 * as a server-side dry run (`?dryRun=All`), which a real apiserver authenticates and discards.
 */
import { X509Certificate } from 'node:crypto';
import { goReason } from '../components/client/tls.js';
import { CERTIFICATE_CAUSES, Trace } from '../components/client/trace.js';
import { generateKey, issueLeaf, privateKeyPem, selfSignCa } from '../pki/issue.js';
import type { FoundCas, FoundIdentity } from '../pki/identities.js';
import { certSpecs, clusterPlan, type LeafSpec } from '../pki/spec.js';
import { APISERVER_REQUEST, ETCD_REQUEST, KUBELET_REQUEST, probe, statusMessage, type Decision, type Layer, type ProbeOutcome } from './probe.js';

export interface ProbeTargets {
  readonly apiserver: string;
  readonly etcd?: readonly string[];
  /** Node name → `https://ip:10250`. */
  readonly kubelets?: Readonly<Record<string, string>>;
  /** An extension apiserver (aggregation layer), probed with GET /apis. */
  readonly extension?: string;
  /** The CA the extension's serving certificate is checked against (default pki/ca.crt). */
  readonly extensionCa?: string;
}

export interface ProbeClient {
  readonly name: string;
  readonly kind: FoundIdentity['kind'] | 'no certificate' | 'foreign CA';
  readonly file?: string;
  readonly cn: string;
  readonly o: readonly string[];
  readonly issuer: string;
  readonly usages: readonly ('serverAuth' | 'clientAuth')[];
  /** Who the apiserver says this identity is (a SelfSubjectReview, dry run), when it authenticated it. */
  readonly whoami?: { readonly user: string; readonly groups: readonly string[] };
}

export interface ProbeCell {
  readonly client: string;
  readonly server: string;
  readonly decision: Decision;
  readonly layer: Layer;
  readonly refusedBy?: 'client' | 'server';
  readonly status?: number;
  /** OpenSSL's code or Node's error code, as this side saw it. */
  readonly code?: string;
  readonly user?: string;
  /** What was decided, in the words this side received (Go's x509 words, the Status message). */
  readonly reason: string;
  /** The request, for the apiserver's hop to a kubelet (`GET /api/v1/nodes/node-1/proxy/pods as admin.conf`). */
  readonly via?: string;
  /** The probe's own check of the client certificate against the CA this server should trust. */
  readonly diagnosis?: { readonly code: string; readonly reason: string; readonly against: string };
}

export interface ProbeResult {
  readonly requests: Readonly<Record<string, string>>;
  readonly clients: readonly ProbeClient[];
  readonly servers: readonly string[];
  readonly cells: readonly ProbeCell[];
}

interface Server { name: string; kind: 'etcd' | 'kube-apiserver' | 'kubelet' | 'extension'; url: string; ca: string; clientCa?: { pem: string; file: string }; node?: string; request: { method: string; path: string; body?: string } }

/** Verifies a client certificate as the server would (issuer, validity, clientAuth), with node:crypto; undefined: it would verify. */
export function diagnoseClientCert(certPem: string, caPem: string, now: Date = new Date()): { code: string; reason: string } | undefined {
  const cert = new X509Certificate(certPem);
  const cas = caPem.split(/(?<=-----END CERTIFICATE-----)/).map((p) => p.trim()).filter(Boolean).map((p) => new X509Certificate(p));
  const fail = (code: string): { code: string; reason: string } => ({ code, reason: goReason(code) });
  if (!cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) return fail(cert.checkIssued(cert) ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  if (now < new Date(cert.validFrom)) return fail('CERT_NOT_YET_VALID');
  if (now > new Date(cert.validTo)) return fail('CERT_HAS_EXPIRED');
  const eku = cert.keyUsage;
  if (eku !== undefined && !eku.includes('1.3.6.1.5.5.7.3.2')) return fail('INVALID_PURPOSE');
  return undefined;
}

/** A certificate with admin.conf's names from a CA nobody trusts (made here, in memory). */
async function foreignIdentity(): Promise<{ cert: string; key: string }> {
  const now = new Date();
  const ca = selfSignCa({ name: 'ca', cn: 'kubernetes' }, await generateKey('ecdsa-p256'), now);
  const spec = certSpecs(clusterPlan({ nodes: [] })).certs.find((c) => c.name === 'admin.conf') as LeafSpec;
  const leaf = await issueLeaf(spec, ca, 'ecdsa-p256', now);
  return { cert: leaf.certPem, key: privateKeyPem(leaf.key.privateKey) };
}

const SSR_PATH = '/apis/authentication.k8s.io/v1/selfsubjectreviews?dryRun=All';
const SSR_BODY = JSON.stringify({ kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' });

/** A client-side outcome as a cell: a server's alert or reset is its refusal; the diagnosis says what it found wrong. */
function cellOf(client: string, server: Server, o: ProbeOutcome, certPem: string | undefined): ProbeCell {
  const base = { client, server: server.name };
  const diagnosis = (): Pick<ProbeCell, 'diagnosis'> => {
    if (!server.clientCa) return {};
    if (!certPem) return { diagnosis: { code: 'NO_CLIENT_CERT', reason: goReason('NO_CLIENT_CERT'), against: server.clientCa.file } };
    const d = diagnoseClientCert(certPem, server.clientCa.pem);
    return d ? { diagnosis: { ...d, against: server.clientCa.file } } : {};
  };
  if (o.decision === 'handshake refused') return { ...base, decision: o.decision, layer: 'tls', refusedBy: o.refusedBy ?? 'client', ...(o.code ? { code: o.code } : {}), reason: o.reason };
  if (o.decision === 'failed') {
    const refusal = o.cause === 'peer-refused-certificate' || o.cause === 'peer-required-certificate' || o.cause === 'reset' || o.cause === 'handshake-failure';
    if (refusal) return { ...base, decision: 'handshake refused', layer: 'tls', refusedBy: 'server', ...(o.code ? { code: o.code } : {}), reason: o.reason, ...diagnosis() };
    return { ...base, decision: 'failed', layer: o.layer, ...(o.code ? { code: o.code } : {}), reason: o.reason };
  }
  const user = o.user ? { user: o.user } : {};
  const common = { ...base, decision: o.decision, layer: o.layer, ...(o.status === undefined ? {} : { status: o.status }), ...user, reason: o.reason };
  return o.decision === 'unauthenticated' ? { ...common, ...diagnosis() } : common;
}

/** Probes every identity against every server; `cas` are the directory's CA bundles. */
export async function probeCluster(found: { identities: readonly FoundIdentity[]; cas: FoundCas }, targets: ProbeTargets, timeoutMs = 10_000): Promise<ProbeResult> {
  const { cas } = found;
  if (!cas.ca) throw new Error('no Kubernetes CA (pki/ca.crt) in the directory: nothing to check the apiserver\'s certificate against');
  const etcdUrls = targets.etcd ?? [];
  if (etcdUrls.length > 0 && !cas.etcdCa) throw new Error('--etcd given but the directory has no etcd CA (pki/etcd/ca.crt)');
  const ca = { pem: cas.ca, file: 'pki/ca.crt' };
  const servers: Server[] = [
    ...etcdUrls.map((url) => ({ name: etcdUrls.length === 1 ? 'etcd' : `etcd (${new URL(url).host})`, kind: 'etcd' as const, url, ca: cas.etcdCa!, clientCa: { pem: cas.etcdCa!, file: 'pki/etcd/ca.crt' }, request: ETCD_REQUEST })),
    { name: 'kube-apiserver', kind: 'kube-apiserver', url: targets.apiserver, ca: cas.ca, clientCa: ca, request: APISERVER_REQUEST },
    ...Object.keys(targets.kubelets ?? {}).sort().map((node) => ({ name: `kubelet (${node})`, kind: 'kubelet' as const, node, url: targets.kubelets![node]!, ca: cas.ca!, clientCa: ca, request: KUBELET_REQUEST })),
    ...(targets.extension ? [{ name: 'extension', kind: 'extension' as const, url: targets.extension, ca: targets.extensionCa ?? cas.ca, request: { method: 'GET', path: '/apis' } }] : []),
  ];
  const foreign = await foreignIdentity();
  const fd = new X509Certificate(foreign.cert);
  const clients: { client: ProbeClient; identity?: { cert: string; key: string } }[] = [
    ...found.identities.map((i) => ({ client: { name: i.name, kind: i.kind, file: i.file, cn: i.cn, o: i.o, issuer: i.issuer, usages: i.usages } as ProbeClient, identity: { cert: i.cert, key: i.key } })),
    { client: { name: 'no certificate', kind: 'no certificate', cn: '', o: [], issuer: '', usages: [] } },
    { client: { name: 'foreign CA', kind: 'foreign CA', cn: fd.subject.match(/CN=(.*)/)?.[1] ?? '', o: [...fd.subject.matchAll(/O=(.*)/g)].map((m) => m[1]!), issuer: 'kubernetes (foreign)', usages: ['clientAuth'] }, identity: foreign },
  ];
  const trace = new Trace();
  const cells: ProbeCell[] = [];
  const outClients: ProbeClient[] = [];
  for (const { client, identity } of clients) {
    for (const s of servers) {
      const o = await probe(trace, {
        client: `probe: ${client.name}`, server: s.name, url: s.url, serverCa: s.ca, method: s.request.method, path: s.request.path,
        ...(s.request.body === undefined ? {} : { body: s.request.body }), ...(identity ? { identity } : {}), serverRecords: 'none',
      }, timeoutMs);
      cells.push(cellOf(client.name, s, o, identity?.cert));
    }
    // Who the apiserver says this is: a SelfSubjectReview, as a dry run (nothing is written).
    const apiCell = cells.find((c) => c.client === client.name && c.server === 'kube-apiserver');
    if (apiCell && apiCell.status !== undefined && apiCell.status !== 401) {
      const o = await probe(trace, { client: `probe whoami: ${client.name}`, server: 'kube-apiserver', url: targets.apiserver, serverCa: cas.ca, method: 'POST', path: SSR_PATH, body: SSR_BODY, ...(identity ? { identity } : {}), serverRecords: 'none' }, timeoutMs);
      const ui = o.status === 201 || o.status === 200 ? (JSON.parse(o.body ?? '{}') as { status?: { userInfo?: { username?: string; groups?: string[] } } }).status?.userInfo : undefined;
      if (ui?.username) {
        outClients.push({ ...client, whoami: { user: ui.username, groups: ui.groups ?? [] } });
        const i = cells.indexOf(apiCell);
        cells[i] = { ...apiCell, user: ui.username };
        continue;
      }
    }
    outClients.push(client);
  }
  cells.push(...await apiserverHops(trace, found.identities, servers, cells, targets.apiserver, cas.ca, timeoutMs));
  const requests: Record<string, string> = {
    etcd: `${ETCD_REQUEST.method} ${ETCD_REQUEST.path} ${ETCD_REQUEST.body}`,
    'kube-apiserver': `${APISERVER_REQUEST.method} ${APISERVER_REQUEST.path}`,
    kubelet: `${KUBELET_REQUEST.method} ${KUBELET_REQUEST.path}`,
    ...(targets.extension ? { extension: 'GET /apis' } : {}),
    whoami: `POST ${SSR_PATH}`,
  };
  return { requests, clients: outClients, servers: servers.map((s) => s.name), cells };
}

export const HOP_CLIENT = 'kube-apiserver (apiserver-kubelet-client)';

/**
 * The apiserver's own connection to each kubelet, through nodes/<node>/proxy/pods (a read, with
 * admin.conf): 2xx means the apiserver completed the handshake and the kubelet served it; a 5xx naming
 * an x509 or tls error means the apiserver refused the kubelet's certificate.
 */
async function apiserverHops(trace: Trace, identities: readonly FoundIdentity[], servers: readonly Server[], cells: readonly ProbeCell[], apiserver: string, ca: string, timeoutMs: number): Promise<ProbeCell[]> {
  const admin = identities.find((i) => i.name === 'admin.conf') ?? identities.find((i) => i.name === 'super-admin.conf');
  if (!admin) return [];
  const out: ProbeCell[] = [];
  for (const s of servers.filter((x) => x.kind === 'kubelet')) {
    const path = `/api/v1/nodes/${encodeURIComponent(s.node!)}/proxy/pods`;
    const o = await probe(trace, { client: `probe hop: ${s.name}`, server: 'kube-apiserver', url: apiserver, serverCa: ca, method: 'GET', path, identity: { cert: admin.cert, key: admin.key }, serverRecords: 'none' }, timeoutMs);
    const via = `GET ${path} as ${admin.name}`;
    const base = { client: HOP_CLIENT, server: s.name, via };
    // The kubelet's certificate as the probe found it (the no-certificate cell dialled it directly).
    const direct = cells.find((c) => c.server === s.name && c.client === 'no certificate');
    const directFault = direct?.decision === 'handshake refused' && direct.refusedBy === 'client' ? { diagnosis: { code: direct.code ?? '', reason: direct.reason, against: 'pki/ca.crt' } } : {};
    if (o.status !== undefined && o.status >= 500) {
      const message = statusMessage(o.body ?? '');
      const tlsRefusal = /x509: |tls: /.test(message);
      out.push({ ...base, decision: tlsRefusal ? 'handshake refused' : 'failed', layer: tlsRefusal ? 'tls' : 'none', ...(tlsRefusal ? { refusedBy: 'client' as const } : {}), status: o.status, reason: message, ...directFault });
    } else {
      out.push({ ...cellOf(HOP_CLIENT, s, o, undefined), ...base, ...directFault });
    }
  }
  return out;
}
