/** The store's key-value interface over the etcd client (the JSON gateway over mutual TLS). */
import { EtcdError, type EtcdClient, type EtcdKv } from '../client/etcd-client.js';
import { KvCompactedError, type KeyValue, type KvBackend, type KvWatchHandle, type TxnResult } from './storage.js';

const pair = (kv: EtcdKv): KeyValue => ({ key: kv.key, value: kv.value, createRevision: kv.createRevision, modRevision: kv.modRevision });

const txn = (r: { succeeded: boolean; revision: number; current?: EtcdKv }): TxnResult =>
  ({ succeeded: r.succeeded, revision: r.revision, ...(r.current ? { current: pair(r.current) } : {}) });

export function etcdBackend(client: EtcdClient): KvBackend {
  return {
    async get(key) {
      const r = await client.get(key);
      return { kv: r.kv ? pair(r.kv) : undefined, revision: r.revision };
    },
    async list(prefix) {
      const r = await client.list(prefix);
      return { kvs: r.kvs.map(pair), revision: r.revision };
    },
    async create(key, value) {
      return txn(await client.putIfModRevision(key, value, 0));
    },
    async update(key, value, modRevision) {
      return txn(await client.putIfModRevision(key, value, modRevision));
    },
    async delete(key, modRevision) {
      return txn(await client.deleteIfModRevision(key, modRevision));
    },
    watch(prefix, fromRevision, onEvents, onError): KvWatchHandle {
      const w = client.watch(prefix, fromRevision, (e) => {
        onEvents([{ type: e.type === 'PUT' ? 'put' : 'delete', kv: pair(e.kv), ...(e.prevKv ? { prevKv: pair(e.prevKv) } : {}) }]);
      }, (err: EtcdError) => {
        onError(err.code === 'COMPACTED' ? new KvCompactedError(fromRevision, err.compactRevision ?? 0) : err);
      });
      return { cancel: () => w.stop() };
    },
  };
}
