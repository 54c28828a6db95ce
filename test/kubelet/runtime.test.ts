import { expect } from 'chai';
import { forbiddenMessage, requestAttributes, subjectAccessReview } from '../../components/kubelet/auth.js';
import { initialNode, machineIds, nodeCapacity, nodeLease } from '../../components/kubelet/node-status.js';
import {
  formatLogs, imageID, KubeletError, normalizeImage, PodIpAllocator, qosClass, rfc3339Micro, runningPodStatus, startPod,
} from '../../components/kubelet/pod-runtime.js';
import type { Pod } from '../../components/api/types.js';

const pod = (name: string, extra: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { namespace: 'default', name, uid: `uid-${name}` },
  spec: {
    nodeName: 'node-1',
    containers: [{ name: 'web', image: 'nginx:1.25', command: ['nginx'], args: ['-g', 'daemon off;'], ports: [{ containerPort: 80 }] }, { name: 'side', image: 'busybox' }],
    ...extra,
  },
});

describe('kubelet pod IP allocation (host-local IPAM)', () => {
  it('hands out .2, .3, ... from the pod CIDR, never the network, gateway or broadcast address', () => {
    const a = new PodIpAllocator('10.244.1.0/24');
    expect(a.gateway).to.equal('10.244.1.1');
    expect(a.allocate('a')).to.equal('10.244.1.2');
    expect(a.allocate('b')).to.equal('10.244.1.3');
    expect(a.allocate('a'), 'the same pod keeps its address').to.equal('10.244.1.2');
    expect(a.inUse).to.equal(2);
  });

  it('continues after the last address reserved, and reuses a freed one only after wrapping round', () => {
    const a = new PodIpAllocator('10.244.2.0/29'); // .2 .. .6
    expect(['a', 'b', 'c'].map((o) => a.allocate(o))).to.deep.equal(['10.244.2.2', '10.244.2.3', '10.244.2.4']);
    a.release('a');
    expect(a.allocate('d')).to.equal('10.244.2.5');
    expect(a.allocate('e')).to.equal('10.244.2.6');
    expect(a.allocate('f'), 'wrapped round to the freed address').to.equal('10.244.2.2');
    expect(() => a.allocate('g')).to.throw(KubeletError, /no IP addresses available in range set: 10\.244\.2\.2-10\.244\.2\.6/)
      .with.property('code', 'IP_EXHAUSTED');
  });

  it('rejects a CIDR that is not IPv4', () => {
    expect(() => new PodIpAllocator('10.244.1.0')).to.throw(KubeletError).with.property('code', 'BAD_CIDR');
    expect(() => new PodIpAllocator('fd00::/64')).to.throw(KubeletError).with.property('code', 'BAD_CIDR');
  });
});

describe('kubelet simulated containers', () => {
  const t0 = new Date('2024-05-01T10:00:00.250Z');

  it('normalizes image references as containerd reports them', () => {
    expect(normalizeImage('nginx')).to.equal('docker.io/library/nginx:latest');
    expect(normalizeImage('nginx:1.25')).to.equal('docker.io/library/nginx:1.25');
    expect(normalizeImage('bitnami/redis')).to.equal('docker.io/bitnami/redis:latest');
    expect(normalizeImage('registry.k8s.io/pause:3.9')).to.equal('registry.k8s.io/pause:3.9');
    expect(imageID('nginx:1.25')).to.match(/^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
  });

  it('builds a Running status: pod IP, host IP, ready containers with containerd IDs, all conditions True', () => {
    const running = startPod(pod('a'), '10.244.1.2', t0);
    const s = runningPodStatus(running, '127.0.2.1');
    expect(s).to.include({ phase: 'Running', podIP: '10.244.1.2', hostIP: '127.0.2.1', startTime: '2024-05-01T10:00:00Z', qosClass: 'BestEffort' });
    expect(s.podIPs).to.deep.equal([{ ip: '10.244.1.2' }]);
    expect(s.conditions?.map((c) => `${c.type}=${c.status}`)).to.have.members(['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True']);
    expect(s.containerStatuses).to.have.length(2);
    const web = s.containerStatuses![0]!;
    expect(web).to.include({ name: 'web', ready: true, started: true, restartCount: 0, image: 'docker.io/library/nginx:1.25' });
    expect(web.containerID).to.match(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(web.state.running?.startedAt).to.equal('2024-05-01T10:00:00Z');
    expect(web.containerID, 'each container has its own ID').to.not.equal(s.containerStatuses![1]!.containerID);
    expect(startPod(pod('a'), '10.244.1.2', t0).containers[0]!.containerID, 'IDs are deterministic').to.equal(web.containerID);
  });

  it('derives the QoS class from requests and limits', () => {
    const limits = { cpu: '100m', memory: '64Mi' };
    expect(qosClass(pod('g', { containers: [{ name: 'c', image: 'x', resources: { limits } }] }))).to.equal('Guaranteed');
    expect(qosClass(pod('b', { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '100m' } } }] }))).to.equal('Burstable');
  });

  it('keeps a few deterministic log lines per container; tailLines and timestamps as kubectl logs asks', () => {
    const running = startPod(pod('a'), '10.244.1.2', t0);
    const web = running.containers[0]!;
    expect(formatLogs(web.logs)).to.equal([
      'Starting web (image docker.io/library/nginx:1.25)',
      "Command: nginx -g 'daemon off;'",
      'Listening on 10.244.1.2:80/TCP',
      'web is ready',
      '',
    ].join('\n'));
    expect(formatLogs(running.containers[1]!.logs)).to.include('Command: (image entrypoint)');
    expect(formatLogs(web.logs, { tailLines: 1 })).to.equal('web is ready\n');
    expect(formatLogs(web.logs, { tailLines: 0 })).to.equal('');
    expect(formatLogs(web.logs, { tailLines: 1, timestamps: true })).to.equal('2024-05-01T10:00:00.253000000Z web is ready\n');
  });
});

describe('kubelet node object and lease', () => {
  const now = new Date('2024-05-01T10:00:00.123456Z');

  it('registers a Ready node with its labels, pod CIDR, addresses, real kubelet port and capacity', () => {
    const node = initialNode({ nodeName: 'node-1', nodeIP: '127.0.2.1', podCIDR: '10.244.1.0/24', port: 41234, capacity: { cpu: '2', memory: '4Gi', pods: '110' }, machine: machineIds('node-1') }, now, now);
    expect(node.metadata.labels).to.include({ 'kubernetes.io/hostname': 'node-1', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' });
    expect(node.spec).to.deep.equal({ podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] });
    expect(node.status?.addresses).to.deep.equal([{ type: 'InternalIP', address: '127.0.2.1' }, { type: 'Hostname', address: 'node-1' }]);
    expect(node.status?.daemonEndpoints?.kubeletEndpoint.Port).to.equal(41234);
    expect(node.status?.nodeInfo?.kubeletVersion).to.match(/^v1\.32\./);
    // cAdvisor's machine facts, which the OpenAPI schema requires: the machine's own IDs stay, the boot ID is new at every boot.
    expect(node.status?.nodeInfo?.machineID).to.match(/^[0-9a-f]{32}$/);
    expect(node.status?.nodeInfo?.systemUUID).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const again = machineIds('node-1');
    expect(again.machineID).to.equal(node.status?.nodeInfo?.machineID);
    expect(again.systemUUID).to.equal(node.status?.nodeInfo?.systemUUID);
    expect(again.bootID).to.not.equal(node.status?.nodeInfo?.bootID);
    expect(machineIds('node-2').machineID).to.not.equal(again.machineID);
    expect(node.status?.capacity).to.deep.equal({ cpu: '2', memory: '4194304Ki', pods: '110' });
    expect(node.status?.allocatable?.memory, 'minus the 100Mi hard eviction threshold').to.equal('4091904Ki');
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).to.include({ status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: '2024-05-01T10:00:00Z' });
    expect(nodeCapacity({ cpu: '4', memory: 'lots', pods: '10' }).capacity.memory, 'an unparseable quantity is passed through').to.equal('lots');
  });

  it('holds a Lease in kube-node-lease named after the node, owned by its Node, renewTime in microseconds', () => {
    const lease = nodeLease('node-1', 40, now, { uid: 'u-1' });
    expect(lease.metadata).to.deep.include({ name: 'node-1', namespace: 'kube-node-lease' });
    expect(lease.metadata.ownerReferences).to.deep.equal([{ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: 'u-1' }]);
    expect(lease.spec).to.deep.equal({ holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2024-05-01T10:00:00.123000Z' });
    expect(rfc3339Micro(now)).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});

describe('kubelet API authorization attributes (server/auth.go)', () => {
  it('maps method to verb and path to subresource; containerLogs, pods and spec are nodes/proxy', () => {
    expect(requestAttributes('GET', '/stats/summary', 'node-1')).to.deep.equal({ verb: 'get', resource: 'nodes', subresource: 'stats', name: 'node-1' });
    expect(requestAttributes('GET', '/metrics', 'n').subresource).to.equal('metrics');
    expect(requestAttributes('GET', '/metrics/cadvisor', 'n').subresource).to.equal('metrics');
    expect(requestAttributes('GET', '/logs/syslog', 'n').subresource).to.equal('log');
    expect(requestAttributes('GET', '/logsx', 'n').subresource, 'only whole path segments count').to.equal('proxy');
    expect(requestAttributes('GET', '/containerLogs/default/a/web', 'n').subresource).to.equal('proxy');
    expect(requestAttributes('GET', '/spec/', 'n').subresource).to.equal('proxy');
    expect(requestAttributes('POST', '/exec/default/a/web', 'n').verb).to.equal('create');
    expect(requestAttributes('DELETE', '/pods', 'n').verb).to.equal('delete');
  });

  it('words the 403 as the kubelet does and builds the SubjectAccessReview it posts', () => {
    const a = requestAttributes('GET', '/pods', 'node-1');
    expect(forbiddenMessage('system:kube-scheduler', a)).to.equal('Forbidden (user=system:kube-scheduler, verb=get, resource=nodes, subresource=proxy)');
    expect(subjectAccessReview('u', ['g'], a).spec).to.deep.equal({
      user: 'u', groups: ['g'], resourceAttributes: { verb: 'get', group: '', version: 'v1', resource: 'nodes', subresource: 'proxy', name: 'node-1' },
    });
  });
});
