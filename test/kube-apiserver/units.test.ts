import { expect } from 'chai';
import { ApiStatusError } from '../../components/api/errors.js';
import { jsonPatch, mergePatch, patchTypeOf, strategicMergePatch, type Json } from '../../components/kube-apiserver/patch.js';
import { resourceByName } from '../../components/api/resources.js';
import { storageKey } from '../../components/kube-apiserver/routes.js';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from '../../components/api/selectors.js';
import { wantsTable } from '../../components/kube-apiserver/table.js';

const statusOf = (fn: () => unknown): { code: number; reason: string; message: string } => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiStatusError) return err.status;
    throw err;
  }
  throw new Error('expected a Status error');
};

describe('kube-apiserver storage keys', () => {
  it('uses the real apiserver\'s prefixes', () => {
    expect(storageKey(resourceByName('nodes'), undefined, 'node-1')).to.equal('/registry/minions/node-1');
    expect(storageKey(resourceByName('services'), 'default', 'kubernetes')).to.equal('/registry/services/specs/default/kubernetes');
    expect(storageKey(resourceByName('endpoints'), 'default', 'kubernetes')).to.equal('/registry/services/endpoints/default/kubernetes');
    expect(storageKey(resourceByName('deployments', 'apps'), 'default', 'web')).to.equal('/registry/deployments/default/web');
    expect(storageKey(resourceByName('leases', 'coordination.k8s.io'), 'kube-node-lease', 'node-1')).to.equal('/registry/leases/kube-node-lease/node-1');
    expect(storageKey(resourceByName('clusterroles', 'rbac.authorization.k8s.io'), undefined, 'admin')).to.equal('/registry/clusterroles/admin');
    expect(storageKey(resourceByName('pods'), 'default')).to.equal('/registry/pods/default/');
    expect(storageKey(resourceByName('pods'), undefined)).to.equal('/registry/pods/');
  });
});

describe('kube-apiserver selectors', () => {
  it('parses every label operator', () => {
    const sel = parseLabelSelector('app=web,env==prod,tier!=db,zone in (a, b),team notin (x),owner,!legacy');
    expect(matchLabels(sel, { app: 'web', env: 'prod', tier: 'front', zone: 'b', owner: 'me' })).to.equal(true);
    expect(matchLabels(sel, { app: 'web', env: 'prod', zone: 'c', owner: 'me' })).to.equal(false);
    expect(matchLabels(sel, { app: 'web', env: 'prod', zone: 'a', owner: 'me', legacy: 'y' })).to.equal(false);
    expect(matchLabels(parseLabelSelector('tier!=db'), {}), 'a missing key satisfies !=').to.equal(true);
    expect(statusOf(() => parseLabelSelector('a=b c')).code).to.equal(400);
  });

  it('matches field selectors on the fields each resource supports', () => {
    const pods = resourceByName('pods');
    const pod = { metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [] }, status: { phase: 'Running' } };
    expect(matchFields(parseFieldSelector('spec.nodeName=', pods), pod)).to.equal(true);
    expect(matchFields(parseFieldSelector('status.phase!=Failed,metadata.namespace=ns', pods), pod)).to.equal(true);
    expect(matchFields(parseFieldSelector('spec.nodeName=node-1', pods), pod)).to.equal(false);
    expect(statusOf(() => parseFieldSelector('spec.nodeName=x', resourceByName('services')))).to.deep.include({ code: 400, message: 'field label not supported: spec.nodeName' });
    const nodes = resourceByName('nodes');
    expect(matchFields(parseFieldSelector('spec.unschedulable=false', nodes), { metadata: { name: 'n' } })).to.equal(true);
  });
});

describe('kube-apiserver patches', () => {
  const pod: Json = {
    metadata: { name: 'p', labels: { a: '1', b: '2' }, finalizers: ['x', 'y'] },
    spec: { containers: [{ name: 'app', image: 'a:1', ports: [{ containerPort: 80 }] }, { name: 'side', image: 's:1' }] },
    status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] },
  };

  it('merge patch: objects merge, null deletes, lists replace', () => {
    const out = mergePatch(pod, { metadata: { labels: { a: null, c: '3' } }, spec: { containers: [{ name: 'only', image: 'o' }] } }) as { metadata: { labels: object }; spec: { containers: unknown[] } };
    expect(out.metadata.labels).to.deep.equal({ b: '2', c: '3' });
    expect(out.spec.containers).to.have.length(1);
  });

  it('strategic merge: lists merge by key, with $patch delete, $deleteFromPrimitiveList and ordering directives', () => {
    const out = strategicMergePatch(pod, {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] },
      spec: { '$setElementOrder/containers': [{ name: 'app' }, { name: 'side' }], containers: [{ name: 'side', $patch: 'delete' }, { name: 'app', image: 'a:2' }, { name: 'new', image: 'n:1' }] },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    }) as { metadata: { finalizers: string[] }; spec: { containers: { name: string; image: string; ports?: unknown[] }[] }; status: { conditions: { type: string; status: string }[] } };
    expect(out.metadata.finalizers).to.deep.equal(['y']);
    expect(out.spec.containers.map((c) => `${c.name}=${c.image}`)).to.deep.equal(['app=a:2', 'new=n:1']);
    expect(out.spec.containers[0]!.ports, 'fields not in the patch are kept').to.deep.equal([{ containerPort: 80 }]);
    expect(out.status.conditions).to.deep.equal([{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }]);
  });

  it('strategic merge: $setElementOrder orders the merged list, server-only items kept at their live places', () => {
    const live: Json = { status: { conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Custom', status: 'True' }, { type: 'Ready', status: 'False' }] } };
    const out = strategicMergePatch(live, {
      status: { '$setElementOrder/conditions': [{ type: 'Initialized' }, { type: 'Ready' }, { type: 'PodScheduled' }], conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }] },
    }) as { status: { conditions: { type: string; status: string }[] } };
    // As the kubelet's status patch leaves a real pod: its own order, PodScheduled last; Custom (live only) before Ready, as it was live.
    expect(out.status.conditions.map((c) => `${c.type}=${c.status}`)).to.deep.equal(['Initialized=True', 'Custom=True', 'Ready=True', 'PodScheduled=True']);
  });

  it('JSON patch: applies operations in order and fails a test with 422', () => {
    const out = jsonPatch(pod, [
      { op: 'replace', path: '/spec/containers/0/image', value: 'a:3' },
      { op: 'add', path: '/metadata/labels/c', value: '3' },
      { op: 'move', from: '/metadata/labels/a', path: '/metadata/labels/z' },
      { op: 'copy', from: '/metadata/name', path: '/metadata/generateName' },
      { op: 'remove', path: '/status' },
    ]) as { metadata: { labels: object; generateName: string }; spec: { containers: { image: string }[] }; status?: unknown };
    expect(out.spec.containers[0]!.image).to.equal('a:3');
    expect(out.metadata.labels).to.deep.equal({ b: '2', c: '3', z: '1' });
    expect(out.metadata.generateName).to.equal('p');
    expect(out.status).to.equal(undefined);
    expect(statusOf(() => jsonPatch(pod, [{ op: 'test', path: '/metadata/name', value: 'q' }])).code).to.equal(422);
    expect(statusOf(() => jsonPatch(pod, [{ op: 'remove', path: '/nope/x' }])).code).to.equal(422);
  });

  it('refuses an unknown patch content type with 415', () => {
    expect(patchTypeOf('application/strategic-merge-patch+json; charset=utf-8')).to.equal('strategic');
    expect(statusOf(() => patchTypeOf('application/json'))).to.deep.include({ code: 415, reason: 'UnsupportedMediaType' });
  });
});

describe('kube-apiserver content negotiation', () => {
  it('recognises kubectl\'s Table Accept header', () => {
    expect(wantsTable('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json')).to.equal(true);
    expect(wantsTable('application/json, */*')).to.equal(false);
  });
});
