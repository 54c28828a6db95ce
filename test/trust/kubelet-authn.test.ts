import { expect } from 'chai';
import { Kubelet } from '../../components/kubelet/index.js';
import { caPem, credential, issuePki, kubeletClientName, kubeletServingName, type LeafName, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import { probe, statusMessage } from '../../sim/probe.js';
import { foreignAdmin } from '../../scenarios/tour.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

const identity = (pki: Pki, name: LeafName): { cert: string; key: string } => ({ cert: credential(pki, name).certPem, key: credential(pki, name).keyPem });

describe('kubelet authentication (fail-on-error union, as DelegatingAuthenticatorConfig)', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;
  let kubelet: Kubelet;
  let url: string;
  before(async function () {
    pki = await issuePki({ nodes: ['node-1'] });
    cp = await startControlPlane(pki);
    kubelet = new Kubelet({
      nodeName: 'node-1', nodeIP: '127.0.2.1', podCIDR: '10.244.1.0/24', apiserver: cp.url,
      identity: identity(pki, kubeletClientName('node-1')), serverCa: caPem(pki, 'ca'),
      servingIdentity: identity(pki, kubeletServingName('node-1')), clientCa: caPem(pki, 'ca'), port: 0, anonymousAuth: true,
    }, { logger: silentLogger(), trace: cp.trace });
    url = `https://127.0.2.1:${(await kubelet.start()).port}`;
  });
  after(async function () {
    await kubelet?.stop();
    await cp?.stop();
  });

  const ask = (client: string, id?: { cert: string; key: string }) => probe(cp.trace, { client, server: 'kubelet (node-1)', url, serverCa: caPem(pki, 'ca'), method: 'GET', path: '/pods', ...(id ? { identity: id } : {}) });

  it('with anonymous auth on, a certificate that fails verification is still 401, never system:anonymous', async function () {
    const o = await ask('foreign', await foreignAdmin(pki));
    expect(o).to.include({ layer: 'authentication', decision: 'unauthenticated', status: 401, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', cause: 'unknown-authority', reason: 'x509: certificate signed by unknown authority' });
  });

  it('with anonymous auth on, no certificate is system:anonymous, which the SubjectAccessReview denies (403)', async function () {
    const o = await ask('anonymous');
    expect(o).to.include({ layer: 'authorization', decision: 'forbidden', status: 403, user: 'system:anonymous', reason: 'Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource=proxy)' });
  });

  it('a verified certificate is its CN and O, and allowed when RBAC allows nodes/proxy', async function () {
    const o = await ask('apiserver', identity(pki, 'apiserver-kubelet-client'));
    expect(o).to.include({ layer: 'none', decision: 'allowed', status: 200, user: 'kube-apiserver-kubelet-client' });
  });

  it('records the layer that decided each request: authentication, authorization, the handler (a path it does not serve), none', async function () {
    const layerOf = (path: string): string | undefined => cp.recorder.events.filter((e) => e.type === 'request' && e.server === 'kubelet (node-1)' && e.path === path)
      .map((e) => (e.type === 'request' ? `${e.status} ${e.layer}` : '')).pop();
    await probe(cp.trace, { client: 'lost', server: 'kubelet (node-1)', url, serverCa: caPem(pki, 'ca'), method: 'GET', path: '/no-such-path', identity: identity(pki, 'apiserver-kubelet-client') });
    expect(layerOf('/no-such-path')).to.equal('404 handler');
    const statuses = cp.recorder.events.flatMap((e) => (e.type === 'request' && e.server === 'kubelet (node-1)' && e.path === '/pods' ? [`${e.status} ${e.layer}`] : []));
    expect(statuses).to.include.members(['401 authentication', '403 authorization', '200 none']);
  });
});

describe('probe', function () {
  it('reads a Status message, or the text body', function () {
    expect(statusMessage('{"kind":"Status","message":"pods is forbidden: x"}')).to.equal('pods is forbidden: x');
    expect(statusMessage('Forbidden (user=a, verb=get, resource=nodes, subresource=proxy)\n')).to.equal('Forbidden (user=a, verb=get, resource=nodes, subresource=proxy)');
    expect(statusMessage('{"kind":"Pod"}')).to.equal('{"kind":"Pod"}');
  });
});
