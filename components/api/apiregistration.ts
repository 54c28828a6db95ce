/**
 * apiregistration.k8s.io/v1 APIService (k8s.io/kube-aggregator pkg/apis/apiregistration/v1): which
 * server answers for a group/version. Local ones are the apiserver's own; a service-backed one is
 * proxied to that Service by the aggregator, whose availability controller keeps the Available
 * condition.
 */
import type { KubeObject } from './types.js';

export interface APIServiceCondition {
  type: 'Available';
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface APIService extends KubeObject {
  spec: {
    group?: string;
    version?: string;
    service?: { namespace: string; name: string; port?: number };
    /** PEM bundle, base64 in JSON (Go []byte). */
    caBundle?: string;
    insecureSkipTLSVerify?: boolean;
    groupPriorityMinimum: number;
    versionPriority: number;
  };
  status?: { conditions?: APIServiceCondition[] };
}

/** The Available condition, if set. */
export const availableCondition = (s: APIService): APIServiceCondition | undefined => s.status?.conditions?.find((c) => c.type === 'Available');

/** kube-aggregator's table cell: `True`, or `False (FailedDiscoveryCheck)`, or `Unknown`. */
export function availableCell(s: APIService): string {
  const c = availableCondition(s);
  if (!c) return 'Unknown';
  return c.status === 'True' ? 'True' : `${c.status} (${c.reason ?? ''})`;
}
