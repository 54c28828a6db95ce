import { expect } from 'chai';
import { computeSubsets, findPort } from '../../components/kube-controller-manager/endpoints.js';
import {
  fnv32a, newReplicaSetFor, newReplicasForRolling, podTemplateHash, resolveFenceposts, safeEncodeString, sameTemplate, scaleDownOld,
} from '../../components/kube-controller-manager/deployment.js';
import { podFromTemplate, podsToDelete, replicaSetStatus } from '../../components/kube-controller-manager/replicaset.js';
import { matchesSelector, selectorString } from '../../components/api/labels.js';
import type { Deployment, Pod, ReplicaSet, Service } from '../../components/api/types.js';

const mkPod = (name: string, ip: string | undefined, ready: boolean, labels: Record<string, string> = { app: 'web' }, extra: Partial<Pod['status']> = {}): Pod => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}`, labels },
  spec: { nodeName: 'node-1', containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { phase: 'Running', ...(ip ? { podIP: ip } : {}), conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], ...extra },
});

const svc: Service = {
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
};

describe('endpoints computation', () => {
  it('puts ready pods in addresses and not-ready ones in notReadyAddresses, sorted by IP', () => {
    const subsets = computeSubsets(svc, [mkPod('b', '10.244.1.10', true), mkPod('a', '10.244.1.9', true), mkPod('c', '10.244.2.3', false), mkPod('d', undefined, true)]);
    expect(subsets).to.have.length(1);
    expect(subsets[0]?.addresses?.map((a) => a.ip)).to.deep.equal(['10.244.1.9', '10.244.1.10']);
    expect(subsets[0]?.notReadyAddresses?.map((a) => a.ip)).to.deep.equal(['10.244.2.3']);
    expect(subsets[0]?.ports).to.deep.equal([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(subsets[0]?.addresses?.[0]).to.deep.equal({ ip: '10.244.1.9', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } });
  });

  it('resolves numeric, named and defaulted target ports', () => {
    const p = mkPod('a', '10.0.0.1', true);
    expect(findPort(p, { port: 80, targetPort: 9090 })).to.equal(9090);
    expect(findPort(p, { port: 80, targetPort: 'http' })).to.equal(8080);
    expect(findPort(p, { port: 80 })).to.equal(80);
    expect(findPort(p, { port: 80, targetPort: 'nope' })).to.equal(undefined);
  });

  it('skips unselected, terminating and finished pods, and services without a selector', () => {
    const gone: Pod = { ...mkPod('g', '10.0.0.2', true), metadata: { ...mkPod('g', '10.0.0.2', true).metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } };
    const subsets = computeSubsets(svc, [mkPod('x', '10.0.0.1', true, { app: 'db' }), gone, mkPod('f', '10.0.0.3', false, { app: 'web' }, { phase: 'Succeeded' })]);
    expect(subsets).to.deep.equal([]);
    expect(computeSubsets({ ...svc, spec: { ports: svc.spec.ports ?? [] } }, [mkPod('a', '10.0.0.1', true)])).to.deep.equal([]);
  });
});

const rs = (name: string, replicas: number, available: number, created = '2024-01-01T00:00:00Z'): ReplicaSet => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: created },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
  status: { replicas, availableReplicas: available, readyReplicas: available },
});

describe('replicaset logic', () => {
  it('builds pods from the template with generateName and a controller owner reference', () => {
    const p = podFromTemplate(rs('web-abc', 2, 0));
    expect(p.metadata.generateName).to.equal('web-abc-');
    expect(p.metadata.labels).to.deep.equal({ app: 'web' });
    expect(p.metadata.ownerReferences).to.deep.equal([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'uid-web-abc', controller: true, blockOwnerDeletion: true }]);
    expect(p.spec.containers[0]?.image).to.equal('nginx');
  });

  it('deletes unscheduled, then not-ready, then newest pods first', () => {
    const unscheduled: Pod = { ...mkPod('u', undefined, false), spec: { containers: [] }, status: { phase: 'Pending' } };
    const notReady = mkPod('n', '10.0.0.2', false);
    const oldReady: Pod = { ...mkPod('o', '10.0.0.3', true), metadata: { ...mkPod('o', '', true).metadata, creationTimestamp: '2024-01-01T00:00:00Z' } };
    const newReady: Pod = { ...mkPod('y', '10.0.0.4', true), metadata: { ...mkPod('y', '', true).metadata, creationTimestamp: '2024-06-01T00:00:00Z' } };
    expect(podsToDelete([oldReady, newReady, notReady, unscheduled], 3).map((p) => p.metadata.name)).to.deep.equal(['u', 'n', 'y']);
  });

  it('reports replicas, ready and available replicas', () => {
    expect(replicaSetStatus(rs('web', 3, 0), [mkPod('a', '1.1.1.1', true), mkPod('b', '1.1.1.2', false)]))
      .to.include({ replicas: 2, readyReplicas: 1, availableReplicas: 1, fullyLabeledReplicas: 2 });
  });

  it('matches label selectors and prints them as the real one does', () => {
    const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['b', 'a'] }, { key: 'legacy', operator: 'DoesNotExist' as const }] };
    expect(matchesSelector(sel, { app: 'web', tier: 'a' })).to.equal(true);
    expect(matchesSelector(sel, { app: 'web', tier: 'c' })).to.equal(false);
    expect(matchesSelector(sel, { app: 'web', tier: 'a', legacy: '1' })).to.equal(false);
    expect(selectorString(sel)).to.equal('app=web,!legacy,tier in (a,b)');
  });
});

const deploy = (replicas: number, image = 'nginx', strategy?: Deployment['spec']['strategy']): Deployment => ({
  metadata: { name: 'web', namespace: 'default', uid: 'uid-web', generation: 1 },
  spec: {
    replicas, selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
    ...(strategy ? { strategy } : {}),
  },
});

describe('deployment logic', () => {
  it('hashes templates with FNV-32a into the safe alphabet, stable and template-sensitive', () => {
    expect(fnv32a('')).to.equal(0x811c9dc5);
    expect(fnv32a('a')).to.equal(0xe40c292c);
    expect(safeEncodeString('0123')).to.match(/^[bcdfghjklmnpqrstvwxz2456789]{4}$/);
    const h = podTemplateHash(deploy(1).spec.template);
    expect(h).to.equal(podTemplateHash(deploy(3).spec.template));
    expect(h).not.to.equal(podTemplateHash(deploy(1, 'nginx:1.27').spec.template));
    expect(h).not.to.equal(podTemplateHash(deploy(1).spec.template, 1));
  });

  it('names the new ReplicaSet <deployment>-<hash> and adds the hash to labels and selector', () => {
    const r = newReplicaSetFor(deploy(3), 'abc123', 3, 1);
    expect(r.metadata.name).to.equal('web-abc123');
    expect(r.spec.selector.matchLabels).to.deep.equal({ app: 'web', 'pod-template-hash': 'abc123' });
    expect(r.spec.template.metadata?.labels).to.deep.equal({ app: 'web', 'pod-template-hash': 'abc123' });
    expect(r.metadata.annotations?.['deployment.kubernetes.io/revision']).to.equal('1');
    expect(r.metadata.ownerReferences?.[0]).to.include({ kind: 'Deployment', name: 'web', uid: 'uid-web', controller: true });
    expect(sameTemplate(r.spec.template, deploy(3).spec.template)).to.equal(true);
  });

  it('resolves maxSurge up and maxUnavailable down (25% of 10 → 3 and 2)', () => {
    expect(resolveFenceposts(deploy(10))).to.deep.equal({ maxSurge: 3, maxUnavailable: 2 });
    expect(resolveFenceposts(deploy(1, 'x', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } as Deployment['spec']['strategy']))).to.deep.equal({ maxSurge: 0, maxUnavailable: 1 });
  });

  it('rolls: the new ReplicaSet grows within maxSurge, the old shrinks within maxUnavailable', () => {
    const d = deploy(4); // maxSurge 1, maxUnavailable 1
    const old = rs('web-old', 4, 4);
    expect(newReplicasForRolling(d, [old], undefined)).to.equal(1);
    const fresh = { ...rs('web-new', 1, 0), metadata: { ...rs('web-new', 1, 0).metadata, creationTimestamp: '2024-02-01T00:00:00Z' } };
    // 5 total, min available 3, new unavailable 1 → may remove 1 old replica.
    expect(scaleDownOld(d, [old], fresh).get('web-old')).to.equal(3);
    // Once the new pod is available, the new RS may grow to 2 (4 + 1 surge - 3 old).
    const oldAfter = rs('web-old', 3, 3);
    expect(newReplicasForRolling(d, [oldAfter, rs('web-new', 1, 1)], rs('web-new', 1, 1))).to.equal(2);
  });
});
