import { expect } from 'chai';
import type { Deployment, ReplicaSet } from '../../components/api/types.js';
import { calculateStatus, rolloutStatus, setCondition, stuckRecheckMs } from '../../components/kube-controller-manager/deployment-status.js';
import { replicaSetStatus } from '../../components/kube-controller-manager/replicaset.js';

const T0 = new Date('2024-06-01T10:00:00Z');
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);

const deploy = (status?: Deployment['status'], replicas = 3): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', generation: 1 },
  spec: { replicas, progressDeadlineSeconds: 600, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [] } }, strategy: { type: 'RollingUpdate' } },
  ...(status ? { status } : {}),
});
const rs = (name: string, spec: number, have: number, available: number): ReplicaSet => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: 'default' },
  spec: { replicas: spec, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [] } } },
  status: { replicas: have, ...(available ? { readyReplicas: available, availableReplicas: available } : {}) },
});

describe('deployment controller status (sync.go calculateStatus, progress.go syncRolloutStatus)', () => {
  it('omits zero counts and says Available False with MinimumReplicasUnavailable while fewer than replicas - maxUnavailable are available', () => {
    const s = calculateStatus([rs('web-1', 3, 0, 0)], rs('web-1', 3, 0, 0), deploy(), 0, T0);
    expect(s).to.deep.equal({
      observedGeneration: 1, unavailableReplicas: 3,
      conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: '2024-06-01T10:00:00Z', lastTransitionTime: '2024-06-01T10:00:00Z' }],
    });
  });

  it('goes NewReplicaSetCreated → ReplicaSetUpdated → NewReplicaSetAvailable, keeping Progressing\'s transition time while it stays True', () => {
    const created = { type: 'Progressing' as const, status: 'True' as const, reason: 'NewReplicaSetCreated', message: 'Created new replica set "web-1"', lastUpdateTime: '2024-06-01T10:00:00Z', lastTransitionTime: '2024-06-01T10:00:00Z' };
    const s1 = rolloutStatus([rs('web-1', 3, 3, 1)], rs('web-1', 3, 3, 1), deploy({ conditions: [created] }), 0, at(2));
    const p1 = s1.conditions?.find((c) => c.type === 'Progressing');
    expect(p1).to.deep.equal({ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "web-1" is progressing.', lastUpdateTime: '2024-06-01T10:00:02Z', lastTransitionTime: '2024-06-01T10:00:00Z' });
    expect(s1.conditions?.map((c) => c.type), 'Progressing moves behind Available').to.deep.equal(['Available', 'Progressing']);
    const s2 = rolloutStatus([rs('web-1', 3, 3, 3)], rs('web-1', 3, 3, 3), deploy(s1), 0, at(5));
    expect(s2.conditions).to.deep.equal([
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: '2024-06-01T10:00:05Z', lastTransitionTime: '2024-06-01T10:00:05Z' },
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "web-1" has successfully progressed.', lastUpdateTime: '2024-06-01T10:00:05Z', lastTransitionTime: '2024-06-01T10:00:00Z' },
    ]);
    expect(s2).to.include({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }).and.not.have.property('unavailableReplicas');
    // A resync of a complete rollout changes nothing.
    expect(rolloutStatus([rs('web-1', 3, 3, 3)], rs('web-1', 3, 3, 3), deploy(s2), 0, at(60))).to.deep.equal(s2);
  });

  it('times out with ProgressDeadlineExceeded when nothing moves for progressDeadlineSeconds, and rechecks at the deadline', () => {
    const updated = { type: 'Progressing' as const, status: 'True' as const, reason: 'ReplicaSetUpdated', message: 'ReplicaSet "web-1" is progressing.', lastUpdateTime: '2024-06-01T10:00:00Z', lastTransitionTime: '2024-06-01T10:00:00Z' };
    const stuck = deploy({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, unavailableReplicas: 3, conditions: [updated] });
    const before = rolloutStatus([rs('web-1', 3, 3, 0)], rs('web-1', 3, 3, 0), stuck, 0, at(599));
    expect(before.conditions?.find((c) => c.type === 'Progressing')?.reason).to.equal('ReplicaSetUpdated');
    expect(stuckRecheckMs(stuck, before, at(599))).to.equal(2000);
    const after = rolloutStatus([rs('web-1', 3, 3, 0)], rs('web-1', 3, 3, 0), stuck, 0, at(601));
    expect(after.conditions?.find((c) => c.type === 'Progressing')).to.deep.equal({
      type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-1" has timed out progressing.',
      lastUpdateTime: '2024-06-01T10:10:01Z', lastTransitionTime: '2024-06-01T10:10:01Z',
    });
  });

  it('SetDeploymentCondition: the same status and reason change nothing; a new reason keeps the transition time', () => {
    const s = { conditions: [{ type: 'Available' as const, status: 'True' as const, reason: 'A', lastUpdateTime: 'u0', lastTransitionTime: 't0' }] };
    setCondition(s, { type: 'Available', status: 'True', reason: 'A', lastUpdateTime: 'u1', lastTransitionTime: 't1' });
    expect(s.conditions[0]).to.include({ lastUpdateTime: 'u0', lastTransitionTime: 't0' });
    setCondition(s, { type: 'Available', status: 'True', reason: 'B', lastUpdateTime: 'u2', lastTransitionTime: 't2' });
    expect(s.conditions[0]).to.include({ reason: 'B', lastUpdateTime: 'u2', lastTransitionTime: 't0' });
  });

  it('a ReplicaSet whose pods cannot be created reports ReplicaFailure (FailedCreate), the Deployment copies it, and both drop it once creation works', () => {
    const failing = rs('web-1', 3, 0, 0);
    const status = replicaSetStatus(failing, [], new Error('pods "web-1-" is forbidden: exceeded quota'), T0);
    expect(status.conditions).to.deep.equal([{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "web-1-" is forbidden: exceeded quota', lastTransitionTime: '2024-06-01T10:00:00Z' }]);
    const withFailure: ReplicaSet = { ...failing, status };
    const d = rolloutStatus([withFailure], withFailure, deploy(), 0, at(1));
    expect(d.conditions?.find((c) => c.type === 'ReplicaFailure')).to.deep.include({ status: 'True', reason: 'FailedCreate', lastUpdateTime: '2024-06-01T10:00:00Z' });
    expect(replicaSetStatus(withFailure, []).conditions, 'cleared when manageReplicas succeeds').to.equal(undefined);
    expect(rolloutStatus([failing], failing, deploy(d), 0, at(2)).conditions?.map((c) => c.type)).to.not.include('ReplicaFailure');
  });
});
