import { expect } from 'chai';
import { issuePki, type Pki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { runScenario, type RunResult } from '../../sim/scenario.js';
import { SCENARIOS } from '../../scenarios/index.js';
import type { Trace } from '../../components/client/trace.js';

async function play(pki: Pki, afterStart?: (c: Cluster) => Promise<void>): Promise<{ result: RunResult; text: string }> {
  const scenario = SCENARIOS.find((s) => s.name === 'exec');
  expect(scenario, 'scenario exec is registered').to.not.equal(undefined);
  const lines: string[] = [];
  const result = await runScenario(scenario!, {
    pki, write: (l) => lines.push(l),
    startCluster: async (p: Pki, trace: Trace) => {
      const c = await new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral' }).start();
      await afterStart?.(c);
      return c;
    },
  });
  return { result, text: lines.join('\n') };
}

const held = (r: RunResult, what: RegExp): boolean | undefined => r.expectations.find((x) => what.test(x.what))?.ok;

describe('the exec scenario', function () {
  this.timeout(120_000);
  let pki: Pki;
  before(async () => { pki = await issuePki({ nodes: ['node-1', 'node-2'] }); });

  it('crosses both hops with their identities, and shows both refusals with the deciding server\'s reason', async () => {
    const { result, text } = await play(pki);
    expect(result.expectations.filter((e) => !e.ok), text).to.deep.equal([]);
    expect(result.ok).to.equal(true);
    expect(held(result, /^the apiserver authorized kubernetes-admin for get on pods\/exec/)).to.equal(true);
    expect(held(result, /^the kubelet authorized kube-apiserver-kubelet-client for create on nodes\/proxy/)).to.equal(true);
    expect(held(result, /^the message is RBAC's$/)).to.equal(true);
    expect(text).to.include('Forbidden (user=system:node:node-2, verb=create, resource=nodes, subresource=proxy)');
    expect(text).to.match(/kube-apiserver\s+kubelet \(node-1\)\s+kube-apiserver-kubelet-client \(kubernetes\)/);
  });

  it('fails when the refusal does not happen (a cluster where "dev" may exec)', async () => {
    const { result } = await play(pki, async (c) => {
      const admin = c.client('admin.conf');
      const rbac = 'rbac.authorization.k8s.io';
      await admin.create(`/apis/${rbac}/v1/clusterrolebindings`, {
        apiVersion: `${rbac}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'dev-admin' },
        roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ apiGroup: rbac, kind: 'User', name: 'dev' }],
      });
    });
    expect(result.ok).to.equal(false);
    expect(held(result, /^the upgrade is refused with 403 Forbidden$/)).to.equal(false);
    expect(held(result, /^the container answers its hostname/)).to.equal(true);
  });
});
