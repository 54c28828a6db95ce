import { expect } from 'chai';
import { authenticateBootstrapToken, bootstrapTokenSecret, validTokenSecret, type BootstrapTokenSecret } from '../../components/api/bootstrap-token.js';
import { csrAdmissionCheck, prepareCsrCreate, prepareCsrUpdate } from '../../components/kube-apiserver/certificates.js';
import { csrCondition, type CertificateSigningRequest } from '../../components/api/certificates.js';
import { ApiStatusError } from '../../components/api/errors.js';
import { validateKubeletClientCsr, validateKubeletServingCsr } from '../../components/kube-controller-manager/certificates.js';
import { CertificateManager } from '../../components/kubelet/certificate-manager.js';
import { newKubeletKey } from '../../components/kubelet/bootstrap.js';
import type { KubeObject } from '../../components/api/types.js';
import { derToPem } from '../../pki/issue.js';
import { createCsr, parseCsr } from '../../pki/x509.js';
import { silentLogger } from '../../sim/logger.js';
import { issuePki, credential } from '../../pki/store.js';
import { X509Certificate } from 'node:crypto';

const NOW = new Date('2026-06-01T00:00:00Z');

describe('bootstrap-token authenticator', () => {
  const make = (over: Partial<Record<string, string>> = {}, type = 'bootstrap.kubernetes.io/token'): BootstrapTokenSecret => {
    const { secret } = bootstrapTokenSecret({ token: 'abcdef.0123456789abcdef', now: NOW });
    const data = { ...secret.data };
    for (const [k, v] of Object.entries(over)) {
      if (v === undefined) delete data[k];
      else data[k] = Buffer.from(v).toString('base64');
    }
    return { ...secret, type, data };
  };
  const auth = (s: BootstrapTokenSecret | undefined, token = 'abcdef.0123456789abcdef', now = NOW): ReturnType<typeof authenticateBootstrapToken> =>
    authenticateBootstrapToken(token, (n) => (s && n === s.metadata.name ? s : undefined), now);

  it('a valid token is system:bootstrap:<id> in system:bootstrappers and its extra groups', () => {
    expect(auth(make())).to.deep.equal({ user: { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token'] } });
  });

  it('has no opinion (so the request gets 401) on every way a token is wrong, saying why', () => {
    const cases: [BootstrapTokenSecret | undefined, string, Date, string][] = [
      [make(), 'not-a-token', NOW, 'not a bootstrap token'],
      [undefined, 'abcdef.0123456789abcdef', NOW, 'No secret of name bootstrap-token-abcdef to match bootstrap bearer token'],
      [make(), 'abcdef.0123456789abcdeg', NOW, 'has invalid value for key token-secret.'],
      [make({}, 'Opaque'), 'abcdef.0123456789abcdef', NOW, 'has invalid type, expected bootstrap.kubernetes.io/token.'],
      [make(), 'abcdef.0123456789abcdef', new Date(NOW.getTime() + 25 * 3600_000), 'Expired bootstrap token in kube-system/bootstrap-token-abcdef Secret: 2026-06-02T00:00:00Z'],
      [make({ 'usage-bootstrap-authentication': undefined }), 'abcdef.0123456789abcdef', NOW, 'not marked usage-bootstrap-authentication=true.'],
      [make({ 'auth-extra-groups': 'system:masters' }), 'abcdef.0123456789abcdef', NOW, 'group "system:masters" is invalid: must start with "system:bootstrappers:"'],
    ];
    for (const [s, token, now, why] of cases) {
      const r = auth(s, token, now);
      expect(r, why).to.have.property('noOpinion').that.includes(why);
    }
  });

  it('the bootstrap signer signs only tokens marked usage-bootstrap-signing and not expired', () => {
    expect(validTokenSecret(make(), 'signing', NOW)).to.deep.equal({ token: { id: 'abcdef', secret: '0123456789abcdef' } });
    expect(validTokenSecret(make({ 'usage-bootstrap-signing': undefined }), 'signing', NOW)).to.have.property('reason').that.includes('not marked usage-bootstrap-signing=true');
    expect(validTokenSecret(make(), 'signing', new Date(NOW.getTime() + 25 * 3600_000))).to.have.property('reason').that.includes('Expired bootstrap token');
  });
});

describe('kubelet CSR checks (ValidateKubeletClientCSR / ValidateKubeletServingCSR)', () => {
  const req = async (cn: string, o: string[], dns: string[] = [], ip: string[] = []): Promise<ReturnType<typeof parseCsr>> =>
    parseCsr(createCsr({ cn, o }, { dns, ip }, await newKubeletKey()));
  it('accepts the kubelet client shape with or without key encipherment, and names the first fault otherwise', async () => {
    const ok = await req('system:node:n1', ['system:nodes']);
    expect(validateKubeletClientCsr(ok, ['digital signature', 'client auth'])).to.equal(undefined);
    expect(validateKubeletClientCsr(ok, ['digital signature', 'key encipherment', 'client auth'])).to.equal(undefined);
    expect(validateKubeletClientCsr(ok, ['digital signature', 'client auth', 'server auth'])).to.equal('usages did not match [client auth digital signature key encipherment]');
    expect(validateKubeletClientCsr(await req('system:node:n1', ['system:nodes', 'system:masters']), ['digital signature', 'client auth'])).to.equal('subject organization is not system:nodes');
    expect(validateKubeletClientCsr(await req('system:node:n1', ['system:nodes'], [], ['10.0.0.1']), ['digital signature', 'client auth'])).to.equal('IP subjectAltNames are not allowed');
    expect(validateKubeletClientCsr(await req('admin', ['system:nodes']), ['digital signature', 'client auth'])).to.equal('subject common name does not begin with system:node:');
  });
  it('a serving CSR needs a DNS or IP SAN and server auth', async () => {
    expect(validateKubeletServingCsr(await req('system:node:n1', ['system:nodes'], ['n1']), ['digital signature', 'server auth'])).to.equal(undefined);
    expect(validateKubeletServingCsr(await req('system:node:n1', ['system:nodes']), ['digital signature', 'server auth'])).to.equal('DNS or IP subjectAltName is required');
    expect(validateKubeletServingCsr(await req('system:node:n1', ['system:nodes'], ['n1']), ['digital signature', 'client auth'])).to.equal('usages did not match [digital signature key encipherment server auth]');
  });
});

describe('CertificateSigningRequest strategy and validation', () => {
  let request: string;
  before(async () => {
    request = Buffer.from(derToPem(createCsr({ cn: 'system:node:n1', o: ['system:nodes'] }, { dns: [], ip: [] }, await newKubeletKey()), 'CERTIFICATE REQUEST')).toString('base64');
  });
  const created = (): KubeObject & Record<string, unknown> => {
    const o = { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'c1' }, spec: { request, signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'], username: 'forged', groups: ['system:masters'] }, status: { certificate: 'eA==' } } as KubeObject & Record<string, unknown>;
    prepareCsrCreate(o, { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] });
    return o;
  };
  const reason = (f: () => unknown): string => { try { f(); return ''; } catch (e) { expect(e).to.be.instanceOf(ApiStatusError); return (e as Error).message; } };

  it('create takes the requester from the authenticated user, never from the body, and clears status', () => {
    const o = created() as unknown as CertificateSigningRequest;
    expect(o.spec.username).to.equal('system:bootstrap:abcdef');
    expect(o.spec.groups).to.deep.equal(['system:bootstrappers', 'system:authenticated']);
    expect(o.status).to.deep.equal({});
    expect(csrCondition(o)).to.equal('Pending');
  });

  it('expirationSeconds under 600 and unknown usages are refused with the apiserver\'s words', () => {
    const o = { metadata: { name: 'c2' }, spec: { request, signerName: 'example.com/x', usages: ['client auth', 'bogus'], expirationSeconds: 599 } } as unknown as KubeObject & Record<string, unknown>;
    const msg = reason(() => prepareCsrCreate(o, { name: 'u', groups: [] }));
    expect(msg).to.include('spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)');
    expect(msg).to.include('spec.usages[1]: Unsupported value: "bogus"');
  });

  it('the main resource cannot set a certificate or conditions; /approval sets Approved; Approved and Denied exclude each other; none is removed', () => {
    const old = { ...created(), metadata: { name: 'c1', uid: 'u1' } };
    // The main resource keeps the stored status; /status validates what it sets.
    expect((prepareCsrUpdate({ ...old, status: { certificate: 'eA==' } }, old, undefined) as unknown as CertificateSigningRequest).status?.certificate).to.equal(undefined);
    expect(reason(() => prepareCsrUpdate({ ...old, status: { certificate: 'eA==' } }, old, 'status'))).to.include('status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block');
    const approve = { ...old, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'R', message: 'M' }] } };
    expect(csrAdmissionCheck(approve, old, 'approval')).to.deep.equal({ verb: 'approve', signerName: 'kubernetes.io/kube-apiserver-client-kubelet' });
    // Through the main resource the conditions are simply kept from the stored object.
    expect((prepareCsrUpdate(approve, old, undefined) as unknown as CertificateSigningRequest).status?.conditions ?? []).to.deep.equal([]);
    const approved = prepareCsrUpdate(approve, old, 'approval');
    expect(csrCondition(approved as unknown as CertificateSigningRequest)).to.equal('Approved');
    const both = { ...approved, status: { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] } };
    expect(reason(() => prepareCsrUpdate(both, approved, 'approval'))).to.include('Approved and Denied conditions are mutually exclusive');
    expect(reason(() => prepareCsrUpdate({ ...approved, status: { conditions: [] } }, approved, 'approval'))).to.include('updates may not remove a condition of type "Approved"');
    const kept = (approved as unknown as CertificateSigningRequest).status?.conditions ?? [];
    expect(reason(() => prepareCsrUpdate({ ...approved, status: { conditions: [...kept, { type: 'Failed', status: 'True' }] } }, approved, 'status'))).to.equal('');
    expect(reason(() => prepareCsrUpdate({ ...approved, status: { conditions: [{ ...kept[0]!, message: 'changed' }] } }, approved, 'status'))).to.include('updates may not modify a condition of type "Approved"');
    expect(reason(() => prepareCsrUpdate({ ...approved, status: { conditions: [{ type: 'Denied', status: 'True' }] } }, approved, 'status'))).to.include('updates may not');
  });
});

describe('certificate manager rotation deadline', () => {
  it('is notBefore + 70% to 90% of the lifetime, by the jitter', async () => {
    const pki = await issuePki({ nodes: ['n1'] });
    const c = credential(pki, 'nodes/n1/kubelet.conf');
    const x = new X509Certificate(c.certPem);
    const nb = Date.parse(x.validFrom);
    const life = Date.parse(x.validTo) - nb;
    for (const [r, f] of [[0, 0.7], [0.5, 0.8], [0.999999, 0.9]] as const) {
      const m = new CertificateManager({
        signerName: 's', client: () => { throw new Error('unused'); }, subject: { cn: 'x', o: [] }, sans: { dns: [], ip: [] }, usages: [],
        current: { cert: c.certPem, key: c.keyPem }, onRotate: () => undefined, clock: { now: () => new Date() }, logger: silentLogger(), random: () => r,
      });
      expect((m.nextRotationDeadline().getTime() - nb) / life).to.be.closeTo(f, 1e-3);
    }
  });
});
