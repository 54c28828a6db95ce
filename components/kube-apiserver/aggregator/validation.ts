/**
 * ValidateAPIService (k8s.io/kube-aggregator pkg/apis/apiregistration/validation): the name is
 * `<version>.<group>` (the legacy `v1.` for the core group), the priorities are in range, and a
 * service-backed APIService either carries a caBundle or says insecureSkipTLSVerify, never both.
 */
import type { KubeObject } from '../../api/types.js';
import { invalid } from '../../api/errors.js';
import { groupResource, type ResourceDef } from '../../api/resources.js';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

export function validateAPIService(def: ResourceDef, obj: KubeObject & { spec?: unknown }): void {
  const name = obj.metadata.name ?? '';
  const spec = isRec(obj.spec) ? obj.spec : {};
  const group = typeof spec.group === 'string' ? spec.group : '';
  const version = typeof spec.version === 'string' ? spec.version : '';
  const errs: { field: string; message: string }[] = [];
  const want = `${version}.${group}`;
  if (name !== want) errs.push({ field: 'metadata.name', message: `Invalid value: "${name}": must be \`spec.version+"."+spec.group\`: "${want}"` });
  if (version === '') errs.push({ field: 'spec.version', message: 'Required value' });
  const gpm = spec.groupPriorityMinimum;
  if (typeof gpm !== 'number' || gpm <= 0 || gpm > 20000) errs.push({ field: 'spec.groupPriorityMinimum', message: `Invalid value: ${JSON.stringify(gpm ?? 0)}: must be positive and less than 20000` });
  const vp = spec.versionPriority;
  if (typeof vp !== 'number' || vp <= 0 || vp > 1000) errs.push({ field: 'spec.versionPriority', message: `Invalid value: ${JSON.stringify(vp ?? 0)}: must be positive and less than 1000` });
  if (isRec(spec.service)) {
    if (!spec.service.namespace) errs.push({ field: 'spec.service.namespace', message: 'Required value' });
    if (!spec.service.name) errs.push({ field: 'spec.service.name', message: 'Required value' });
    const port = spec.service.port ?? 443;
    if (typeof port !== 'number' || port < 1 || port > 65535) errs.push({ field: 'spec.service.port', message: `Invalid value: ${JSON.stringify(port)}: must be between 1 and 65535, inclusive` });
    if (spec.insecureSkipTLSVerify === true && typeof spec.caBundle === 'string' && spec.caBundle !== '') {
      errs.push({ field: 'spec.insecureSkipTLSVerify', message: 'Invalid value: true: may not be true if caBundle is present' });
    }
  } else {
    if (spec.insecureSkipTLSVerify === true) errs.push({ field: 'spec.insecureSkipTLSVerify', message: 'Invalid value: true: must be false if service is nil' });
    if (typeof spec.caBundle === 'string' && spec.caBundle !== '') errs.push({ field: 'spec.caBundle', message: 'Invalid value: "<omitted>": must be empty if service is nil' });
  }
  if (errs.length) throw invalid(groupResource(def), def.kind, name, errs);
}

/** The registry strategy: defaults (service port 443), validation, and a new object's empty status. */
export function prepareAPIService(def: ResourceDef, obj: KubeObject & { spec?: unknown; status?: unknown }, creating: boolean): void {
  if (isRec(obj.spec) && isRec(obj.spec.service) && obj.spec.service.port === undefined) obj.spec.service.port = 443;
  validateAPIService(def, obj);
  if (creating) obj.status = {};
}
