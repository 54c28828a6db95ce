import { expect } from 'chai';
import { recomputeManagedFields, trackUpdate, type ManagedFieldsEntry, type WriteInfo } from '../../components/kube-apiserver/managed-fields.js';
import { copyJson } from '../../components/kube-apiserver/json.js';

type Rec = Record<string, unknown>;
const entries = (o: Rec): ManagedFieldsEntry[] => (o.metadata as { managedFields?: ManagedFieldsEntry[] }).managedFields ?? [];
const at = (s: string): Date => new Date(`2026-11-30T${s}Z`);
const kubelet = (now: Date, sub?: string): WriteInfo => ({ manager: 'kubelet', apiVersion: 'coordination.k8s.io/v1', now, ...(sub ? { subresource: sub } : {}) });

const lease = (renewTime: string, extra: Rec = {}): Rec => ({
  apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
  metadata: { name: 'node-1', namespace: 'kube-node-lease', uid: 'u1', resourceVersion: '7', ...extra },
  spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime },
});

/** The object after a create by `w`, as stored. */
function created(obj: Rec, w: WriteInfo): Rec {
  const o = copyJson(obj) as Rec;
  trackUpdate(undefined, o, w);
  return o;
}

/** trackUpdate's answer and the full computation's, from the same old and next. */
function both(old: Rec, next: Rec, w: WriteInfo): { fast: Rec; full: Rec } {
  const fast = copyJson(next) as Rec;
  const full = copyJson(next) as Rec;
  trackUpdate(copyJson(old) as Rec, fast, w);
  recomputeManagedFields(copyJson(old) as Rec, full, w);
  return { fast, full };
}

describe('kube-apiserver: managedFields of Update writes (managedFieldsUpdater)', () => {
  it('a Lease renewal by its own manager keeps the FieldsV1 and moves only that manager\'s time', () => {
    const stored = created(lease('2026-11-30T10:00:00.000000Z'), kubelet(at('10:00:00')));
    expect(entries(stored)).to.deep.equal([{
      manager: 'kubelet', operation: 'Update', apiVersion: 'coordination.k8s.io/v1', time: '2026-11-30T10:00:00Z', fieldsType: 'FieldsV1',
      fieldsV1: { 'f:spec': { 'f:holderIdentity': {}, 'f:leaseDurationSeconds': {}, 'f:renewTime': {} } },
    }]);
    // The kubelet sends back what it read, managedFields included, with a new renewTime.
    const next = copyJson(stored) as Rec;
    (next.spec as Rec).renewTime = '2026-11-30T10:00:10.000000Z';
    const { fast, full } = both(stored, next, kubelet(at('10:00:10')));
    expect(entries(fast)).to.deep.equal(entries(full));
    expect(entries(fast)[0]!.time).to.equal('2026-11-30T10:00:10Z');
    expect(entries(fast)[0]!.fieldsV1).to.deep.equal(entries(stored)[0]!.fieldsV1);
  });

  it('a write that changes no field moves no time (the current operation took nothing)', () => {
    const stored = created(lease('2026-11-30T10:00:00.000000Z'), kubelet(at('10:00:00')));
    const { fast, full } = both(stored, copyJson(stored) as Rec, kubelet(at('10:05:00')));
    expect(entries(fast)).to.deep.equal(entries(stored));
    expect(entries(full)).to.deep.equal(entries(stored));
  });

  it('a write that only removes a field takes it from its manager without moving the time', () => {
    const stored = created(lease('2026-11-30T10:00:00.000000Z', { labels: { a: 'b' } }), kubelet(at('10:00:00')));
    const next = copyJson(stored) as Rec;
    delete (next.metadata as Rec).labels;
    const { fast, full } = both(stored, next, kubelet(at('10:05:00')));
    expect(entries(fast)).to.deep.equal(entries(full));
    expect(entries(fast)[0]!.time).to.equal('2026-11-30T10:00:00Z');
    expect(JSON.stringify(entries(fast)[0]!.fieldsV1)).to.not.include('f:a');
  });

  it('a changed field another manager owns is taken from it (the full computation), in managedfields\' order', () => {
    const stored = created(lease('2026-11-30T10:00:00.000000Z'), { manager: 'kube-controller-manager', apiVersion: 'coordination.k8s.io/v1', now: at('09:00:00') });
    const next = copyJson(stored) as Rec;
    (next.spec as Rec).renewTime = '2026-11-30T10:00:10.000000Z';
    const { fast, full } = both(stored, next, kubelet(at('10:00:10')));
    expect(entries(fast)).to.deep.equal(entries(full));
    expect(entries(fast).map((e) => [e.manager, e.time, e.fieldsV1])).to.deep.equal([
      ['kube-controller-manager', '2026-11-30T09:00:00Z', { 'f:spec': { 'f:holderIdentity': {}, 'f:leaseDurationSeconds': {} } }],
      ['kubelet', '2026-11-30T10:00:10Z', { 'f:spec': { 'f:renewTime': {} } }],
    ]);
    // The next renewal: renewTime is the kubelet's alone now, and the other entry stays as it is.
    const again = copyJson(fast) as Rec;
    (again.spec as Rec).renewTime = '2026-11-30T10:00:20.000000Z';
    const second = both(fast, again, kubelet(at('10:00:20')));
    expect(entries(second.fast)).to.deep.equal(entries(second.full));
    expect(entries(second.fast).map((e) => e.time)).to.deep.equal(['2026-11-30T09:00:00Z', '2026-11-30T10:00:20Z']);
  });

  it('agrees with the full computation whatever the write: new fields, other managers, sent managedFields, a subresource', () => {
    const base = created(lease('2026-11-30T10:00:00.000000Z', { labels: { a: 'b' } }), kubelet(at('10:00:00')));
    const other = copyJson(base) as Rec;
    (other.metadata as Rec).annotations = { x: 'y' };
    const withOther = both(base, other, { manager: 'kubectl', apiVersion: 'coordination.k8s.io/v1', now: at('10:01:00') }).full;
    const cases: { name: string; edit: (o: Rec) => void; w: WriteInfo }[] = [
      { name: 'a new field of the same manager', edit: (o) => { (o.spec as Rec).acquireTime = '2026-11-30T10:02:00.000000Z'; }, w: kubelet(at('10:02:00')) },
      { name: 'a field kubectl owns, changed by the kubelet', edit: (o) => { ((o.metadata as Rec).annotations as Rec).x = 'z'; }, w: kubelet(at('10:02:00')) },
      { name: 'renewTime changed by kubectl', edit: (o) => { (o.spec as Rec).renewTime = 'later'; }, w: { manager: 'kubectl', apiVersion: 'coordination.k8s.io/v1', now: at('10:02:00') } },
      { name: 'managedFields sent empty (a reset)', edit: (o) => { (o.metadata as Rec).managedFields = []; (o.spec as Rec).renewTime = 'later'; }, w: kubelet(at('10:02:00')) },
      { name: 'managedFields sent different', edit: (o) => { (o.metadata as Rec).managedFields = entries(base); (o.spec as Rec).renewTime = 'later'; }, w: kubelet(at('10:02:00')) },
      { name: 'managedFields left out', edit: (o) => { delete (o.metadata as Rec).managedFields; (o.spec as Rec).renewTime = 'later'; }, w: kubelet(at('10:02:00')) },
      { name: 'the same change through a subresource', edit: (o) => { (o.spec as Rec).renewTime = 'later'; }, w: kubelet(at('10:02:00'), 'status') },
      { name: 'the same change under another apiVersion', edit: (o) => { (o.spec as Rec).renewTime = 'later'; }, w: { manager: 'kubelet', apiVersion: 'coordination.k8s.io/v1beta1', now: at('10:02:00') } },
    ];
    for (const c of cases) {
      const next = copyJson(withOther) as Rec;
      c.edit(next);
      const { fast, full } = both(withOther, next, c.w);
      expect(entries(fast), c.name).to.deep.equal(entries(full));
    }
  });
});
