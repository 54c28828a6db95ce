import { expect } from 'chai';
import { MvccStore, StoreError, type Compare, type WatchBatch } from '../../components/etcd/store.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const s = (x: Buffer): string => x.toString('latin1');
const NONE = Buffer.alloc(0);
const ALL = Buffer.from([0]);

function expectStoreError(fn: () => unknown, code: StoreError['code']): StoreError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(StoreError);
    expect((e as StoreError).code).to.equal(code);
    return e as StoreError;
  }
  expect.fail(`expected StoreError ${code}`);
}

describe('etcd MvccStore', () => {
  it('starts at revision 1 and raises the revision once per write, not per key', () => {
    const st = new MvccStore();
    expect(st.revision).to.equal(1);
    expect(st.put(b('a'), b('1')).revision).to.equal(2);
    const r = st.txn([], [
      { op: 'put', key: b('b'), value: b('1'), lease: 0n, prevKv: false },
      { op: 'put', key: b('c'), value: b('1'), lease: 0n, prevKv: false },
    ], []);
    expect(r.revision).to.equal(3);
    expect(st.range(b('a'), ALL).kvs.map((kv) => kv.modRevision)).to.deep.equal([2, 3, 3]);
  });

  it('keeps create_revision, mod_revision and version per key, and restarts them after a delete', () => {
    const st = new MvccStore();
    st.put(b('k'), b('v1'));
    st.put(b('k'), b('v2'));
    let kv = st.range(b('k'), NONE).kvs[0]!;
    expect([kv.createRevision, kv.modRevision, kv.version, s(kv.value)]).to.deep.equal([2, 3, 2, 'v2']);
    const del = st.deleteRange(b('k'), NONE, { prevKv: true });
    expect(del).to.include({ revision: 4, deleted: 1 });
    expect(s(del.prevKvs![0]!.value)).to.equal('v2');
    st.put(b('k'), b('v3'));
    kv = st.range(b('k'), NONE).kvs[0]!;
    expect([kv.createRevision, kv.modRevision, kv.version]).to.deep.equal([5, 5, 1]);
  });

  it('does not raise the revision for a delete that deletes nothing or a read-only txn', () => {
    const st = new MvccStore();
    st.put(b('a'), b('1'));
    expect(st.deleteRange(b('zzz'), NONE)).to.include({ revision: 2, deleted: 0 });
    expect(st.txn([], [{ op: 'range', key: b('a'), rangeEnd: NONE, options: {} }], []).revision).to.equal(2);
    expect(st.revision).to.equal(2);
  });

  it('ranges over [key, range_end) in byte order, with limit, count, more, keys_only and count_only', () => {
    const st = new MvccStore();
    for (const k of ['/r/b', '/r/a', '/r/c', '/s/x', '/r']) st.put(b(k), b(`v-${k}`));
    const r = st.range(b('/r/'), b('/r0'), { limit: 2 });
    expect(r.kvs.map((kv) => s(kv.key))).to.deep.equal(['/r/a', '/r/b']);
    expect(r).to.include({ count: 3, more: true });
    expect(st.range(b('/r/'), b('/r0'), { keysOnly: true }).kvs.every((kv) => kv.value.length === 0)).to.equal(true);
    const c = st.range(b('/r/'), b('/r0'), { countOnly: true });
    expect(c.kvs).to.have.length(0);
    expect(c.count).to.equal(3);
    expect(st.range(b('/s'), ALL).kvs.map((kv) => s(kv.key))).to.deep.equal(['/s/x']);
    expect(st.range(ALL, ALL).count).to.equal(5);
  });

  it('reads the past at a revision and refuses compacted and future revisions', () => {
    const st = new MvccStore();
    st.put(b('k'), b('one')); // 2
    st.put(b('k'), b('two')); // 3
    st.deleteRange(b('k'), NONE); // 4
    expect(s(st.range(b('k'), NONE, { revision: 2 }).kvs[0]!.value)).to.equal('one');
    expect(s(st.range(b('k'), NONE, { revision: 3 }).kvs[0]!.value)).to.equal('two');
    expect(st.range(b('k'), NONE, { revision: 4 }).kvs).to.have.length(0);
    expect(st.range(b('k'), NONE, { revision: 2 }).revision).to.equal(4);
    expectStoreError(() => st.range(b('k'), NONE, { revision: 5 }), 'FUTURE_REVISION');
    st.compact(3);
    expectStoreError(() => st.range(b('k'), NONE, { revision: 2 }), 'COMPACTED');
    expect(s(st.range(b('k'), NONE, { revision: 3 }).kvs[0]!.value)).to.equal('two');
    const e = expectStoreError(() => st.compact(3), 'COMPACTED');
    expect(e.message).to.equal('etcdserver: mvcc: required revision has been compacted');
    expect(e.grpcCode).to.equal(11);
    expectStoreError(() => st.compact(99), 'FUTURE_REVISION');
  });

  it('keeps the latest state of every key through compaction, but not a key deleted before it', () => {
    const st = new MvccStore();
    st.put(b('live'), b('1')); // 2
    st.put(b('gone'), b('1')); // 3
    st.deleteRange(b('gone'), NONE); // 4
    st.put(b('other'), b('1')); // 5
    st.compact(5);
    expect(st.range(b('a'), ALL).kvs.map((kv) => s(kv.key))).to.deep.equal(['live', 'other']);
    expect(st.range(b('live'), NONE, { revision: 5 }).kvs).to.have.length(1);
  });

  describe('txn', () => {
    const cmp = (key: string, target: Compare['target'], result: Compare['result'], operand: Compare['operand'], rangeEnd: Buffer = NONE): Compare =>
      ({ key: b(key), rangeEnd, target, result, operand });
    const st = new MvccStore();
    before(() => {
      st.put(b('x'), b('m')); // 2
      st.put(b('x'), b('n')); // 3: create 2, mod 3, version 2
      st.put(b('y'), b('a')); // 4
    });
    const cases: Array<[string, Compare, boolean]> = [
      ['MOD EQUAL on the current mod_revision', cmp('x', 'MOD', 'EQUAL', 3), true],
      ['MOD EQUAL on a stale mod_revision', cmp('x', 'MOD', 'EQUAL', 2), false],
      ['MOD EQUAL 0 on an existing key (create-if-absent)', cmp('x', 'MOD', 'EQUAL', 0), false],
      ['MOD EQUAL 0 on an absent key', cmp('nope', 'MOD', 'EQUAL', 0), true],
      ['CREATE GREATER', cmp('x', 'CREATE', 'GREATER', 1), true],
      ['CREATE LESS', cmp('x', 'CREATE', 'LESS', 2), false],
      ['VERSION EQUAL', cmp('x', 'VERSION', 'EQUAL', 2), true],
      ['VERSION NOT_EQUAL', cmp('x', 'VERSION', 'NOT_EQUAL', 2), false],
      ['VALUE EQUAL', cmp('x', 'VALUE', 'EQUAL', b('n')), true],
      ['VALUE LESS (byte order)', cmp('x', 'VALUE', 'LESS', b('o')), true],
      ['VALUE on an absent key always fails', cmp('nope', 'VALUE', 'NOT_EQUAL', b('z')), false],
      ['a range compare holds only if every key matches', cmp('x', 'MOD', 'GREATER', 2, b('z')), true],
      ['a range compare fails if one key does not', cmp('x', 'MOD', 'GREATER', 3, b('z')), false],
    ];
    for (const [name, c, want] of cases) {
      it(`${name} → ${want ? 'success' : 'failure'} branch`, () => {
        const r = st.txn([c], [{ op: 'range', key: b('x'), rangeEnd: NONE, options: {} }], []);
        expect(r.succeeded).to.equal(want);
        expect(r.responses).to.have.length(want ? 1 : 0);
      });
    }

    it('runs the failure branch as one write, and refuses duplicate keys and unknown leases', () => {
      const r = st.txn([cmp('x', 'MOD', 'EQUAL', 0)], [], [
        { op: 'put', key: b('p'), value: b('1'), lease: 0n, prevKv: false },
        { op: 'delete', key: b('y'), rangeEnd: NONE, prevKv: true },
        { op: 'range', key: b('p'), rangeEnd: NONE, options: {} },
      ]);
      expect(r.succeeded).to.equal(false);
      expect(r.revision).to.equal(5);
      const [put, del, read] = r.responses;
      expect(put).to.deep.include({ op: 'put', revision: 5 });
      expect(del).to.deep.include({ op: 'delete', revision: 5, deleted: 1 });
      expect(read?.op === 'range' && read.result.revision).to.equal(5);
      expectStoreError(() => st.txn([], [
        { op: 'put', key: b('d'), value: b('1'), lease: 0n, prevKv: false },
        { op: 'put', key: b('d'), value: b('2'), lease: 0n, prevKv: false },
      ], []), 'DUPLICATE_KEY');
      expectStoreError(() => st.put(b('q'), b('1'), { lease: 12345n }), 'LEASE_NOT_FOUND');
      expect(st.revision).to.equal(5);
    });
  });

  describe('watch', () => {
    it('replays history from the start revision, then delivers live events in order', () => {
      const st = new MvccStore();
      st.put(b('/p/a'), b('1')); // 2
      st.put(b('/q/x'), b('1')); // 3 (outside)
      st.put(b('/p/a'), b('2')); // 4
      const live: WatchBatch[] = [];
      const w = st.watch({ key: b('/p/'), rangeEnd: b('/p0'), startRevision: 3 }, (batch) => live.push(batch));
      expect(w.compacted).to.equal(false);
      if (w.compacted) return;
      expect(w.replay.flatMap((x) => x.events.map((e) => e.kv.modRevision))).to.deep.equal([4]);
      expect(s(w.replay[0]!.events[0]!.prevKv!.value)).to.equal('1');
      st.deleteRange(b('/p/a'), NONE); // 5
      st.put(b('/q/y'), b('1')); // 6 (outside)
      expect(live.map((x) => [x.revision, x.events.map((e) => `${e.type} ${s(e.kv.key)}@${e.kv.modRevision}`)])).to.deep.equal([[5, ['DELETE /p/a@5']]]);
      w.cancel();
      st.put(b('/p/b'), b('1'));
      expect(live).to.have.length(1);
      expect(st.watcherCount).to.equal(0);
    });

    it('refuses a start revision below the compacted one, and accepts the compacted one itself', () => {
      const st = new MvccStore();
      for (let i = 0; i < 5; i++) st.put(b('k'), b(String(i))); // 2..6
      st.compact(4);
      expect(st.watch({ key: b('k'), rangeEnd: NONE, startRevision: 3 }, () => undefined)).to.deep.equal({ compacted: true, compactRevision: 4 });
      const w = st.watch({ key: b('k'), rangeEnd: NONE, startRevision: 4 }, () => undefined);
      expect(w.compacted === false && w.replay.flatMap((x) => x.events.map((e) => e.kv.modRevision))).to.deep.equal([4, 5, 6]);
    });

    it('applies NOPUT / NODELETE filters', () => {
      const st = new MvccStore();
      const got: string[] = [];
      st.watch({ key: b('k'), rangeEnd: NONE, startRevision: 0, noPut: true }, (x) => got.push(...x.events.map((e) => e.type)));
      st.put(b('k'), b('1'));
      st.deleteRange(b('k'), NONE);
      expect(got).to.deep.equal(['DELETE']);
    });
  });

  describe('leases', () => {
    it('deletes the keys of a revoked lease in one revision, and of an expired one', () => {
      let now = 1_000_000;
      const st = new MvccStore({ now: () => now });
      const { id, ttl } = st.grantLease(0n, 1, 2);
      expect(ttl).to.equal(2);
      st.put(b('a'), b('1'), { lease: id });
      st.put(b('b'), b('1'), { lease: id });
      st.put(b('c'), b('1'));
      expect(st.leaseTimeToLive(id)).to.deep.include({ ttl: 2, grantedTtl: 2 });
      now += 1500;
      expect(st.expireLeases()).to.equal(0);
      now += 600;
      const before = st.revision;
      expect(st.expireLeases()).to.equal(1);
      expect(st.revision).to.equal(before + 1);
      expect(st.range(b('a'), ALL).kvs.map((kv) => s(kv.key))).to.deep.equal(['c']);
      expectStoreError(() => st.revokeLease(id), 'LEASE_NOT_FOUND');
      expect(st.leaseTimeToLive(id).ttl).to.equal(-1);
    });

    it('detaches a key from its lease when it is rewritten without one', () => {
      const st = new MvccStore();
      const { id } = st.grantLease(7n, 60);
      expectStoreError(() => st.grantLease(7n, 60), 'LEASE_EXISTS');
      st.put(b('a'), b('1'), { lease: id });
      st.put(b('a'), b('2'));
      st.revokeLease(id);
      expect(s(st.range(b('a'), NONE).kvs[0]!.value)).to.equal('2');
    });
  });
});
