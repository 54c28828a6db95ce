/**
 * Printing helpers shared by the apiserver's Table columns and kubectl's printers, as
 * k8s.io/apimachinery's duration package and pkg/printers/internalversion hold them: ages, a pod's
 * READY and STATUS, and the endpoint lists.
 */
import type { EndpointSlice, Endpoints, Pod } from './types.js';

/** duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    return dy === 0 ? `${Math.trunc(hours / 24 / 365)}y` : `${Math.trunc(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** translateTimestampSince. */
export const age = (timestamp: string | undefined, now: Date): string =>
  timestamp ? humanDuration(now.getTime() - Date.parse(timestamp)) : '<unknown>';

/** printPod's READY and STATUS. */
export function podStatus(p: Pod): { ready: string; status: string; restarts: number } {
  const total = p.spec.containers.length;
  let ready = 0;
  let restarts = 0;
  let reason: string = p.status?.phase ?? 'Pending';
  const podReason = (p.status as { reason?: string } | undefined)?.reason;
  if (podReason) reason = podReason;
  let hasRunning = false;
  for (const c of [...(p.status?.containerStatuses ?? [])].reverse()) {
    restarts += c.restartCount;
    if (c.state.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state.terminated?.reason) reason = c.state.terminated.reason;
    else if (c.state.terminated) reason = `ExitCode:${c.state.terminated.exitCode}`;
    else if (c.ready && c.state.running) { hasRunning = true; ready += 1; }
  }
  if (reason === 'Completed' && hasRunning) {
    const podReady = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    reason = podReady ? 'Running' : 'NotReady';
  }
  if (p.metadata.deletionTimestamp) reason = 'Terminating';
  return { ready: `${ready}/${total}`, status: reason, restarts };
}

/** formatEndpoints: up to three `ip:port`, then ` + N more...`. */
export function formatEndpoints(e: Endpoints): string {
  const subsets = e.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let count = 0;
  let more = false;
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    if (!ss.ports || ss.ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) { if (list.length === max) { more = true; break; } list.push(a.ip); }
      continue;
    }
    for (const port of ss.ports) {
      count += addrs.length;
      for (const a of addrs) { if (list.length === max) { more = true; break; } list.push(`${a.ip}:${port.port}`); }
    }
  }
  const joined = list.join(',');
  return more ? `${joined} + ${count - max} more...` : joined;
}

/** listWithMoreString: up to three items, then ` + N more...`; nothing at all is `<unset>`. */
function listWithMore(items: readonly string[], max = 3): string {
  if (items.length > max) return `${items.slice(0, max).join(',')} + ${items.length - max} more...`;
  return items.length ? items.join(',') : '<unset>';
}

/** formatDiscoveryPorts: each port's number (its name when it has none, `*` when neither). */
export const formatDiscoveryPorts = (s: EndpointSlice): string =>
  listWithMore((s.ports ?? []).map((p) => (p.port !== undefined ? String(p.port) : p.name ?? '*')));

/** formatDiscoveryEndpoints: every address of every endpoint, ready or not. */
export const formatDiscoveryEndpoints = (s: EndpointSlice): string =>
  listWithMore((s.endpoints ?? []).flatMap((e) => e.addresses));
