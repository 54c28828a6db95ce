/**
 * The tour's kube-proxy step when the cluster runs kube-proxy in ipvs mode (`--proxy-mode ipvs`): the
 * same Service and EndpointSlice, shown as the node's tools print ipvs mode's work: the virtual
 * server and its real servers (`ipvsadm -Ln`), the ClusterIP on the dummy interface
 * (`ip addr show kube-ipvs0`), its entry in the KUBE-CLUSTER-IP ipset (`ipset list`) and the
 * iptables rules that match that set instead of a chain per service (`iptables-save`).
 */
import type { Service } from '../components/api/types.js';
import type { IpvsView } from '../components/kube-proxy/index.js';
import type { NodeProxy } from '../sim/nodes.js';
import type { ScenarioContext } from '../sim/scenario.js';
import { waitFor } from '../sim/wait.js';

/** The lines of `ipvsadm -Ln` for one virtual server: its own line and its real servers'. */
export function virtualServerLines(ipvsadm: string, address: string): string[] {
  const lines = ipvsadm.split('\n');
  const start = lines.findIndex((l) => /^(TCP|UDP|SCTP) {2}/.test(l) && l.split(/\s+/)[1] === address);
  if (start < 0) return [];
  const out = [lines[start]!];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith('  -> ')) break;
    out.push(l.trimEnd());
  }
  return out;
}

/** The real servers (`ip:port`) of one virtual server, from `ipvsadm -Ln`. */
export const realServers = (ipvsadm: string, address: string): string[] => virtualServerLines(ipvsadm, address).slice(1).map((l) => l.split(/\s+/)[2] ?? '');

export async function tourIpvs(ctx: ScenarioContext, proxy: NodeProxy, node: string, svc: Service, fromSlice: readonly string[]): Promise<void> {
  const ip = String(svc.spec.clusterIP);
  const port = svc.spec.ports?.[0]?.port ?? 0;
  const vs = `${ip}:${port}`;
  const view = await waitFor<IpvsView>(`kube-proxy on ${node} to program default/web in ipvs`, async () => {
    const v = await proxy.ipvs();
    return v && realServers(v.ipvsadm, vs).length >= 3 ? v : undefined;
  });
  const rules = await proxy.rules();
  ctx.say(ctx.t('tour.proxy.sayIpvs', { node, ip }));
  ctx.say('  # ipvsadm -Ln'); // verbatim: the command
  for (const l of virtualServerLines(view.ipvsadm, vs)) ctx.say(`  ${l}`);
  ctx.say('  # ip addr show kube-ipvs0'); // verbatim: the command
  const inet = view.kubeIpvs0.split('\n').filter((l) => l.includes(`inet ${ip}/32 `));
  for (const l of inet) ctx.say(`  ${l}`);
  ctx.say('  # ipset list KUBE-CLUSTER-IP'); // verbatim: the command
  const member = view.state.ipsets.find((s) => s.name === 'KUBE-CLUSTER-IP')?.entries.find((e) => e === `${ip},tcp:${port}`);
  if (member) ctx.say(`  ${member}`);
  ctx.say('  # iptables-save | grep KUBE-CLUSTER-IP'); // verbatim: the command
  const setRules = rules.split('\n').filter((l) => l.includes('--match-set KUBE-CLUSTER-IP'));
  for (const l of setRules) ctx.say(`  ${l}`);

  ctx.expect(ctx.t('tour.proxy.expectVirtualServer'), virtualServerLines(view.ipvsadm, vs)[0] === `TCP  ${vs} rr` && inet.length === 1 && member !== undefined,
    `${virtualServerLines(view.ipvsadm, vs)[0] ?? 'no virtual server'}; kube-ipvs0 ${inet.length ? 'holds' : 'lacks'} ${ip}`);
  const real = realServers(view.ipvsadm, vs).sort();
  const masq = virtualServerLines(view.ipvsadm, vs).slice(1).every((l) => / Masq +1 /.test(l));
  ctx.expect(ctx.t('tour.proxy.expectRealServers'), real.length === 3 && real.join() === [...fromSlice].sort().join() && masq, `real servers ${real.join(', ')}; slice ${fromSlice.join(', ')}`);
  ctx.expect(ctx.t('tour.proxy.expectNoChains'), !rules.includes('KUBE-SVC-') && !rules.includes('KUBE-SEP-') && setRules.length > 0,
    `${setRules.length} rules match KUBE-CLUSTER-IP`);
}
