/**
 * Every object the apiserver serves, of every kind it serves, validates against Kubernetes' own OpenAPI
 * schema (kubernetes-models' validators, generated from it): after the tour and after the rotate-ca
 * lifecycle scenario, every resource of every listable kind discovery names is listed and validated,
 * and so is every watch event's object seen while the scenario ran.
 */
import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { createCsr } from '../../pki/x509.js';
import { issuePki, type Pki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { runScenario } from '../../sim/scenario.js';
import { SCENARIOS } from '../../scenarios/index.js';
import type { KubeClient, Watch } from '../../components/client/kube-client.js';
import { collectionPath, modelFor, servedKinds, validateEverything, validateObject, type Failure, type ServedKind } from './schema.js';

/**
 * One object of each kind a scenario may leave with none, made the way a user would (the apiserver
 * defaults the rest), so that no served kind goes unvalidated.
 */
const FIXTURES: Record<string, (ns: string) => object> = {
  'v1 Secret': (ns) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'schema-check', namespace: ns }, stringData: { k: 'v' } }),
  'v1 ConfigMap': (ns) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'schema-check', namespace: ns }, data: { k: 'v' } }),
  'policy/v1 PodDisruptionBudget': (ns) => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'schema-check', namespace: ns }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'none' } } } }),
  'certificates.k8s.io/v1 CertificateSigningRequest': () => ({
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'schema-check' },
    spec: { signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], request: csrRequest() },
  }),
};
/** A PKCS#10 request for CN=schema-check, PEM then base64 as the CSR's spec.request carries it. */
function csrRequest(): string {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = createCsr({ cn: 'schema-check', o: [] }, { dns: [], ip: [] }, key);
  const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE REQUEST-----\n`;
  return Buffer.from(pem).toString('base64');
}

interface Seen { events: number; failures: Failure[]; errors: string[] }

/** A watch on every served kind from now on; each event's object is validated as it arrives. */
function watchEverything(client: KubeClient, kinds: readonly ServedKind[], seen: Seen): { watches: Watch[]; pending: Promise<void>[] } {
  const pending: Promise<void>[] = [];
  const watches = kinds.filter((k) => k.verbs.includes('watch')).map((k) => {
    const w = client.watch(collectionPath(k), {}, (e) => {
      if (e.type === 'BOOKMARK') return;
      if (e.type === 'ERROR') { seen.errors.push(`${k.resource}: ${JSON.stringify(e.object)}`); return; }
      seen.events++;
      pending.push(validateObject(e.object, `watch ${e.type}`).then((f) => { if (f) seen.failures.push(f); }));
    });
    void w.done.catch((err: Error) => seen.errors.push(`${k.resource}: ${err.message}`));
    return w;
  });
  return { watches, pending };
}

async function ensureOneOfEach(client: KubeClient, kinds: readonly ServedKind[]): Promise<void> {
  for (const k of kinds) {
    const fixture = FIXTURES[`${k.apiVersion} ${k.kind}`];
    if (!fixture) continue;
    const list = await client.request<{ items: unknown[] }>('GET', collectionPath(k));
    if (list.items.length > 0) continue;
    const base = collectionPath(k);
    const path = k.namespaced ? base.replace(new RegExp(`/${k.resource}$`), `/namespaces/default/${k.resource}`) : base;
    await client.request('POST', path, fixture('default'));
  }
}

async function checkScenario(name: string, pki: Pki): Promise<{ counts: Map<string, number>; seen: Seen; kinds: ServedKind[] }> {
  const seen: Seen = { events: 0, failures: [], errors: [] };
  let watching: { watches: Watch[]; pending: Promise<void>[] } | undefined;
  let admin: KubeClient | undefined;
  let kinds: ServedKind[] = [];
  let listed: { failures: Failure[]; counts: Map<string, number> } | undefined;
  const lines: string[] = [];
  const result = await runScenario(SCENARIOS.find((s) => s.name === name)!, {
    pki, write: (l) => lines.push(l),
    startCluster: async (p, trace) => {
      const cluster = await new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral' }).start();
      admin = cluster.client('super-admin.conf', 'schema check');
      kinds = await servedKinds(admin);
      watching = watchEverything(admin, kinds, seen);
      return cluster;
    },
    beforeStop: async (cluster) => {
      if (!admin) return;
      // A fresh client: the scenario may have rotated the CA the first one trusts (its watches keep their connections).
      const now = cluster.client('super-admin.conf', 'schema check (list)');
      try {
        await ensureOneOfEach(now, kinds);
        listed = await validateEverything(now, kinds);
      } finally {
        now.close();
        admin.close();
      }
      await Promise.all(watching?.pending ?? []);
    },
  });
  expect(result.ok, lines.join('\n')).to.equal(true);
  expect(listed, 'the objects were listed').to.not.equal(undefined);
  expect(seen.errors, 'no watch broke').to.deep.equal([]);
  expect([...listed!.failures, ...seen.failures]).to.deep.equal([]);
  return { counts: listed!.counts, seen, kinds };
}

describe('every served object validates against Kubernetes\' OpenAPI schema (kubernetes-models)', function () {
  this.timeout(240_000);
  let pki: Pki;
  before(async () => { pki = await issuePki({ nodes: ['node-1', 'node-2'] }); });

  it('names a kubernetes-models class for every kind discovery lists, and refuses what breaks the schema', async () => {
    for (const [apiVersion, kind] of [['v1', 'Node'], ['apps/v1', 'Deployment'], ['rbac.authorization.k8s.io/v1', 'ClusterRole'], ['v1', 'ComponentStatus']] as const) {
      expect(await modelFor(apiVersion, kind), `${apiVersion} ${kind}`).to.be.a('function');
    }
    const bad = await validateObject({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, status: { nodeInfo: { kubeletVersion: 'v1.32.0' } } } as never, 'probe');
    expect(bad?.error).to.match(/data\/status\/nodeInfo must have required property machineID/);
    expect((await validateObject({ apiVersion: 'v1', kind: 'NoSuchKind', metadata: { name: 'x' } }, 'probe'))?.error).to.equal('kubernetes-models has no v1 NoSuchKind');
  });

  for (const scenario of ['tour', 'rotate-ca']) {
    it(`${scenario}: every listed object and every watch event's object is schema-valid, at least one of every kind`, async () => {
      const { counts, seen, kinds } = await checkScenario(scenario, pki);
      for (const k of kinds) expect(await modelFor(k.apiVersion, k.kind), `a model for ${k.apiVersion} ${k.kind}`).to.be.a('function');
      const empty = [...counts].filter(([, n]) => n === 0).map(([k]) => k);
      expect(empty, 'kinds with nothing to validate (add a FIXTURE)').to.deep.equal([]);
      // How many arrive before the watches close depends on the machine's load (144 on a quiet machine, 47
      // seen at load 13); what matters is that events were validated at all, and each was.
      expect(seen.events, 'watch events were seen and validated').to.be.greaterThan(20);
    });
  }
});
