/**
 * `npm run pki -- timeline DIR`: when each certificate expires, when (and by whom) it is renewed, and
 * which flow — one client talking to one server — fails first and on which day if nobody does anything
 * by hand.
 *
 * Who renews what, as the real components do:
 *   kubeadm's leaves (1 year)       nobody by themselves: `kubeadm certs renew` or `kubeadm upgrade apply`
 *   the CAs (10 years)              nobody: a CA rotation is a manual procedure
 *   a kubelet's client certificate  the kubelet's certificate manager, at a jittered point in 70-90% of the
 *                                   life (client-go certificate manager nextRotationDeadline), when it lives in
 *                                   kubelet-client-current.pem; the new one is capped at the CA's notAfter
 *                                   (csrsigning), so the flow then fails with the CA. Embedded in kubelet.conf:
 *                                   nobody (`kubeadm certs renew` skips kubelet.conf, kubeadm#2185)
 *   a kubelet's serving certificate a kubelet-serving CSR at 70-90% that someone must approve (serverTLSBootstrap);
 *                                   self-signed: nobody
 * `kubeadm certs check-expiration` lists neither kubelet certificate; this does.
 *
 * A flow fails at the earliest failure of the certificates it needs (the client's, the server's and the
 * CAs that verify them). The refusal is the one the deciding component gives: etcd and the kubelets'
 * clients refuse the handshake with Go's x509 words, the apiserver and the kubelet answer 401.
 */
import type { CaInfo, Inspection, LeafInfo } from './inspect.js';
import { kubeadmDate } from './inspect.js';
import { KUBEADM_CERTS, tabwrite } from './renew.js';

const DAY_MS = 86_400_000;

export type Renewer = 'kubeadm certs renew' | 'kubelet rotation' | 'kubelet-serving CSR' | 'nobody';

export interface TimelineCertificate {
  /** kubeadm's name where it has one (etcd-server, admin.conf), else the spec name or file. */
  readonly name: string;
  readonly file: string;
  readonly ca: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly lifetimeDays: number;
  readonly renewer: Renewer;
  /** Whether a component renews it by itself (only the kubelet's rotation does). */
  readonly automatic: boolean;
  /** The window in which the renewer acts: 70-90% for the kubelet; the whole life for a manual renewal. */
  readonly renewFrom: Date;
  readonly renewBy: Date;
  /** When it stops working if nobody acts by hand: notAfter, or the CA's notAfter for an automatic rotation. */
  readonly failsAt: Date;
  readonly note: string;
}

export interface TimelineFlow {
  readonly client: string;
  readonly server: string;
  readonly failsAt: Date;
  /** Whole days from `now` to failsAt (negative once past). */
  readonly day: number;
  /** The certificate whose failure ends the flow. */
  readonly because: string;
  readonly why: string;
  /** What the component that decides says, in its words. */
  readonly refusal: string;
}

export interface Timeline {
  readonly dir: string;
  readonly now: Date;
  readonly certificates: readonly TimelineCertificate[];
  readonly authorities: readonly TimelineCertificate[];
  readonly flows: readonly TimelineFlow[];
  readonly first: TimelineFlow | undefined;
}

const KUBEADM_NAMES = new Map(KUBEADM_CERTS.map((k) => [k.spec, k.name]));
const at = (c: { notBefore: Date; notAfter: Date }, f: number): Date => new Date(c.notBefore.getTime() + f * (c.notAfter.getTime() - c.notBefore.getTime()));
/** Go's time.RFC3339 (seconds, Z). */
const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function classify(l: LeafInfo): Pick<TimelineCertificate, 'renewer' | 'automatic' | 'renewFrom' | 'renewBy' | 'note'> {
  const role = l.role?.name ?? '';
  const embedded = l.file.endsWith('(client-certificate-data)');
  const eku = l.details.extKeyUsage;
  const manual = { renewFrom: l.notBefore, renewBy: l.notAfter };
  const kubeletClient = /(^|\/)kubelet\.conf$/.test(role) || (/^system:node:/.test(l.details.subject.cn) && eku.includes('clientAuth') && !eku.includes('serverAuth'));
  if (kubeletClient) {
    if (embedded) return { renewer: 'nobody', automatic: false, ...manual, note: 'embedded in kubelet.conf: kubeadm certs renew skips it and the kubelet rotates only kubelet-client-current.pem (kubeadm#2185)' };
    return { renewer: 'kubelet rotation', automatic: true, renewFrom: at(l, 0.7), renewBy: at(l, 0.9), note: 'the kubelet rotates it while it runs; a node off through the whole window is locked out once bootstrap-kubelet.conf is gone (kubeadm#2054)' };
  }
  if (role.startsWith('nodes/') && eku.includes('serverAuth')) {
    if (!l.ca) return { renewer: 'nobody', automatic: false, ...manual, note: 'self-signed: remade only when the file is deleted and the kubelet restarts' };
    return { renewer: 'kubelet-serving CSR', automatic: false, renewFrom: at(l, 0.7), renewBy: at(l, 0.9), note: 'serverTLSBootstrap: the kubelet asks at 70-90%, nothing approves kubelet-serving CSRs by itself' };
  }
  const kubeadm = KUBEADM_NAMES.get(role);
  if (kubeadm) return { renewer: 'kubeadm certs renew', automatic: false, ...manual, note: `kubeadm certs renew ${kubeadm} (or kubeadm upgrade apply); nothing renews it by itself` };
  return { renewer: 'nobody', automatic: false, ...manual, note: 'not a kubeadm certificate: re-issue it by hand' };
}

function leafEntry(l: LeafInfo): TimelineCertificate {
  const role = l.role?.name;
  const c = classify(l);
  const caEnd = l.ca?.notAfter;
  const failsAt = c.automatic && caEnd ? caEnd : caEnd && caEnd < l.notAfter ? caEnd : l.notAfter;
  return {
    name: role ? KUBEADM_NAMES.get(role) ?? role : l.file, file: l.file, ca: l.ca?.name ?? (l.cert.checkIssued(l.cert) ? '(self-signed)' : '(unknown)'),
    notBefore: l.notBefore, notAfter: l.notAfter, lifetimeDays: Math.round((l.notAfter.getTime() - l.notBefore.getTime()) / DAY_MS), ...c, failsAt,
  };
}

function caEntry(c: CaInfo): TimelineCertificate {
  return {
    name: c.name, file: c.file, ca: '', notBefore: c.notBefore, notAfter: c.notAfter, lifetimeDays: Math.round((c.notAfter.getTime() - c.notBefore.getTime()) / DAY_MS),
    renewer: 'nobody', automatic: false, renewFrom: c.notBefore, renewBy: c.notAfter, failsAt: c.notAfter, note: 'a CA is rotated by hand (every certificate it signed stops verifying with it)',
  };
}

type Side = 'client' | 'server';
interface FlowSpec { readonly client: string; readonly server: string; readonly needs: readonly { readonly role: string; readonly side: Side }[]; readonly deciderOfClient: 'handshake' | '401' }

/** kubeadm's wiring: who talks to whom with which certificate (pki/spec.ts's `use`), per node where per node. */
function flowSpecs(nodes: readonly string[]): FlowSpec[] {
  const api = (client: string, role: string): FlowSpec => ({ client, server: 'kube-apiserver', needs: [{ role, side: 'client' }, { role: 'apiserver', side: 'server' }], deciderOfClient: '401' });
  return [
    { client: 'kube-apiserver', server: 'etcd', needs: [{ role: 'apiserver-etcd-client', side: 'client' }, { role: 'etcd/server', side: 'server' }], deciderOfClient: 'handshake' },
    { client: 'etcd (peer)', server: 'etcd (peer)', needs: [{ role: 'etcd/peer', side: 'client' }, { role: 'etcd/peer', side: 'server' }], deciderOfClient: 'handshake' },
    { client: 'etcdctl (healthcheck)', server: 'etcd', needs: [{ role: 'etcd/healthcheck-client', side: 'client' }, { role: 'etcd/server', side: 'server' }], deciderOfClient: 'handshake' },
    api('kubectl (admin.conf)', 'admin.conf'), api('kubectl (super-admin.conf)', 'super-admin.conf'),
    api('kube-controller-manager', 'controller-manager.conf'), api('kube-scheduler', 'scheduler.conf'), api('kube-proxy', 'kube-proxy.conf'),
    ...nodes.flatMap((n): FlowSpec[] => [
      api(`kubelet (${n})`, `nodes/${n}/kubelet.conf`),
      { client: 'kube-apiserver', server: `kubelet (${n})`, needs: [{ role: 'apiserver-kubelet-client', side: 'client' }, { role: `nodes/${n}/kubelet`, side: 'server' }], deciderOfClient: '401' },
    ]),
    { client: 'kube-apiserver (front proxy)', server: 'aggregated API servers', needs: [{ role: 'front-proxy-client', side: 'client' }], deciderOfClient: '401' },
  ];
}

function refusal(spec: FlowSpec, side: Side, failsAt: Date, expiredAt: Date, what: string): string {
  // Go's x509 fails once now is after NotAfter: the first second past it.
  const x509 = `x509: certificate has expired or is not yet valid: current time ${rfc3339(new Date(failsAt.getTime() + 1000))} is after ${rfc3339(expiredAt)}`;
  if (side === 'server') return `${spec.client} refuses the handshake: tls: failed to verify certificate: ${x509} (${what})`;
  if (spec.deciderOfClient === 'handshake') return `${spec.server} refuses the handshake (alert bad certificate): ${x509} (${what})`;
  return `${spec.server} answers 401 Unauthorized: its x509 authenticator rejects the client certificate (${x509}) (${what})`;
}

/** The timeline of an inspected directory, from its `now`. */
export function timeline(i: Inspection): Timeline {
  const byRole = new Map<string, LeafInfo[]>();
  for (const l of i.leaves) if (l.role) byRole.set(l.role.name, [...(byRole.get(l.role.name) ?? []), l]);
  const nodes = [...new Set(i.leaves.flatMap((l) => /^nodes\/([^/]+)\//.exec(l.role?.name ?? '')?.[1] ?? []))].sort();
  const entries = new Map(i.leaves.map((l) => [l, leafEntry(l)]));
  const flows: TimelineFlow[] = [];
  for (const spec of flowSpecs(nodes)) {
    const found = spec.needs.map((n) => ({ ...n, leaves: byRole.get(n.role) ?? [] }));
    if (found.some((n) => n.leaves.length === 0)) continue; // not in this directory: nothing to say
    let worst: { failsAt: Date; side: Side; entry: TimelineCertificate; leaf: LeafInfo; viaCa: boolean } | undefined;
    for (const n of found) {
      for (const leaf of n.leaves) {
        const e = entries.get(leaf)!;
        const viaCa = leaf.ca !== undefined && e.failsAt.getTime() === leaf.ca.notAfter.getTime() && (e.automatic || leaf.ca.notAfter < leaf.notAfter);
        if (!worst || e.failsAt < worst.failsAt) worst = { failsAt: e.failsAt, side: n.side, entry: e, leaf, viaCa };
      }
    }
    if (!worst) continue;
    const { entry, side, viaCa, leaf } = worst;
    const why = viaCa
      ? `${leaf.ca!.name} (${leaf.ca!.file}) expires: ${entry.name} no longer verifies${entry.automatic ? ' (the kubelet\'s rotated certificates end with their CA)' : ''}`
      : `${entry.name}${shown(entry)} expires; ${entry.renewer === 'nobody' ? 'nothing renews it' : entry.automatic ? 'the kubelet rotates it' : `renewal is by hand (${entry.renewer})`}`;
    const because = viaCa ? leaf.ca!.name : entry.name;
    flows.push({
      client: spec.client, server: spec.server, failsAt: worst.failsAt, day: Math.floor((worst.failsAt.getTime() - i.now.getTime()) / DAY_MS),
      because, why, refusal: refusal(spec, side, worst.failsAt, viaCa ? leaf.ca!.notAfter : leaf.notAfter, viaCa ? `signed by ${leaf.ca!.name}` : entry.name),
    });
  }
  flows.sort((a, b) => a.failsAt.getTime() - b.failsAt.getTime() || a.client.localeCompare(b.client) || a.server.localeCompare(b.server));
  const certificates = [...entries.values()].sort((a, b) => a.failsAt.getTime() - b.failsAt.getTime() || a.name.localeCompare(b.name));
  const authorities = i.cas.map(caEntry).sort((a, b) => a.failsAt.getTime() - b.failsAt.getTime());
  return { dir: i.dir, now: i.now, certificates, authorities, flows, first: flows[0] };
}

/** The file, when the name does not already say it. */
const shown = (c: TimelineCertificate): string => {
  const base = c.file.replace(/ \(client-certificate-data\)$/, '').replace(/\.crt$/, '');
  return base.endsWith(c.name) || base.endsWith(c.name.replace(/^etcd-/, 'etcd/')) ? '' : ` (${c.file})`;
};

const inDays = (d: Date, now: Date): string => {
  const days = Math.floor((d.getTime() - now.getTime()) / DAY_MS);
  return days < 0 ? `${-days}d ago` : `day ${days}`;
};

/** Text: the first failure, the flows by failure day, then every certificate with its renewal window. */
export function renderTimeline(t: Timeline): string {
  const out: string[] = [`Timeline of ${t.dir} from ${kubeadmDate(t.now)}`, ''];
  if (t.first) {
    const same = t.flows.filter((f) => f !== t.first && f.failsAt.getTime() === t.first!.failsAt.getTime()).length;
    out.push(`FIRST TO FAIL: ${t.first.client} → ${t.first.server} on ${kubeadmDate(t.first.failsAt)} (${inDays(t.first.failsAt, t.now)})${same ? `, with ${same} other flow(s) at the same moment` : ''}`,
      `  ${t.first.why}`, `  ${t.first.refusal}`, '');
  } else {
    out.push('no flow found: the directory holds none of the certificate pairs kubeadm wires', '');
  }
  out.push(tabwrite(['FLOW\tFAILS ON\tDAY\tBECAUSE', ...t.flows.map((f) => `${f.client} → ${f.server}\t${kubeadmDate(f.failsAt)}\t${inDays(f.failsAt, t.now)}\t${f.why}`)]), '');
  const row = (c: TimelineCertificate): string => {
    const window = c.automatic || c.renewer === 'kubelet-serving CSR' ? `${kubeadmDate(c.renewFrom)} - ${kubeadmDate(c.renewBy)} (70-90%)` : `by hand before ${kubeadmDate(c.renewBy)}`;
    return `${c.name}\t${kubeadmDate(c.notAfter)}\t${c.lifetimeDays}d\t${c.renewer}\t${window}\t${c.note}`;
  };
  out.push(tabwrite(['CERTIFICATE\tEXPIRES\tLIFETIME\tRENEWED BY\tRENEWAL\tNOTE', ...t.certificates.map(row)]), '');
  out.push(tabwrite(['CERTIFICATE AUTHORITY\tEXPIRES\tLIFETIME\tRENEWED BY\tRENEWAL\tNOTE', ...t.authorities.map(row)]));
  return out.join('\n');
}
