import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { KubeSimError } from '../../pki/errors.js';
import { ApiStatusError, failure, notFound } from '../../components/api/errors.js';
import { ApiError } from '../../components/client/kube-client.js';
import { QuantityError } from '../../components/api/quantity.js';
import { ProtobufError } from '../../components/kube-apiserver/protobuf.js';
import { KvCompactedError } from '../../components/kube-apiserver/storage.js';
import { EtcdError } from '../../components/client/etcd-client.js';
import { PkiError } from '../../pki/errors.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SOURCE_DIRS = ['pki', 'components', 'sim', 'scenarios', 'cli', 'bench'];

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...await sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every `class X extends Y` in the source whose name ends in Error, or whose base does. */
async function errorClasses(): Promise<{ file: string; name: string; base: string }[]> {
  const found: { file: string; name: string; base: string }[] = [];
  for (const d of SOURCE_DIRS) {
    for (const file of await sources(path.join(ROOT, d))) {
      const text = await fs.readFile(file, 'utf8');
      for (const m of text.matchAll(/\bclass (\w+)(?:<[^>]*>)? extends (\w+)/g)) {
        const [, name, base] = m as unknown as [string, string, string];
        if (/Error$/.test(base) || /Error$/.test(name) || name === 'RequestTooLarge') found.push({ file: path.relative(ROOT, file), name, base });
      }
    }
  }
  return found;
}

describe('the error base (pki/errors.ts KubeSimError)', () => {
  it('every error class in the source extends KubeSimError, and only the base extends Error', async () => {
    const classes = await errorClasses();
    expect(classes.length).to.be.greaterThan(20);
    const offBase = classes.filter((c) => c.base === 'Error' && c.name !== 'KubeSimError').map((c) => `${c.file}: ${c.name}`);
    expect(offBase, offBase.join('\n')).to.deep.equal([]);
    // Each extends the base directly (no error hierarchy beneath it).
    const indirect = classes.filter((c) => c.base !== 'KubeSimError' && c.base !== 'Error').map((c) => `${c.file}: ${c.name} extends ${c.base}`);
    expect(indirect, indirect.join('\n')).to.deep.equal([]);
  });

  it('keeps a string code, the cause, and the class name', () => {
    const cause = new Error('EACCES');
    const e = new PkiError('DIR_UNWRITABLE', 'cannot write /x', { file: '/x', cause });
    expect(e).to.be.instanceOf(KubeSimError).and.instanceOf(Error);
    expect(e).to.include({ code: 'DIR_UNWRITABLE', file: '/x', name: 'PkiError', message: 'cannot write /x' });
    expect(e.cause).to.equal(cause);
    expect(new EtcdError('UNAVAILABLE', 'down', { cause })).to.include({ code: 'UNAVAILABLE', name: 'EtcdError', cause });
    expect(Object.hasOwn(new PkiError('SPEC_INVALID', 'x'), 'cause')).to.equal(false);
  });

  it('ApiStatusError: code is the Status reason, httpStatus the status line', () => {
    const e = notFound({ group: '', resource: 'pods' }, 'web');
    expect(e).to.be.instanceOf(KubeSimError);
    expect(e).to.include({ code: 'NotFound', httpStatus: 404, name: 'ApiStatusError' });
    expect(failure(500, '', 'boom')).to.include({ code: 'Unknown', httpStatus: 500 });
    expect(new ApiStatusError(e.status).status.reason).to.equal('NotFound');
  });

  it('ApiError (the client side): code is the reason (Unknown when none came), httpStatus the HTTP status', () => {
    const conflict = new ApiError(409, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'stale', reason: 'Conflict', code: 409 }, 'fallback');
    expect(conflict).to.be.instanceOf(KubeSimError);
    expect(conflict).to.include({ code: 'Conflict', httpStatus: 409, reason: 'Conflict', message: 'stale', name: 'ApiError' });
    const bare = new ApiError(502, undefined, 'GET /api: HTTP 502 bad gateway');
    expect(bare).to.include({ code: 'Unknown', httpStatus: 502, reason: '', message: 'GET /api: HTTP 502 bad gateway' });
  });

  it('the structured fields stay beside the code', () => {
    expect(new KvCompactedError(3, 7)).to.include({ code: 'COMPACTED', requested: 3, compactRevision: 7 });
    expect(new QuantityError('1Q')).to.include({ code: 'QUANTITY_INVALID', input: '1Q' });
    expect(new ProtobufError('truncated varint')).to.include({ code: 'MALFORMED', unsupported: false });
    expect(new ProtobufError('v1 Foo is not decoded', true)).to.include({ code: 'UNSUPPORTED', unsupported: true });
  });
});
