import { expect } from 'chai';
import { filterNode, fitErrorMessage, leastAllocatedScore, numFeasibleNodesToFind, schedulePod, emptyUsage, addUsage, subUsage, type NodeUsage } from '../../components/kube-scheduler/framework.js';
import { milliValue, parseQuantity, QuantityError, value } from '../../components/api/quantity.js';
import type { Node, Pod } from '../../components/api/types.js';

const node = (name: string, cpu: string, memory: string, extra: Partial<Node['spec']> & { labels?: Record<string, string>; ready?: 'True' | 'False' } = {}): Node => ({
  metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}) },
  spec: { ...(extra.unschedulable ? { unschedulable: true } : {}), ...(extra.taints ? { taints: extra.taints } : {}) },
  status: { allocatable: { cpu, memory, pods: '110' }, conditions: [{ type: 'Ready', status: extra.ready ?? 'True' }] },
});

const pod = (name: string, cpu?: string, memory?: string, nodeSelector?: Record<string, string>): Pod => ({
  metadata: { name, namespace: 'default' },
  spec: {
    containers: [{ name: 'c', image: 'nginx', resources: { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } } }],
    ...(nodeSelector ? { nodeSelector } : {}),
  },
});

const usageWith = (...pods: Pod[]): NodeUsage => {
  const u = emptyUsage();
  for (const p of pods) addUsage(u, p);
  return u;
};

describe('kube-scheduler quantities', () => {
  it('parses decimal, binary, milli and exponent suffixes', () => {
    expect(milliValue('100m')).to.equal(100);
    expect(milliValue('1')).to.equal(1000);
    expect(milliValue('0.5')).to.equal(500);
    expect(milliValue('2.5')).to.equal(2500);
    expect(value('1Ki')).to.equal(1024);
    expect(value('128Mi')).to.equal(128 * 2 ** 20);
    expect(value('1Gi')).to.equal(2 ** 30);
    expect(value('1k')).to.equal(1000);
    expect(value('2M')).to.equal(2e6);
    expect(value('1G')).to.equal(1e9);
    expect(value('1e3')).to.equal(1000);
    expect(value('110')).to.equal(110);
    expect(parseQuantity('1.5Gi')).to.equal(1.5 * 2 ** 30);
  });

  it('rounds up as Quantity.Value and MilliValue do', () => {
    expect(value('1.5')).to.equal(2);
    expect(value('100m')).to.equal(1);
    expect(milliValue('0.0001')).to.equal(1);
  });

  it('rejects malformed quantities with the apimachinery wording', () => {
    expect(() => parseQuantity('12Q')).to.throw(QuantityError, /quantities must match the regular expression/);
    expect(() => parseQuantity('abc')).to.throw(QuantityError);
    expect(() => parseQuantity('')).to.throw(QuantityError);
  });
});

describe('kube-scheduler filters', () => {
  it('rejects nodes without room, naming each insufficient resource', () => {
    const n = node('n', '1', '1Gi');
    expect(filterNode(pod('p', '600m', '512Mi'), n, usageWith(pod('a', '500m', '600Mi')))).to.deep.equal(['Insufficient cpu', 'Insufficient memory']);
    expect(filterNode(pod('p', '500m'), n, usageWith(pod('a', '500m')))).to.deep.equal([]);
  });

  it('counts pods against allocatable pods', () => {
    const n: Node = { ...node('n', '4', '4Gi'), status: { allocatable: { cpu: '4', memory: '4Gi', pods: '1' }, conditions: [{ type: 'Ready', status: 'True' }] } };
    expect(filterNode(pod('p'), n, usageWith(pod('a')))).to.deep.equal(['Too many pods']);
  });

  it('ignores requests a pod does not make (zero requests always fit cpu and memory)', () => {
    expect(filterNode(pod('p'), node('n', '0', '0'), emptyUsage())).to.deep.equal([]);
  });

  it('honours unschedulable, readiness, taints and nodeSelector in the real plugin order', () => {
    expect(filterNode(pod('p'), node('n', '1', '1Gi', { unschedulable: true }), emptyUsage())).to.deep.equal(['node(s) were unschedulable']);
    expect(filterNode(pod('p'), node('n', '1', '1Gi', { ready: 'False' }), emptyUsage())).to.deep.equal(['node(s) had untolerated taint {node.kubernetes.io/not-ready: }']);
    expect(filterNode(pod('p'), node('n', '1', '1Gi', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }), emptyUsage()))
      .to.deep.equal(['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }']);
    const tolerant: Pod = { ...pod('p'), spec: { ...pod('p').spec, tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }] } as Pod['spec'] };
    expect(filterNode(tolerant, node('n', '1', '1Gi', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }), emptyUsage())).to.deep.equal([]);
    expect(filterNode(pod('p', undefined, undefined, { disk: 'ssd' }), node('n', '1', '1Gi', { labels: { disk: 'hdd' } }), emptyUsage()))
      .to.deep.equal(["node(s) didn't match Pod's node affinity/selector"]);
    expect(filterNode(pod('p', undefined, undefined, { disk: 'ssd' }), node('n', '1', '1Gi', { labels: { disk: 'ssd' } }), emptyUsage())).to.deep.equal([]);
  });
});

describe('kube-scheduler scoring', () => {
  it('scores LeastAllocated as the mean free fraction of cpu and memory, with non-zero defaults', () => {
    // cpu: (1000-250)/1000 → 75; memory: (1Gi-256Mi)/1Gi → 75.
    expect(leastAllocatedScore(pod('p', '250m', '256Mi'), node('n', '1', '1Gi'), emptyUsage())).to.equal(75);
    // No requests: 100m and 200Mi are assumed. cpu (1000-100)/1000 = 90; memory (1024-200)/1024 = 80.46 → 80; mean 85.
    expect(leastAllocatedScore(pod('p'), node('n', '1', '1Gi'), emptyUsage())).to.equal(85);
  });

  it('picks the least allocated node, breaking ties by name', () => {
    const nodes = [node('node-b', '2', '2Gi'), node('node-a', '2', '2Gi')];
    const busy = new Map([['node-a', usageWith(pod('x', '1', '1Gi'))]]);
    expect(schedulePod(pod('p', '100m', '100Mi'), nodes, (n) => busy.get(n) ?? emptyUsage()).node).to.equal('node-b');
    expect(schedulePod(pod('p', '100m', '100Mi'), nodes, () => emptyUsage()).node).to.equal('node-a');
  });

  it('explains a pod that fits nowhere as FitError does', () => {
    const nodes = [node('node-1', '1', '1Gi'), node('node-2', '1', '1Gi')];
    const r = schedulePod(pod('p', '2'), nodes, () => emptyUsage());
    expect(r.node).to.equal(undefined);
    expect(r.message).to.equal('0/2 nodes are available: 2 Insufficient cpu.');
    const mixed = new Map([['a', ['Insufficient memory', 'Insufficient cpu']], ['b', ['node(s) were unschedulable']], ['c', ['Insufficient cpu']]]);
    expect(fitErrorMessage(3, mixed)).to.equal('0/3 nodes are available: 1 Insufficient memory, 1 node(s) were unschedulable, 2 Insufficient cpu.');
  });
});

describe('kube-scheduler at scale (percentageOfNodesToScore, the NodeInfo cache)', () => {
  it('looks for as many feasible nodes as schedule_one.go numFeasibleNodesToFind says', () => {
    expect([50, 99, 100, 300, 1000, 5000, 10_000].map(numFeasibleNodesToFind)).to.deep.equal([50, 99, 100, 144, 420, 500, 500]);
  });
  it('stops filtering once enough nodes fit, starting where the previous cycle stopped, and says how many it looked at', () => {
    const nodes = Array.from({ length: 300 }, (_, i) => node(`n-${String(i).padStart(3, '0')}`, '4', '8Gi'));
    const first = schedulePod(pod('a'), nodes, () => emptyUsage(), 0);
    expect(first.processed).to.equal(144);
    expect(first.scores.size).to.equal(144);
    expect(first.node).to.equal('n-000');
    const second = schedulePod(pod('b'), nodes, () => emptyUsage(), first.processed);
    expect(second.node).to.equal('n-144');
    // No node fits: all 300 are looked at, and FitError counts them all.
    const none = schedulePod(pod('c', '64'), nodes, () => emptyUsage(), 17);
    expect(none.processed).to.equal(300);
    expect(none.message).to.equal('0/300 nodes are available: 300 Insufficient cpu.');
  });
  it('takes a pod off a node\'s usage exactly as it was added', () => {
    const u = usageWith(pod('x', '250m', '64Mi'), pod('y'));
    subUsage(u, pod('x', '250m', '64Mi'));
    expect(u).to.deep.equal(usageWith(pod('y')));
  });
});
