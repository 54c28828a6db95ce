/**
 * `npm run pki -- init DIR [--nodes a,b] [--key-algorithm rsa-2048] [--kubelet-serving ca|self-signed]`
 * `npm run pki -- show DIR`
 * `npm run pki -- check DIR`
 * `npm run pki -- check-expiration DIR`   (kubeadm certs check-expiration, byte for byte)
 * `npm run pki -- renew DIR all|NAME...`   (kubeadm certs renew)
 * `npm run pki -- timeline DIR [--format json]`   (which flow fails first, and on which day)
 *
 * Bad input is one line on stderr naming the file and the fault, and a non-zero exit; never a stack trace.
 */
import { parseArgs } from 'node:util';
import { PkiError } from '../pki/errors.js';
import { inspect, kubeadmDate, residual, table, type Inspection, type LeafInfo } from '../pki/inspect.js';
import { KEY_ALGORITHMS, type KeyAlgorithm, type KubeletServingMode } from '../pki/spec.js';
import { checkExpiration, renderExpiration, renderRenew, renewCertificates } from '../pki/renew.js';
import { initPki } from '../pki/store.js';
import { renderTimeline, timeline } from '../pki/timeline.js';
import { tolerateClosedStdout } from './stdio.js';

const USAGE = `usage: npm run pki -- <command> DIR [options]
  init DIR   make kubeadm's certificate set under DIR (keeps valid files, makes missing ones)
             --nodes node-1,node-2   worker nodes (default node-1,node-2)
             --key-algorithm ${KEY_ALGORITHMS.join('|')}   (default rsa-2048)
             --kubelet-serving ca|self-signed   who signs kubelet serving certs (default ca)
  show DIR   the trust tree: each CA and what it signed, who uses each certificate for what
  check DIR  expiry (as kubeadm certs check-expiration) and wiring faults; exit 1 on any fault
  check-expiration DIR   kubeadm certs check-expiration's output for DIR
  renew DIR all|NAME...  re-sign leaves with their CA and new keys, keeping CN, O, SANs and usages (CAs untouched)
  timeline DIR [--format text|json]   every certificate's expiry and renewal window (kubelet ones included),
             and which flow fails first and on which day if nobody renews by hand`;

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { nodes: { type: 'string' }, 'key-algorithm': { type: 'string' }, 'kubelet-serving': { type: 'string' }, format: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, dir, ...rest] = positionals;
  if (values.help || command === undefined) { out(USAGE); return command === undefined && !values.help ? 2 : 0; }
  if (dir === undefined) throw new PkiError('BAD_ARGUMENT', `${command}: missing DIR\n${USAGE}`);
  if (command === 'renew') {
    if (rest.length === 0) throw new PkiError('BAD_ARGUMENT', `renew: name what to renew after DIR: all, or certificate names (e.g. apiserver admin.conf)`);
    out(renderRenew(await renewCertificates(dir, rest)));
    return 0;
  }
  if (rest.length > 0) throw new PkiError('BAD_ARGUMENT', `${command}: unexpected argument "${rest[0]}"`);
  switch (command) {
    case 'init': {
      const nodes = values.nodes === undefined ? undefined : values.nodes.split(',').map((n) => n.trim());
      if (nodes?.some((n) => n === '')) throw new PkiError('BAD_ARGUMENT', `--nodes "${values.nodes}": empty node name`);
      const alg = values['key-algorithm'];
      if (alg !== undefined && !KEY_ALGORITHMS.includes(alg as KeyAlgorithm)) {
        throw new PkiError('BAD_ARGUMENT', `--key-algorithm "${alg}": not one of ${KEY_ALGORITHMS.join(', ')}`);
      }
      const serving = values['kubelet-serving'];
      if (serving !== undefined && serving !== 'ca' && serving !== 'self-signed') {
        throw new PkiError('BAD_ARGUMENT', `--kubelet-serving "${serving}": must be ca or self-signed`);
      }
      const r = await initPki(dir, {
        ...(nodes ? { nodes } : {}), ...(alg ? { keyAlgorithm: alg as KeyAlgorithm } : {}),
        ...(serving ? { kubeletServing: serving as KubeletServingMode } : {}),
      });
      const made = r.created.filter((f) => f !== 'plan.json').sort();
      for (const f of made) out(`[certs] Generated ${f}`);
      if (r.kept.length > 0) out(`[certs] Using the existing ${r.kept.length} files (present and valid)`);
      out(`[certs] ${made.length} files written, ${r.kept.length} kept, under ${dir} (keys 0600)`);
      return 0;
    }
    case 'show':
      out(renderTree(await inspect(dir)));
      return 0;
    case 'timeline': {
      const format = values.format ?? 'text';
      if (format !== 'text' && format !== 'json') throw new PkiError('BAD_ARGUMENT', `--format "${format}": must be text or json`);
      const t = timeline(await inspect(dir));
      out(format === 'json' ? JSON.stringify(t, null, 2) : renderTimeline(t));
      return 0;
    }
    case 'check-expiration':
      out(renderExpiration(await checkExpiration(dir)));
      return 0;
    case 'check': {
      const i = await inspect(dir);
      out(renderCheck(i));
      return i.faults.length > 0 ? 1 : 0;
    }
    default:
      throw new PkiError('BAD_ARGUMENT', `unknown command "${command}"\n${USAGE}`);
  }
}

const eku = (l: LeafInfo): string => l.details.extKeyUsage.join('+') || '(none)';
const sans = (l: LeafInfo): string => [...l.details.sans.dns.map((d) => `DNS:${d}`), ...l.details.sans.ip.map((i) => `IP:${i}`)].join(', ');
const subject = (l: { details: LeafInfo['details'] }): string =>
  [`CN=${l.details.subject.cn}`, ...l.details.subject.o.map((o) => `O=${o}`)].join(', ');

export function renderTree(i: Inspection): string {
  const lines: string[] = [`Trust tree of ${i.dir}`, ''];
  const groups = [...i.cas.map((ca) => ({ ca, leaves: i.leaves.filter((l) => l.ca === ca) })), { ca: undefined, leaves: i.leaves.filter((l) => !l.ca) }];
  for (const { ca, leaves } of groups) {
    if (!ca && leaves.length === 0) continue;
    lines.push(ca
      ? `${ca.name}  (${ca.file}, CN=${ca.details.subject.cn}, CA, expires ${kubeadmDate(ca.notAfter)}, ${residual(ca.notAfter, i.now)})`
      : 'not signed by any CA in this directory (self-signed or foreign)');
    leaves.forEach((l, idx) => {
      const last = idx === leaves.length - 1;
      const bar = last ? '    ' : '│   ';
      lines.push(`${last ? '└── ' : '├── '}${l.file}  ${subject(l)}`);
      lines.push(`${bar}    EKU ${eku(l)}${sans(l) ? `; SANs ${sans(l)}` : ''}; expires ${kubeadmDate(l.notAfter)} (${residual(l.notAfter, i.now)})`);
      for (const u of l.role?.use ?? []) lines.push(`${bar}    used by ${u.component} as ${u.as} towards ${u.towards}`);
      if (!l.role) lines.push(`${bar}    role not recognised (not a kubeadm name or identity)`);
    });
    lines.push('');
  }
  if (i.faults.length > 0) lines.push(`${i.faults.length} fault(s): run "npm run pki -- check ${i.dir}"`);
  return lines.join('\n').trimEnd();
}

export function renderCheck(i: Inspection): string {
  // kubeadm's names (etcd/server → etcd-server); a file outside kubeadm's layout shows its own path.
  const name = (l: LeafInfo): string => {
    const file = l.file.replace(/ \(client-certificate-data\)$/, '').slice(i.pkiPrefix.length && l.file.startsWith(i.pkiPrefix) ? i.pkiPrefix.length : 0);
    const role = l.role?.name;
    if (role === undefined) return file;
    const inLayout = file === role || file === `${role}.crt` || file === `${role.replace(/kubelet$/, 'pki/kubelet')}.crt`;
    const kubeadmName = role.startsWith('etcd/') ? role.replace('/', '-') : role;
    return inLayout ? kubeadmName : `${file} (${kubeadmName})`;
  };
  const leafRows = [...i.leaves].sort((a, b) => name(a).localeCompare(name(b)))
    .map((l) => [name(l), kubeadmDate(l.notAfter), residual(l.notAfter, i.now), l.ca?.name ?? (l.cert.checkIssued(l.cert) ? '(self-signed)' : '(unknown)'), 'no']);
  const caRows = i.cas.map((c) => [c.name, kubeadmDate(c.notAfter), residual(c.notAfter, i.now), 'no']);
  const parts = [
    table([['CERTIFICATE', 'EXPIRES', 'RESIDUAL TIME', 'CERTIFICATE AUTHORITY', 'EXTERNALLY MANAGED'], ...leafRows]),
    '',
    table([['CERTIFICATE AUTHORITY', 'EXPIRES', 'RESIDUAL TIME', 'EXTERNALLY MANAGED'], ...caRows]),
    '',
  ];
  if (i.faults.length === 0) {
    parts.push(`wiring: ok — ${i.leaves.length} certificates chain to the CA their role needs, with the usages and SANs it needs; keys match and are 0600`);
  } else {
    for (const f of i.faults) parts.push(`FAULT ${f.file}: ${f.fault}`);
    parts.push(`${i.faults.length} fault(s) in ${i.leaves.length + i.cas.length} certificates`);
  }
  return parts.join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '');
if (isMain) {
  tolerateClosedStdout();
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    if (err instanceof PkiError) process.stderr.write(`pki: ${err.message}\n`);
    else if (err instanceof Error && 'code' in err && String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) process.stderr.write(`pki: ${err.message}\n${USAGE}\n`);
    else process.stderr.write(`pki: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  });
}
