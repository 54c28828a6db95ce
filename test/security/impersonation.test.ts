import { expect } from 'chai';
import https from 'node:https';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

interface UserInfoOut { username: string; groups?: string[]; extra?: Record<string, string[]> }

describe('security: impersonation headers are read as Go reads them (issue 11)', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;

  before(async () => {
    pki = await issuePki({ nodes: [] });
    cp = await startControlPlane(pki);
  });
  after(async () => { await cp?.stop(); });

  /** `kubectl auth whoami` as admin.conf with raw header lines (a flat [name, value, name, value...] list, repeats kept). */
  const whoami = (headers: string[]): Promise<{ status: number; user?: UserInfoOut; body: string }> => new Promise((resolve, reject) => {
    const c = credential(pki, 'admin.conf');
    const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    const url = new URL(cp.url);
    const req = https.request({
      host: url.hostname, port: url.port, method: 'POST', path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      ca: caPem(pki, 'ca'), cert: c.certPem, key: c.keyPem, agent: false,
      headers: ['Host', url.host, 'Content-Type', 'application/json', 'Content-Length', String(Buffer.byteLength(body)), ...headers],
    }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => { b += d.toString(); });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolve({ status, body: b, ...(status === 201 ? { user: (JSON.parse(b) as { status: { userInfo: UserInfoOut } }).status.userInfo } : {}) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });

  it('each Impersonate-Group line is one group, commas and all; repeated lines are several groups', async () => {
    const r = await whoami(['Impersonate-User', 'jane', 'Impersonate-Group', 'a,b', 'Impersonate-Group', 'c']);
    expect(r.status, r.body).to.equal(201);
    expect(r.user?.username).to.equal('jane');
    expect(r.user?.groups).to.deep.equal(['a,b', 'c', 'system:authenticated']);
  });

  it('an Impersonate-Extra-__proto__ key is an extra like any other, and touches no prototype', async () => {
    const r = await whoami(['Impersonate-User', 'jane', 'Impersonate-Extra-__proto__', 'x', 'Impersonate-Extra-scopes', 'view, edit']);
    expect(r.status, r.body).to.equal(201);
    expect(JSON.parse(r.body).status.userInfo.extra).to.deep.equal(JSON.parse('{"__proto__":["x"],"scopes":["view, edit"]}'));
    expect(Object.getPrototypeOf({})).to.equal(Object.prototype);
    expect(({} as Record<string, unknown>).x).to.equal(undefined);
  });
});
