import { expect } from 'chai';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MvccStore } from '../../components/etcd/store.js';
import { Wal, WalError } from '../../components/etcd/wal.js';
import { silentLogger } from '../../sim/logger.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const NONE = Buffer.alloc(0);
const logger = silentLogger();

/** Opens `dir` into a fresh store (a restart). */
async function reopen(dir: string, snapshotCount?: number): Promise<{ store: MvccStore; wal: Wal; recovery: Awaited<ReturnType<typeof Wal.open>>['recovery'] }> {
  const store = new MvccStore();
  const { wal, recovery } = await Wal.open(dir, store, { logger, ...(snapshotCount ? { snapshotCount } : {}) });
  return { store, wal, recovery };
}

const value = (st: MvccStore, k: string): string | undefined => st.range(b(k), NONE).kvs[0]?.value.toString('latin1');

async function segments(dir: string): Promise<string[]> {
  return (await fs.readdir(path.join(dir, 'wal'))).sort();
}

describe('embedded etcd: write-ahead log and snapshots', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'wal-test-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('recovers every acknowledged write, with its revisions, leases and history, after a restart', async () => {
    const a = await reopen(dir);
    expect(a.recovery).to.include({ revision: 1, snapshot: false, records: 0 });
    const lease = a.store.grantLease(0n, 60);
    a.store.put(b('/k/1'), b('one'));
    a.store.put(b('/k/1'), b('uno'));
    a.store.put(b('/k/2'), b('two'), { lease: lease.id });
    a.store.deleteRange(b('/k/1'), NONE);
    a.store.put(b('/k/3'), b('\u00ff\u0000bytes'));
    await a.wal.durable();
    const before = a.store.exportState();
    await a.wal.close();

    const r = await reopen(dir);
    expect(r.recovery).to.include({ revision: 6, records: 6 });
    expect(r.store.exportState()).to.deep.equal(before);
    expect(value(r.store, '/k/1')).to.equal(undefined);
    expect(value(r.store, '/k/3')).to.equal('\u00ff\u0000bytes');
    expect(r.store.range(b('/k/1'), NONE, { revision: 3 }).kvs[0]).to.include({ version: 2, createRevision: 2, modRevision: 3 });
    // The lease came back and still owns its key: revoking it deletes /k/2.
    expect(r.store.leaseTimeToLive(lease.id).keys.map((k) => k.toString())).to.deep.equal(['/k/2']);
    r.store.revokeLease(lease.id);
    expect(value(r.store, '/k/2')).to.equal(undefined);
    // A watch from an old revision replays the history written before the restart.
    const w = r.store.watch({ key: b('/k/'), rangeEnd: b('/k0'), startRevision: 2 }, () => undefined);
    expect(w.compacted === false && w.replay.flatMap((x) => x.events.map((e) => `${e.type}@${e.kv.modRevision}`)))
      .to.deep.equal(['PUT@2', 'PUT@3', 'PUT@4', 'DELETE@5', 'PUT@6', 'DELETE@7']);
    if (!w.compacted) w.cancel();
    await r.wal.close();
  });

  it('acknowledges concurrent writes in revision order once a group commit has synced them', async () => {
    const a = await reopen(dir);
    const acks: number[] = [];
    const writes = Array.from({ length: 50 }, (_, i) => {
      const { revision } = a.store.put(b(`/c/${i}`), b(String(i)));
      return a.wal.durable().then(() => acks.push(revision));
    });
    await Promise.all(writes);
    expect(acks).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 2));
    await a.wal.close();
    const r = await reopen(dir);
    expect(r.store.range(b('/c/'), b('/c0')).count).to.equal(50);
    await r.wal.close();
  });

  it('drops a torn last record (a crash mid-write) and keeps everything before it', async () => {
    const a = await reopen(dir);
    a.store.put(b('/t/1'), b('kept'));
    a.store.put(b('/t/2'), b('torn'));
    await a.wal.durable();
    await a.wal.close();
    const [seg] = await segments(dir);
    const file = path.join(dir, 'wal', seg!);
    const size = (await fs.stat(file)).size;
    await fs.truncate(file, size - 5);

    const r = await reopen(dir);
    expect(r.recovery.torn).to.deep.equal({ file, offset: (await fs.stat(file)).size });
    expect(r.recovery.revision).to.equal(2);
    expect(value(r.store, '/t/1')).to.equal('kept');
    expect(value(r.store, '/t/2')).to.equal(undefined);
    // Writing on continues at the next revision, and survives the next restart.
    r.store.put(b('/t/3'), b('after'));
    await r.wal.durable();
    await r.wal.close();
    const again = await reopen(dir);
    expect(again.recovery.revision).to.equal(3);
    expect(again.recovery.torn).to.equal(undefined);
    expect(value(again.store, '/t/3')).to.equal('after');
    await again.wal.close();
  });

  it('refuses a corrupt record in the middle of the log with one line naming the file and offset', async () => {
    const a = await reopen(dir);
    for (let i = 0; i < 3; i++) a.store.put(b(`/m/${i}`), b('value'));
    await a.wal.durable();
    await a.wal.close();
    const [seg] = await segments(dir);
    const file = path.join(dir, 'wal', seg!);
    const data = await fs.readFile(file);
    data[12] = data[12]! ^ 0xff; // a byte in the first record's payload
    await fs.writeFile(file, data);

    const err = await reopen(dir).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(WalError);
    expect((err as WalError).code).to.equal('CORRUPT');
    expect((err as WalError).file).to.equal(file);
    expect((err as Error).message).to.equal(`${file}: corrupt record at offset 0 (checksum mismatch); the log cannot be replayed past it`);
    expect((err as Error).message).not.to.contain('\n');
  });

  it('snapshots after --snapshot-count records and after a compaction, dropping old segments and compacted values from disk', async () => {
    const a = await reopen(dir, 10);
    for (let i = 0; i < 25; i++) a.store.put(b('/s/k'), b(`v${i}-${'x'.repeat(100)}`));
    await a.wal.durable();
    await a.wal.close();
    expect((await segments(dir)).length).to.be.at.most(2);
    const r = await reopen(dir, 10);
    expect(r.recovery.snapshot).to.equal(true);
    expect(r.recovery.revision).to.equal(26);
    expect(r.recovery.records).to.be.below(10);

    r.store.compact(26);
    await r.wal.durable();
    await r.wal.close();
    const onDisk = Buffer.concat(await Promise.all([path.join(dir, 'snapshot'), ...(await segments(dir)).map((s) => path.join(dir, 'wal', s))].map((f) => fs.readFile(f))));
    expect(onDisk.includes(Buffer.from(b(`v24-${'x'.repeat(100)}`).toString('base64')))).to.equal(true);
    expect(onDisk.includes(Buffer.from(b(`v23-${'x'.repeat(100)}`).toString('base64')))).to.equal(false);
    const c = await reopen(dir, 10);
    expect(c.store.compactRevision).to.equal(26);
    expect(() => c.store.range(b('/s/k'), NONE, { revision: 25 })).to.throw('required revision has been compacted');
    expect(c.store.watch({ key: b('/s/k'), rangeEnd: NONE, startRevision: 20 }, () => undefined)).to.deep.equal({ compacted: true, compactRevision: 26 });
    await c.wal.close();
  });

  it('writes the snapshot through an exclusive new file, never through a symlink planted at its temporary name', async () => {
    const victim = path.join(dir, 'victim');
    await fs.writeFile(victim, 'untouched');
    const a = await reopen(dir, 1000);
    await fs.symlink(victim, path.join(dir, 'snapshot.tmp'));
    a.store.put(b('/x'), b('1'));
    a.store.compact(2); // snapshots now
    await a.wal.durable();
    await a.wal.close();
    expect(await fs.readFile(victim, 'utf8')).to.equal('untouched');
    expect((await fs.lstat(path.join(dir, 'snapshot'))).isFile()).to.equal(true);
    expect(await fs.lstat(path.join(dir, 'snapshot.tmp')).then(() => 'present', (e: NodeJS.ErrnoException) => e.code)).to.equal('ENOENT');
  });
});
