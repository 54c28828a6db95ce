/**
 * Reading kube-proxy's two outputs back the way a person on the node would: which endpoints back which
 * service address, from `iptables-save -t nat` (follow KUBE-SERVICES / KUBE-NODEPORTS to the KUBE-SVC
 * chain, then each KUBE-SEP chain to its DNAT) and from `ipvsadm -Ln` (each virtual server's real
 * servers). Both give `PROTO ip:port` (ClusterIPs) or `PROTO *:nodePort` → sorted `ip:port` list.
 */

/** From iptables mode's nat table: `TCP 10.96.0.1:443` → DNAT targets; node ports as `TCP *:30080`. */
export function iptablesBackends(natTable: string): Map<string, string[]> {
  const rules = natTable.split('\n').filter((l) => l.startsWith('-A '));
  const chainRules = (chain: string): string[] => rules.filter((l) => l.startsWith(`-A ${chain} `));
  const jump = (l: string): string => /-j (\S+)/.exec(l)?.[1] ?? '';
  const dnats = (svcChain: string): string[] => chainRules(svcChain).map(jump).filter((c) => c.startsWith('KUBE-SEP-'))
    .flatMap((sep) => chainRules(sep).map((l) => / DNAT --to-destination (\S+)/.exec(l)?.[1]).filter((x): x is string => x !== undefined)).sort();
  const out = new Map<string, string[]>();
  for (const l of chainRules('KUBE-SERVICES')) {
    const m = /-d (\S+)\/32 -p (\w+) .* --dport (\d+) -j (KUBE-SVC-\S+)/.exec(l);
    if (m) out.set(`${m[2]!.toUpperCase()} ${m[1]}:${m[3]}`, dnats(m[4]!));
  }
  for (const l of chainRules('KUBE-NODEPORTS')) {
    const m = /-p (\w+) .* --dport (\d+) -j (KUBE-EXT-\S+)/.exec(l);
    if (!m) continue;
    const svc = chainRules(m[3]!).map(jump).find((c) => c.startsWith('KUBE-SVC-'));
    if (svc) out.set(`${m[1]!.toUpperCase()} *:${m[2]}`, dnats(svc));
  }
  return out;
}

/** From `ipvsadm -Ln`: `TCP 10.96.0.1:443` → real servers; virtual servers on `nodeIPs` as `TCP *:port`. */
export function ipvsBackends(ipvsadm: string, nodeIPs: readonly string[] = []): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const l of ipvsadm.split('\n')) {
    const vs = /^(TCP|UDP|SCTP) {2}(\S+):(\d+) \S+/.exec(l);
    if (vs) {
      const key = `${vs[1]} ${nodeIPs.includes(vs[2]!) ? '*' : vs[2]}:${vs[3]}`;
      current = out.get(key) ?? [];
      out.set(key, current);
      continue;
    }
    const rs = /^ {2}-> (\S+)\s+Masq\s+1\s/.exec(l);
    if (rs && current) { current.push(rs[1]!); current.sort(); }
  }
  return out;
}
