import { expect } from 'chai';
import { issuePki, type Pki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { runScenario, type RunResult } from '../../sim/scenario.js';
import { REFUSALS, SCENARIOS } from '../../scenarios/index.js';

/** Plays one scenario on its own cluster; returns the result and the narration. */
async function play(pki: Pki, name: string): Promise<{ result: RunResult; text: string }> {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`no scenario ${name}`);
  const lines: string[] = [];
  const result = await runScenario(scenario, {
    pki, write: (l) => lines.push(l),
    startCluster: (p, trace) => new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral' }).start(),
  });
  return { result, text: lines.join('\n') };
}

describe('the refusal scenarios', function () {
  this.timeout(60_000);
  let pki: Pki;
  before(async function () { pki = await issuePki({ nodes: ['node-1', 'node-2'] }); });

  it('are registered: one per refusal of the issue, each with a lesson per step', function () {
    expect(REFUSALS.map((s) => s.name)).to.have.members([
      'refuse-foreign-ca', 'refuse-kubelet-to-etcd', 'refuse-san-mismatch', 'refuse-expired-client', 'refuse-server-cert-as-client',
      'refuse-client-cert-as-server', 'refuse-scheduler-delete-node', 'refuse-proxy-create-pod', 'refuse-node-status-other',
      'refuse-kubelet-secret', 'refuse-kubelet-no-client-cert', 'rogue-kubelet', 'refuse-rbac-escalation',
      'refuse-front-proxy-wrong-ca', 'refuse-requestheader-name', 'refuse-remote-user-spoof', 'refuse-kubelet-self-signed',
    ]);
  });

  // What each scenario must show, beyond "every expectation held": the layer and the reason in its narration.
  const shows: Record<string, readonly (string | RegExp)[]> = {
    'refuse-foreign-ca': ['HTTP 401 (authentication) [UNABLE_TO_VERIFY_LEAF_SIGNATURE]: x509: certificate signed by unknown authority'],
    'refuse-kubelet-to-etcd': ['TLS handshake refused by the server [UNABLE_TO_VERIFY_LEAF_SIGNATURE]: x509: certificate signed by unknown authority'],
    'refuse-san-mismatch': ['TLS handshake refused by the client [ERR_TLS_CERT_ALTNAME_INVALID]: x509: certificate is valid for 10.96.0.1, 127.0.1.1, not 127.0.0.1'],
    'refuse-expired-client': ['[CERT_HAS_EXPIRED]: x509: certificate has expired or is not yet valid', '[CERT_NOT_YET_VALID]: x509: certificate has expired or is not yet valid'],
    'refuse-server-cert-as-client': ['HTTP 401 (authentication) [INVALID_PURPOSE]: x509: certificate specifies an incompatible key usage'],
    'refuse-client-cert-as-server': ['tls: failed to verify certificate: x509: certificate specifies an incompatible key usage'],
    'refuse-scheduler-delete-node': ['HTTP 403 (authorization) as system:kube-scheduler: nodes "node-1" is forbidden: User "system:kube-scheduler" cannot delete resource "nodes" in API group "" at the cluster scope'],
    'refuse-proxy-create-pod': ['HTTP 403 (authorization) as system:kube-proxy: pods is forbidden: User "system:kube-proxy" cannot create resource "pods" in API group "" in the namespace "default"'],
    'refuse-node-status-other': ['HTTP 403 (admission) as system:node:node-1: nodes "node-2" is forbidden: node "node-1" is not allowed to modify node "node-2"'],
    'refuse-kubelet-secret': ["no relationship found between node 'node-1' and this object"],
    'refuse-kubelet-no-client-cert': [/kubectl logs: HTTP 401 .*"reason":"Unauthorized"/],
    'rogue-kubelet': ['tls: failed to verify certificate: x509: certificate signed by unknown authority', /kubectl logs: HTTP 200/],
    'refuse-rbac-escalation': ['HTTP 403 (admission) as jane: rolebindings.rbac.authorization.k8s.io "jane-cluster-admin" is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:',
      /jane lists clusterrolebindings in team-a: HTTP 404 /, 'User "jane" cannot list resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope'],
    'refuse-front-proxy-wrong-ca': ['front proxy (wrong CA): HTTP 401 (authentication) [UNABLE_TO_VERIFY_LEAF_SIGNATURE]: x509: certificate signed by unknown authority'],
    'refuse-requestheader-name': ['aggregator-impostor: HTTP 401 (authentication): [x509: subject with cn=aggregator-impostor is not in the allowed list, x509: certificate signed by unknown authority]'],
    'refuse-remote-user-spoof': ['mallory: HTTP 403 (authorization) as mallory: nodes.metrics.k8s.io is forbidden: User "mallory" cannot list resource "nodes" in API group "metrics.k8s.io" at the cluster scope'],
    'refuse-kubelet-self-signed': [/"Failed to scrape node" err="Get \\"https:\/\/127\.0\.2\.1:\d+\/metrics\/resource\\": tls: failed to verify certificate: x509: certificate signed by unknown authority" node="node-1"/,
      '--kubelet-insecure-tls: kubelet serving certificates are not verified'],
  };

  for (const name of Object.keys(shows)) {
    it(`${name} passes and shows its layer and reason`, async function () {
      const { result, text } = await play(pki, name);
      expect(result.expectations.filter((e) => !e.ok), text).to.deep.equal([]);
      expect(result.ok, text).to.equal(true);
      expect(result.expectations.length).to.be.greaterThan(2);
      for (const s of shows[name]!) {
        if (typeof s === 'string') expect(text).to.include(s);
        else expect(text).to.match(s);
      }
      expect(text).to.match(new RegExp(`^PASS ${name}: \\d+/\\d+ expectations held$`, 'm'));
    });
  }
});
