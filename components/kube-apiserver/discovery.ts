/**
 * Non-resource documents: /version, discovery (/api, /apis, /api/v1, /apis/<group>/<version>), all
 * generated from the resource table.
 */
import { apiVersionOf, groupVersions, RESOURCES } from '../api/resources.js';
import { KUBERNETES_BUILD, KUBERNETES_GIT_COMMIT, KUBERNETES_VERSION } from '../api/version.js';

export const VERSION_INFO = {
  major: '1',
  minor: KUBERNETES_VERSION.split('.')[1]!,
  gitVersion: KUBERNETES_VERSION,
  gitCommit: KUBERNETES_GIT_COMMIT,
  gitTreeState: 'clean',
  buildDate: KUBERNETES_BUILD.buildDate,
  goVersion: KUBERNETES_BUILD.goVersion,
  compiler: 'gc',
  platform: 'linux/amd64',
} as const;

/** GET /api: APIVersions, with the address clients on the cluster network should use. */
export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions', versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** GET /apis: APIGroupList (one version per group here, so it is also the preferred one). */
export function apiGroupList(remote: readonly { group: string; version: string }[] = []): object {
  const groups = new Map<string, string[]>();
  for (const gv of [...groupVersions(), ...remote]) {
    if (gv.group === '') continue;
    groups.set(gv.group, [...(groups.get(gv.group) ?? []), gv.version]);
  }
  return {
    kind: 'APIGroupList', apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => apiGroup(name, versions)),
  };
}

function apiGroup(name: string, versions: string[]): object {
  const vs = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

/** GET /apis/<group>: APIGroup, or undefined for a group not served. */
export function apiGroupDoc(group: string, remote: readonly { group: string; version: string }[] = []): object | undefined {
  const versions = [...groupVersions(), ...remote].filter((gv) => gv.group === group).map((gv) => gv.version);
  return group !== '' && versions.length ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, versions) } : undefined;
}

/** GET /api/v1, /apis/<group>/<version>: APIResourceList, subresources as `pods/status` entries. */
export function apiResourceList(group: string, version: string): object | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const resources: object[] = [];
  for (const d of defs) {
    resources.push({
      name: d.resource, singularName: d.singular, namespaced: d.namespaced, kind: d.kind, verbs: [...d.verbs],
      ...(d.shortNames ? { shortNames: [...d.shortNames] } : {}),
      ...(d.categories ? { categories: [...d.categories] } : {}),
      ...(d.storage ? { storageVersionHash: Buffer.from(`${apiVersionOf(d)}/${d.kind}`).toString('base64').slice(0, 11) } : {}),
    });
    for (const s of d.subresources) {
      resources.push({
        name: `${d.resource}/${s.name}`, singularName: '', namespaced: d.namespaced, kind: s.kind || d.kind, verbs: [...s.verbs],
        ...(s.group ? { group: s.group, version: s.version } : {}),
      });
    }
  }
  return { kind: 'APIResourceList', ...(group ? { apiVersion: 'v1' } : {}), groupVersion: apiVersionOf({ group, version }), resources };
}
