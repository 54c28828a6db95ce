import { waitFor } from '../../sim/wait.js';
import { expect } from 'chai';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { caPem, credential, issuePki, kubeletClientName, type LeafName, type Pki } from '../../pki/store.js';
import { Etcd } from '../../components/etcd/index.js';
import { EtcdClient, EtcdError, prefixRangeEnd, type EtcdWatchEvent } from '../../components/client/etcd-client.js';
import type { Identity } from '../../components/client/tls.js';
import { silentLogger } from '../../sim/logger.js';
import { Trace, type TlsServerEvent, type TraceEvent } from '../../components/client/trace.js';

type Json = Record<string, unknown>;
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: unknown): string => Buffer.from(String(s), 'base64').toString('utf8');
const identity = (pki: Pki, name: LeafName): Identity => {
  const c = credential(pki, name);
  return { cert: c.certPem, key: c.keyPem };
};

/** Resolves with the first trace event that matches, or rejects after `ms`. */
function nextEvent<T extends TraceEvent>(trace: Trace, match: (e: TraceEvent) => e is T, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error('no matching trace event')); }, ms);
    const off = trace.on((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

/** Collects watch events; `waitFor(n)` resolves once n have arrived (bounded). */
class Collector {
  readonly events: EtcdWatchEvent[] = [];
  readonly errors: EtcdError[] = [];
  private waiters: Array<() => void> = [];
  readonly onEvent = (e: EtcdWatchEvent): void => { this.events.push(e); this.wake(); };
  readonly onError = (e: EtcdError): void => { this.errors.push(e); this.wake(); };
  private wake(): void { for (const w of this.waiters.splice(0)) w(); }
  until(cond: () => boolean, ms = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; have ${this.events.length} events, ${this.errors.length} errors`)), ms);
      const check = (): void => {
        if (cond()) { clearTimeout(timer); resolve(); } else this.waiters.push(check);
      };
      check();
    });
  }
}

describe('etcd (embedded, over mTLS) and the apiserver etcd client', () => {
  let pki: Pki;
  let trace: Trace;
  let etcd: Etcd;
  let addr: AddressInfo;
  let url: string;
  let client: EtcdClient;
  let rawAgent: https.Agent;

  before(async () => {
    pki = await issuePki();
    trace = new Trace();
    etcd = new Etcd({ host: '127.0.0.1', port: 0, identity: identity(pki, 'etcd/server'), trustedCa: caPem(pki, 'etcd/ca'), logger: silentLogger(), trace });
    addr = await etcd.start();
    url = `https://127.0.0.1:${addr.port}`;
    client = new EtcdClient({ endpoints: [url], identity: identity(pki, 'apiserver-etcd-client'), ca: caPem(pki, 'etcd/ca'), trace });
    const ec = identity(pki, 'etcd/healthcheck-client');
    rawAgent = new https.Agent({ ca: caPem(pki, 'etcd/ca'), cert: ec.cert, key: ec.key, keepAlive: true });
  });

  after(async () => {
    client.close();
    rawAgent.destroy();
    await etcd.stop();
  });

  /** One raw gateway call, as curl would make it. */
  function raw(method: string, path: string, body?: unknown): Promise<{ status: number; type: string; text: string; json: Json }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: addr.port, method, path, agent: rawAgent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => {
          let json: Json = {};
          try { json = JSON.parse(text) as Json; } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text, json });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** A raw watch stream: every `{"result":...}` line, and a way to wait for more. */
  function rawWatch(createRequest: Json): { lines: Json[]; until(n: number): Promise<void>; close(): void } {
    const lines: Json[] = [];
    let wake: (() => void) | undefined;
    let req: ReturnType<typeof https.request> | undefined;
    req = https.request({ host: '127.0.0.1', port: addr.port, method: 'POST', path: '/v3/watch', agent: rawAgent }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buf.slice(0, nl)) as Json);
          buf = buf.slice(nl + 1);
        }
        wake?.();
      });
      res.on('error', () => undefined);
    });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ create_request: createRequest }));
    return {
      lines,
      until: (n) => new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`watch: ${lines.length} of ${n} lines`)), 5000);
        const check = (): void => { if (lines.length >= n) { clearTimeout(timer); wake = undefined; resolve(); } else wake = check; };
        check();
      }),
      close: () => req?.destroy(),
    };
  }

  describe('kv through the client', () => {
    it('creates once: a second create of the same key is refused (txn MOD == 0)', async () => {
      const rev = await client.create('/registry/pods/default/a', '{"v":1}');
      expect(rev).to.be.a('number');
      expect(await client.create('/registry/pods/default/a', '{"v":2}')).to.equal(false);
      const { kv, revision } = await client.get('/registry/pods/default/a');
      expect(kv).to.deep.include({ value: '{"v":1}', createRevision: rev, modRevision: rev, version: 1 });
      expect(revision).to.be.at.least(rev as number);
    });

    it('updates only at the expected mod_revision; a stale one fails and shows what is there', async () => {
      const created = await client.create('/registry/pods/default/b', 'one') as number;
      const updated = await client.update('/registry/pods/default/b', 'two', created);
      expect(updated).to.equal(created + 1);
      expect(await client.update('/registry/pods/default/b', 'three', created)).to.equal(false);
      const cas = await client.putIfModRevision('/registry/pods/default/b', 'three', created);
      expect(cas.succeeded).to.equal(false);
      expect(cas.current).to.deep.include({ value: 'two', modRevision: updated, version: 2 });
      expect((await client.get('/registry/pods/default/b')).kv?.value).to.equal('two');
    });

    it('deletes: the previous pair comes back, a missing key gives undefined, a stale guard false', async () => {
      const rev = await client.create('/registry/pods/default/c', 'x') as number;
      await client.update('/registry/pods/default/c', 'y', rev);
      expect(await client.delete('/registry/pods/default/c', rev)).to.equal(false);
      const gone = await client.delete('/registry/pods/default/c', rev + 1);
      expect(gone).to.deep.include({ key: '/registry/pods/default/c', value: 'y', modRevision: rev + 1 });
      expect(gone && gone.deleteRevision).to.equal(rev + 2);
      expect(await client.delete('/registry/pods/default/c')).to.equal(undefined);
      expect(await client.delete('/registry/pods/default/c', rev + 1)).to.equal(undefined);
      expect((await client.get('/registry/pods/default/c')).kv).to.equal(undefined);
    });

    it('lists a prefix in key order and nothing outside it; revisions only go up', async () => {
      const revs: number[] = [];
      for (const name of ['z', 'm', 'n']) revs.push(await client.create(`/registry/services/specs/ns1/${name}`, name) as number);
      await client.create('/registry/services/specs/ns10/q', 'outside');
      await client.create('/registry/services/specs/ns1', 'the prefix without its slash');
      expect(revs[1]).to.be.greaterThan(revs[0]!);
      expect(revs[2]).to.be.greaterThan(revs[1]!);
      const list = await client.list('/registry/services/specs/ns1/');
      expect(list.kvs.map((kv) => kv.key)).to.deep.equal(['m', 'n', 'z'].map((n) => `/registry/services/specs/ns1/${n}`));
      expect(list.count).to.equal(3);
      expect(list.revision).to.equal(etcd.store.revision);
      const page = await client.list('/registry/services/specs/ns1/', { limit: 2 });
      expect(page.kvs).to.have.length(2);
      expect(page.more).to.equal(true);
      const past = await client.list('/registry/services/specs/ns1/', { revision: revs[0]! });
      expect(past.kvs.map((kv) => kv.value)).to.deep.equal(['z']);
    });

    it('computes prefix range ends as etcd does', () => {
      expect(prefixRangeEnd('/a/').toString()).to.equal('/a0');
      expect([...prefixRangeEnd(Buffer.from([0x61, 0xff]))]).to.deep.equal([0x62]);
      expect([...prefixRangeEnd(Buffer.from([0xff, 0xff]))]).to.deep.equal([0]);
    });

    it('attaches keys to a lease and revoking it deletes them', async () => {
      const lease = await client.grantLease(3600);
      expect(lease.ttl).to.equal(3600);
      await client.create('/registry/events/default/e1', 'e', { lease: lease.id });
      expect((await client.get('/registry/events/default/e1')).kv?.lease).to.equal(lease.id);
      await client.revokeLease(lease.id);
      expect((await client.get('/registry/events/default/e1')).kv).to.equal(undefined);
      const err = await client.revokeLease(lease.id).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(EtcdError).and.include({ code: 'LEASE_NOT_FOUND', httpStatus: 404, grpcCode: 5 });
    });
  });

  describe('the JSON gateway on the wire', () => {
    it('answers /version, /health, and /v3beta/ as etcd 3.4 does', async () => {
      const v = await raw('GET', '/version');
      expect(v.status).to.equal(200);
      expect(v.json).to.deep.equal({ etcdserver: '3.4.23', etcdcluster: '3.4.0' });
      expect((await raw('GET', '/health')).json).to.deep.equal({ health: 'true' });
      expect(await client.version()).to.deep.equal({ etcdserver: '3.4.23', etcdcluster: '3.4.0' });
      const beta = await raw('POST', '/v3beta/kv/range', { key: b64('/nothing') });
      expect(beta.status).to.equal(200);
      expect(Object.keys(beta.json)).to.deep.equal(['header']);
      expect((await raw('GET', '/v3/kv/range')).status).to.equal(405);
      expect((await raw('POST', '/v3/kv/nope', {})).status).to.equal(404);
    });

    it('renders responses as jsonpb: proto names, int64 strings, base64, defaults left out', async () => {
      const put = await raw('POST', '/v3/kv/put', { key: b64('/wire/k'), value: b64('v1') });
      expect(put.type).to.equal('application/json');
      const header = put.json['header'] as Json;
      expect(Object.keys(header)).to.deep.equal(['cluster_id', 'member_id', 'revision', 'raft_term']);
      expect(header['revision']).to.be.a('string').and.match(/^\d+$/);
      expect(header['raft_term']).to.equal('2');
      expect(put.json).to.not.have.property('prev_kv');
      const rev = String(header['revision']);
      const put2 = await raw('POST', '/v3/kv/put', { key: b64('/wire/k'), value: b64('v2'), prev_kv: true });
      expect(put2.json['prev_kv']).to.deep.equal({ key: b64('/wire/k'), create_revision: rev, mod_revision: rev, version: '1', value: b64('v1') });
      const range = await raw('POST', '/v3/kv/range', { key: b64('/wire/'), range_end: prefixRangeEnd('/wire/').toString('base64'), keys_only: true });
      expect(range.json['count']).to.equal('1');
      expect(range.json['kvs']).to.deep.equal([{ key: b64('/wire/k'), create_revision: rev, mod_revision: String(Number(rev) + 1), version: '2' }]);
      const empty = await raw('POST', '/v3/kv/range', { key: b64('/wire/none') });
      expect(empty.json).to.not.have.any.keys('kvs', 'count', 'more');
      const del = await raw('POST', '/v3/kv/deleterange', { key: b64('/wire/none') });
      expect(del.json).to.not.have.property('deleted');
    });

    it('runs txn compares (MOD, VERSION, CREATE, VALUE; EQUAL, GREATER, LESS, NOT_EQUAL) and answers with responses[]', async () => {
      const created = Number(((await raw('POST', '/v3/kv/put', { key: b64('/txn/k'), value: b64('b') })).json['header'] as Json)['revision']);
      const txn = (compare: Json): Promise<{ json: Json }> => raw('POST', '/v3/kv/txn', {
        compare: [{ key: b64('/txn/k'), ...compare }],
        success: [{ request_range: { key: b64('/txn/k') } }],
        failure: [{ request_put: { key: b64('/txn/failed'), value: b64('1') } }],
      });
      const outcomes: Array<[Json, boolean]> = [
        [{ target: 'MOD', result: 'EQUAL', mod_revision: String(created) }, true],
        [{ target: 'MOD', result: 'EQUAL', mod_revision: '0' }, false],
        [{ target: 'MOD', result: 'LESS', mod_revision: String(created + 1) }, true],
        [{ target: 'VERSION', result: 'GREATER', version: '0' }, true],
        [{ target: 'VERSION', result: 'NOT_EQUAL', version: '1' }, false],
        [{ target: 'CREATE', result: 'EQUAL', create_revision: created }, true],
        [{ target: 'VALUE', result: 'EQUAL', value: b64('b') }, true],
        [{ target: 'VALUE', result: 'GREATER', value: b64('c') }, false],
        [{ target: 3, result: 3, value: b64('a') }, true], // enums as numbers: VALUE NOT_EQUAL
      ];
      for (const [compare, want] of outcomes) {
        const { json } = await txn(compare);
        if (want) {
          expect(json, JSON.stringify(compare)).to.have.property('succeeded', true);
          const responses = json['responses'] as Json[];
          const rr = responses[0]!['response_range'] as Json;
          expect(rr['header']).to.deep.equal({ revision: (json['header'] as Json)['revision'] });
          expect(unb64((rr['kvs'] as Json[])[0]!['value'])).to.equal('b');
        } else {
          expect(json, JSON.stringify(compare)).to.not.have.property('succeeded');
          expect((json['responses'] as Json[])[0]).to.have.property('response_put');
        }
      }
    });

    it('refuses a txn with more than --max-txn-ops (128) operations in a branch, writing nothing', async () => {
      const ops = (n: number, prefix: string): Json[] => Array.from({ length: n }, (_, i) => ({ request_put: { key: b64(`${prefix}/${i}`), value: b64('x') } }));
      const before = etcd.store.revision;
      const big = await raw('POST', '/v3/kv/txn', { success: ops(20_000, '/many') });
      expect(big.status).to.equal(400);
      expect(big.json).to.deep.include({ code: 3, message: 'etcdserver: too many operations in txn request' });
      expect(etcd.store.revision).to.equal(before);
      const ok = await raw('POST', '/v3/kv/txn', { success: ops(128, '/limit') });
      expect(ok.status).to.equal(200);
    });

    it('serves lease grant, timetolive, keepalive (a stream) and leases', async () => {
      const grant = await raw('POST', '/v3/lease/grant', { TTL: '30' });
      const id = String(grant.json['ID']);
      expect(grant.json).to.include({ TTL: '30' });
      await raw('POST', '/v3/kv/put', { key: b64('/lease/k'), value: b64('v'), lease: id });
      const ttl = await raw('POST', '/v3/lease/timetolive', { ID: id, keys: true });
      expect(ttl.json).to.include({ ID: id, grantedTTL: '30' });
      expect(ttl.json['keys']).to.deep.equal([b64('/lease/k')]);
      const ka = await raw('POST', '/v3/lease/keepalive', { ID: id });
      expect(ka.status).to.equal(200);
      const lines = ka.text.trim().split('\n').map((l) => JSON.parse(l) as Json);
      expect(lines).to.have.length(1);
      expect(lines[0]!['result']).to.include({ ID: id, TTL: '30' });
      expect(((await raw('POST', '/v3/lease/leases', {})).json['leases'] as Json[]).map((l) => l['ID'])).to.include(id);
      const missing = await raw('POST', '/v3/lease/timetolive', { ID: '1' });
      expect(missing.json).to.include({ ID: '1', TTL: '-1' });
      const notFound = await raw('POST', '/v3/kv/put', { key: b64('/lease/x'), value: b64('v'), lease: '1' });
      expect(notFound.status).to.equal(404);
      expect(notFound.json).to.include({ error: 'etcdserver: requested lease not found', code: 5 });
    });

    it('fails a read of a compacted revision with HTTP 400 and the gateway error body', async () => {
      const first = await client.create('/compact/k', '1') as number;
      await client.update('/compact/k', '2', first);
      const now = (await client.get('/compact/k')).revision;
      await client.compact(now);
      const r = await raw('POST', '/v3/kv/range', { key: b64('/compact/k'), revision: String(first) });
      expect(r.status).to.equal(400);
      expect(r.json).to.deep.equal({
        error: 'etcdserver: mvcc: required revision has been compacted',
        message: 'etcdserver: mvcc: required revision has been compacted',
        code: 11,
      });
      const err = await client.get('/compact/k', { revision: first }).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(EtcdError).and.include({ code: 'COMPACTED', httpStatus: 400, grpcCode: 11 });
      const future = await raw('POST', '/v3/kv/range', { key: b64('/compact/k'), revision: String(now + 100) });
      expect(future.status).to.equal(400);
      expect(future.json['error']).to.equal('etcdserver: mvcc: required revision is a future revision');
      const again = await raw('POST', '/v3/kv/compaction', { revision: String(now) });
      expect(again.status).to.equal(400);
      expect(again.json['code']).to.equal(11);
      const bad = await raw('POST', '/v3/kv/put', { value: b64('no key') });
      expect(bad.status).to.equal(400);
      expect(bad.json).to.include({ error: 'etcdserver: key is not provided', code: 3 });
    });
  });

  it('records the layer that decided each gateway request: none, validation, storage, the handler', async () => {
    const seen: string[] = [];
    const off = trace.on((e) => { if (e.type === 'request' && e.server === etcd.name) seen.push(`${e.verb} ${e.status} ${e.layer}`); });
    try {
      await raw('POST', '/v3/kv/range', { key: b64('/layers/none') });
      await raw('POST', '/v3/kv/put', { value: b64('no key') });
      await raw('POST', '/v3/kv/range', { key: b64('/layers/x'), revision: String(etcd.store.revision + 100) });
      await raw('GET', '/v3/kv/range');
      await raw('POST', '/v3/no/such/rpc');
    } finally {
      off();
    }
    expect(seen).to.deep.equal(['kv/range 200 none', 'kv/put 400 validation', 'kv/range 400 storage', 'kv/range 405 handler', 'no/such/rpc 404 handler']);
  });

  describe('watch', () => {
    it('from a past revision replays the history and then streams live events (client)', async () => {
      const r1 = await client.create('/registry/nodes/n1', 'a') as number;
      const r2 = await client.update('/registry/nodes/n1', 'b', r1) as number;
      await client.create('/registry/other/x', 'not watched');
      const r3 = await client.create('/registry/nodes/n2', 'c') as number;
      const got = new Collector();
      const w = client.watch('/registry/nodes/', r2, got.onEvent, got.onError);
      await w.ready;
      await got.until(() => got.events.length >= 2);
      const gone = await client.delete('/registry/nodes/n1');
      await got.until(() => got.events.length >= 3);
      expect(etcd.store.watcherCount).to.equal(1);
      w.stop();
      await waitFor('etcd to drop the watcher of a closed stream', () => (etcd.store.watcherCount === 0 ? true : undefined), 3000, 10);
      expect(got.events.map((e) => [e.type, e.key, e.modRevision, e.value, e.prevValue])).to.deep.equal([
        ['PUT', '/registry/nodes/n1', r2, 'b', 'a'],
        ['PUT', '/registry/nodes/n2', r3, 'c', undefined],
        ['DELETE', '/registry/nodes/n1', gone && gone.deleteRevision, '', 'b'],
      ]);
      expect(got.errors).to.deep.equal([]);
    });

    it('streams one {"result"} per line: created first, then events with the DELETE type only on deletes (raw)', async () => {
      const start = etcd.store.revision + 1;
      const w = rawWatch({ key: b64('/raw/'), range_end: prefixRangeEnd('/raw/').toString('base64'), start_revision: String(start), prev_kv: true });
      await w.until(1);
      const created = w.lines[0]!['result'] as Json;
      expect(created['created']).to.equal(true);
      expect(created).to.not.have.property('watch_id'); // the first watch on a stream is id 0: left out
      await client.create('/raw/a', '1');
      await client.delete('/raw/a');
      await w.until(3);
      w.close();
      const [put, del] = w.lines.slice(1).map((l) => ((l['result'] as Json)['events'] as Json[])[0]!);
      expect(put).to.not.have.property('type');
      expect(put!['kv']).to.deep.equal({ key: b64('/raw/a'), create_revision: String(start), mod_revision: String(start), version: '1', value: b64('1') });
      expect(del!['type']).to.equal('DELETE');
      expect(del!['kv']).to.deep.equal({ key: b64('/raw/a'), mod_revision: String(start + 1) });
      expect(unb64((del!['prev_kv'] as Json)['value'])).to.equal('1');
      expect(((w.lines[2]!['result'] as Json)['header'] as Json)['revision']).to.equal(String(start + 1));
    });

    it('from a compacted revision is created and then cancelled with compact_revision (raw and client)', async () => {
      const r1 = await client.create('/gone/k', '1') as number;
      await client.update('/gone/k', '2', r1);
      const compactTo = etcd.store.revision;
      await client.compact(compactTo);
      const w = rawWatch({ key: b64('/gone/k'), start_revision: String(r1) });
      await w.until(2);
      w.close();
      expect(w.lines[0]).to.have.nested.property('result.created', true);
      const cancel = w.lines[1]!['result'] as Json;
      expect(cancel).to.include({ canceled: true, compact_revision: String(compactTo) });
      expect(cancel).to.not.have.property('events');

      const got = new Collector();
      client.watch('/gone/', r1, got.onEvent, got.onError);
      await got.until(() => got.errors.length > 0);
      expect(got.errors[0]).to.include({ code: 'COMPACTED', compactRevision: compactTo });
      expect(got.events).to.have.length(0);
    });
  });

  describe('mutual TLS', () => {
    const isServerEvent = (e: TraceEvent): e is TlsServerEvent => e.type === 'tls-server' && e.server === 'etcd';

    it('accepts the apiserver-etcd-client certificate (etcd CA, clientAuth)', async () => {
      const seen = nextEvent(trace, (e): e is TlsServerEvent => isServerEvent(e) && e.clientCert?.cn === 'kube-apiserver-etcd-client');
      const request = nextEvent(trace, (e): e is Extract<TraceEvent, { type: 'request' }> => e.type === 'request' && e.server === 'etcd' && e.verb === 'health');
      const fresh = new EtcdClient({ endpoints: [url], identity: identity(pki, 'apiserver-etcd-client'), ca: caPem(pki, 'etcd/ca'), trace });
      try {
        expect(await fresh.health()).to.equal(true);
      } finally {
        fresh.close();
      }
      const e = await seen;
      expect(e).to.include({ handshake: 'ok', verified: true, trusts: 'etcd-ca', mode: 'require' });
      expect(e.clientCert?.issuer).to.equal('etcd-ca');
      expect(await request).to.include({ user: 'kube-apiserver-etcd-client', method: 'GET', path: '/health', decision: 'allow', status: 200 });
    });

    for (const name of [kubeletClientName('node-1'), 'admin.conf'] as const) {
      it(`refuses a Kubernetes-CA certificate (${name}) in the handshake: unknown authority`, async () => {
        const refused = nextEvent(trace, (e): e is TlsServerEvent => isServerEvent(e) && e.handshake === 'refused');
        const wrong = new EtcdClient({ endpoints: [url], identity: identity(pki, name), ca: caPem(pki, 'etcd/ca'), name: 'intruder', trace });
        try {
          const err = await wrong.get('/registry/secrets/kube-system/x').then(() => undefined, (e: unknown) => e);
          expect(err).to.be.instanceOf(EtcdError).and.include({ code: 'UNAVAILABLE' });
        } finally {
          wrong.close();
        }
        const e = await refused;
        expect(e.code).to.equal('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
        expect(e.reason).to.equal('x509: certificate signed by unknown authority');
        expect(e.verified).to.equal(false);
      });
    }

    it('refuses a client without a certificate: "tls: client didn\'t provide a certificate"', async () => {
      const refused = nextEvent(trace, (e): e is TlsServerEvent => isServerEvent(e) && e.handshake === 'refused');
      const anon = new https.Agent({ ca: caPem(pki, 'etcd/ca') });
      try {
        const err = await new Promise<unknown>((resolve) => {
          const req = https.request({ host: '127.0.0.1', port: addr.port, method: 'GET', path: '/health', agent: anon }, () => resolve(undefined));
          req.on('error', resolve);
          req.end();
        });
        expect(err).to.be.instanceOf(Error);
      } finally {
        anon.destroy();
      }
      const e = await refused;
      expect(e.clientCert).to.equal(null);
      expect(e.reason).to.equal("tls: client didn't provide a certificate");
    });

    it('the client refuses an etcd whose certificate does not chain to the CA it trusts', async () => {
      const refused = nextEvent(trace, (e): e is Extract<TraceEvent, { type: 'tls-client' }> => e.type === 'tls-client' && e.client === 'misconfigured' && e.handshake === 'refused');
      const c = new EtcdClient({ endpoints: [url], identity: identity(pki, 'apiserver-etcd-client'), ca: caPem(pki, 'ca'), name: 'misconfigured', trace });
      try {
        const err = await c.get('/x').then(() => undefined, (e: unknown) => e);
        expect(err).to.be.instanceOf(EtcdError).and.include({ code: 'UNAVAILABLE' });
      } finally {
        c.close();
      }
      expect((await refused).reason).to.equal('x509: certificate signed by unknown authority');
    });
  });

  describe('endpoints and lifecycle', () => {
    it('tries the next endpoint when one refuses the connection', async () => {
      const dead = net.createServer();
      await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
      const deadPort = (dead.address() as AddressInfo).port;
      await new Promise<void>((resolve) => dead.close(() => resolve()));
      const c = new EtcdClient({ endpoints: [`https://127.0.0.1:${deadPort}`, url], identity: identity(pki, 'apiserver-etcd-client'), ca: caPem(pki, 'etcd/ca') });
      try {
        expect(await c.create('/failover/k', 'v')).to.be.a('number');
        expect((await c.get('/failover/k')).kv?.value).to.equal('v');
      } finally {
        c.close();
      }
    });

    it('stop() ends open watches (the client hears UNAVAILABLE) and is idempotent', async () => {
      const own = new Etcd({ host: '127.0.0.1', port: 0, identity: identity(pki, 'etcd/server'), trustedCa: caPem(pki, 'etcd/ca'), logger: silentLogger() });
      const a = await own.start();
      const c = new EtcdClient({ endpoints: [`https://127.0.0.1:${a.port}`], identity: identity(pki, 'apiserver-etcd-client'), ca: caPem(pki, 'etcd/ca') });
      try {
        const got = new Collector();
        const w = c.watch('/registry/', 0, got.onEvent, got.onError);
        await w.ready;
        expect(own.store.watcherCount).to.equal(1);
        await own.stop();
        await own.stop();
        await got.until(() => got.errors.length > 0);
        expect(got.errors[0]!.code).to.equal('UNAVAILABLE');
        expect(own.store.watcherCount).to.equal(0);
        const err = await c.get('/x').then(() => undefined, (e: unknown) => e);
        expect(err).to.be.instanceOf(EtcdError).and.include({ code: 'UNAVAILABLE' });
      } finally {
        c.close();
        await own.stop();
      }
    });
  });
});
