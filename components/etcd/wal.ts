/**
 * The embedded etcd's durability: a write-ahead log and snapshots in a data directory, as etcd's
 * `wal` and `snap` packages keep them (here as JSON records, not raft entries):
 *
 *   DIR/wal/<seq, 16 hex digits>.wal   segments of framed records, appended in order
 *   DIR/snapshot                       the whole store at the start of segment `walSeq`
 *
 * A record is framed as `[u32 length][u32 crc32][JSON payload]` (little-endian). Every change the store
 * makes reaches `append` synchronously (the store's journal); a write is acknowledged only once
 * `durable()` resolves, after the records up to it have been written and fdatasync'ed. Appends made
 * while a sync is in flight form the next batch (group commit: one fsync for many writes).
 *
 * Recovery reads the snapshot, then replays every segment from `walSeq` on. A torn last record (a
 * crash mid-write: a short header, a short payload, or a bad checksum on the very last record) is
 * dropped and the segment truncated before it; any other bad record is a `WalError` naming the file
 * and offset, because what follows it cannot be trusted. Each start writes to a fresh segment.
 *
 * A snapshot is taken after `snapshotCount` records (etcd's --snapshot-count, 10000 in kubeadm) and
 * after every compaction, so compacted values leave the disk too: the state is captured at one point
 * in the record stream, the current segment is sealed there, the snapshot is written to `snapshot.tmp`
 * (created exclusively, never through a symlink), fsynced and renamed over `snapshot`, and the older
 * segments are removed.
 */
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from 'pino';
import type { JournalRecord, MvccStore, StoreState } from './store.js';
import { KubeSimError } from '../../pki/errors.js';

export type WalErrorCode = 'CORRUPT' | 'IO';

export class WalError extends KubeSimError<WalErrorCode> {
  readonly file: string;
  constructor(code: WalErrorCode, file: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.file = file;
  }
}

export interface WalOptions {
  readonly logger: Logger;
  /** Records between snapshots; default 10000 (etcd's --snapshot-count as kubeadm sets it). */
  readonly snapshotCount?: number;
}

export interface Recovery {
  /** The store's revision after recovery (1: nothing was there). */
  readonly revision: number;
  /** Whether a snapshot was read. */
  readonly snapshot: boolean;
  /** Records replayed from the log. */
  readonly records: number;
  /** A torn last record that was dropped: the file and the offset it was cut at. */
  readonly torn?: { readonly file: string; readonly offset: number };
}

const SNAPSHOT = 'snapshot';
const SNAPSHOT_TMP = 'snapshot.tmp';
const SEGMENT = /^([0-9a-f]{16})\.wal$/;
/** Create exclusively, write only, never through a symlink. */
const CREATE_EXCL = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

const segmentName = (seq: number): string => `${seq.toString(16).padStart(16, '0')}.wal`;

function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, 8);
  return out;
}

type Parsed = { readonly kind: 'ok'; readonly payload: Buffer; readonly next: number } | { readonly kind: 'torn' } | { readonly kind: 'corrupt'; readonly why: string };

/** Reads the frame at `off`: its payload, or whether it is a torn tail or a corrupt record. */
function parseFrame(data: Buffer, off: number): Parsed {
  const left = data.length - off;
  if (left < 8) return { kind: 'torn' };
  const len = data.readUInt32LE(off);
  const sum = data.readUInt32LE(off + 4);
  if (len === 0 && sum === 0 && data.subarray(off).every((b) => b === 0)) return { kind: 'torn' }; // a zero-filled tail
  if (8 + len > left) return { kind: 'torn' };
  const payload = data.subarray(off + 8, off + 8 + len);
  if (crc32(payload) !== sum) return off + 8 + len === data.length ? { kind: 'torn' } : { kind: 'corrupt', why: 'checksum mismatch' };
  return { kind: 'ok', payload, next: off + 8 + len };
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  let off = 0;
  while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
}

interface Waiter { readonly upto: number; resolve(): void; reject(e: Error): void }

type Task =
  | { readonly kind: 'batch'; readonly bufs: Buffer[]; readonly upto: number }
  | { readonly kind: 'snapshot'; readonly state: StoreState; readonly seq: number };

export class Wal {
  private readonly dir: string;
  private readonly walDir: string;
  private readonly store: MvccStore;
  private readonly logger: Logger;
  private readonly snapshotCount: number;
  private fh: FileHandle;
  private seq: number;
  /** The segment the next snapshot starts. */
  private nextSeq: number;
  private pending: Buffer[] = [];
  private readonly tasks: Task[] = [];
  private appended = 0;
  private synced = 0;
  private sinceSnapshot = 0;
  private waiters: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private kickScheduled = false;
  private failed: Error | undefined;
  private closed = false;

  private constructor(dir: string, store: MvccStore, fh: FileHandle, seq: number, options: WalOptions) {
    this.dir = dir;
    this.walDir = path.join(dir, 'wal');
    this.store = store;
    this.fh = fh;
    this.seq = seq;
    this.nextSeq = seq + 1;
    this.logger = options.logger;
    this.snapshotCount = options.snapshotCount ?? 10_000;
  }

  /**
   * Opens `dir` (made, 0700, if missing). With `recover` (an empty store), first loads the snapshot
   * and replays the log into `store`. Then starts a new segment and becomes the store's journal.
   */
  static async open(dir: string, store: MvccStore, options: WalOptions & { recover?: boolean }): Promise<{ wal: Wal; recovery: Recovery }> {
    const walDir = path.join(dir, 'wal');
    await fs.mkdir(walDir, { recursive: true, mode: 0o700 });
    await fs.rm(path.join(dir, SNAPSHOT_TMP), { force: true }); // a snapshot a crash interrupted
    let recovery: Recovery = { revision: store.revision, snapshot: false, records: 0 };
    let walSeq = 0;
    const snapFile = path.join(dir, SNAPSHOT);
    if (options.recover ?? true) {
      let snapshot = false;
      const data = await fs.readFile(snapFile).catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return undefined; throw e; });
      if (data) {
        const f = parseFrame(data, 0);
        if (f.kind !== 'ok' || f.next !== data.length) throw new WalError('CORRUPT', snapFile, `${snapFile}: corrupt snapshot (${f.kind === 'corrupt' ? f.why : 'truncated'}); restore it from a backup or remove the data directory`);
        const snap = JSON.parse(f.payload.toString('utf8')) as { walSeq: number; state: StoreState };
        store.importState(snap.state);
        walSeq = snap.walSeq;
        snapshot = true;
      }
      const { records, torn } = await replaySegments(walDir, walSeq, store);
      recovery = { revision: store.revision, snapshot, records, ...(torn ? { torn } : {}) };
      if (torn) options.logger.warn({ file: torn.file, offset: torn.offset }, 'dropped a torn record at the end of the write-ahead log');
    }
    const seqs = await segmentSeqs(walDir);
    const seq = Math.max(walSeq, (seqs[seqs.length - 1] ?? -1) + 1);
    const fh = await fs.open(path.join(walDir, segmentName(seq)), CREATE_EXCL, 0o600);
    await fsyncDir(walDir);
    const wal = new Wal(dir, store, fh, seq, options);
    store.journal = (r) => wal.append(r);
    return { wal, recovery };
  }

  /** Records one change (called by the store, synchronously, in order). */
  append(record: JournalRecord): void {
    if (this.closed) throw new Error('wal: closed');
    this.pending.push(frame(Buffer.from(JSON.stringify(record), 'utf8')));
    this.appended++;
    this.sinceSnapshot++;
    if (record.t === 'c' || this.sinceSnapshot >= this.snapshotCount) this.snapshotNow();
    this.kick();
  }

  /** Resolves once every record appended so far is on disk (written and fdatasync'ed). */
  durable(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.synced >= this.appended) return Promise.resolve();
    const upto = this.appended;
    return new Promise((resolve, reject) => {
      this.waiters.push({ upto, resolve, reject });
      this.kick();
    });
  }

  /** Writes what is pending, then closes the segment; the store keeps working in memory only. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.store.journal) this.store.journal = undefined;
    await this.durable().catch(() => undefined);
    await this.flushing;
    this.closed = true;
    await this.fh.close().catch(() => undefined);
  }

  /** Seals the current segment here and queues a snapshot of the state at this point. */
  private snapshotNow(): void {
    this.tasks.push({ kind: 'batch', bufs: this.pending, upto: this.appended });
    this.pending = [];
    this.tasks.push({ kind: 'snapshot', state: this.store.exportState(), seq: this.nextSeq++ });
    this.sinceSnapshot = 0;
  }

  private kick(): void {
    if (this.flushing || this.kickScheduled || this.failed) return;
    // Writes made in the same turn of the event loop go out in one batch.
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      if (!this.flushing) this.flushing = this.loop().finally(() => { this.flushing = undefined; if (this.pending.length > 0 || this.tasks.length > 0) this.kick(); });
    });
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        if (this.tasks.length === 0) {
          if (this.pending.length === 0) return;
          this.tasks.push({ kind: 'batch', bufs: this.pending, upto: this.appended });
          this.pending = [];
        }
        const task = this.tasks.shift()!;
        if (task.kind === 'batch') {
          if (task.bufs.length > 0) {
            await writeAll(this.fh, Buffer.concat(task.bufs));
            await this.fh.datasync();
          }
          this.synced = Math.max(this.synced, task.upto);
          const done = this.waiters.filter((w) => w.upto <= this.synced);
          this.waiters = this.waiters.filter((w) => w.upto > this.synced);
          for (const w of done) w.resolve();
        } else {
          await this.writeSnapshot(task.state, task.seq);
        }
      }
    } catch (cause) {
      // etcd stops on a WAL write or fsync failure; here every waiting and later write fails with it.
      const err = new WalError('IO', path.join(this.walDir, segmentName(this.seq)), `write-ahead log ${path.join(this.walDir, segmentName(this.seq))}: ${(cause as Error).message}`, { cause });
      this.failed = err;
      this.logger.fatal({ err: err.message }, 'write-ahead log failed; no write is acknowledged from now on');
      for (const w of this.waiters.splice(0)) w.reject(err);
    }
  }

  /** A new segment `seq`, then the snapshot that names it as where replay starts, then old segments go. */
  private async writeSnapshot(state: StoreState, seq: number): Promise<void> {
    await this.fh.close();
    this.fh = await fs.open(path.join(this.walDir, segmentName(seq)), CREATE_EXCL, 0o600);
    this.seq = seq;
    await fsyncDir(this.walDir);
    const tmp = path.join(this.dir, SNAPSHOT_TMP);
    await fs.rm(tmp, { force: true }); // rm removes a planted symlink itself, never its target
    const fh = await fs.open(tmp, CREATE_EXCL, 0o600);
    try {
      await writeAll(fh, frame(Buffer.from(JSON.stringify({ walSeq: seq, state }), 'utf8')));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path.join(this.dir, SNAPSHOT));
    await fsyncDir(this.dir);
    for (const old of await segmentSeqs(this.walDir)) if (old < seq) await fs.rm(path.join(this.walDir, segmentName(old)), { force: true });
    this.logger.debug({ revision: state.rev, compactRevision: state.compactRev, walSeq: seq }, 'saved snapshot');
  }
}

async function segmentSeqs(walDir: string): Promise<number[]> {
  const names = await fs.readdir(walDir);
  return names.map((n) => SEGMENT.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => parseInt(m[1]!, 16)).sort((a, b) => a - b);
}

async function replaySegments(walDir: string, fromSeq: number, store: MvccStore): Promise<{ records: number; torn?: { file: string; offset: number } }> {
  const seqs = await segmentSeqs(walDir);
  let records = 0;
  let torn: { file: string; offset: number } | undefined;
  for (const [i, seq] of seqs.entries()) {
    const file = path.join(walDir, segmentName(seq));
    if (seq < fromSeq) { await fs.rm(file, { force: true }); continue; } // older than the snapshot
    const data = await fs.readFile(file);
    const last = i === seqs.length - 1;
    let off = 0;
    while (off < data.length) {
      const f = parseFrame(data, off);
      if (f.kind === 'torn' && last) {
        await fs.truncate(file, off);
        torn = { file, offset: off };
        break;
      }
      if (f.kind !== 'ok') {
        throw new WalError('CORRUPT', file, `${file}: corrupt record at offset ${off} (${f.kind === 'corrupt' ? f.why : 'truncated record before the last segment'}); the log cannot be replayed past it`);
      }
      let record: JournalRecord;
      try {
        record = JSON.parse(f.payload.toString('utf8')) as JournalRecord;
        store.replay(record);
      } catch (e) {
        throw new WalError('CORRUPT', file, `${file}: corrupt record at offset ${off} (${(e as Error).message}); the log cannot be replayed past it`, { cause: e });
      }
      records++;
      off = f.next;
    }
  }
  return { records, ...(torn ? { torn } : {}) };
}
