import { expect } from 'chai';
import { parseFieldSelector, requestInfo } from '../../components/kube-apiserver/auth/request-info.js';

describe('requestInfo (RequestInfoFactory)', () => {
  it('parses a namespaced core resource with name and subresource', () => {
    const info = requestInfo('POST', '/api/v1/namespaces/default/pods/web/binding');
    expect(info).to.include({ isResourceRequest: true, verb: 'create', apiPrefix: 'api', apiGroup: '', apiVersion: 'v1', namespace: 'default', resource: 'pods', name: 'web', subresource: 'binding' });
  });

  it('maps methods to verbs and a GET on a collection to list', () => {
    expect(requestInfo('GET', '/api/v1/namespaces/default/pods/web').verb).to.equal('get');
    expect(requestInfo('HEAD', '/api/v1/nodes/node-1').verb).to.equal('get');
    expect(requestInfo('PUT', '/api/v1/nodes/node-1/status')).to.include({ verb: 'update', resource: 'nodes', name: 'node-1', subresource: 'status', namespace: '' });
    expect(requestInfo('PATCH', '/api/v1/nodes/node-1').verb).to.equal('patch');
    expect(requestInfo('DELETE', '/api/v1/namespaces/default/pods/web').verb).to.equal('delete');
    expect(requestInfo('GET', '/api/v1/namespaces/default/pods').verb).to.equal('list');
    expect(requestInfo('GET', '/api/v1/pods').verb).to.equal('list');
    expect(requestInfo('OPTIONS', '/api/v1/pods').verb).to.equal('');
  });

  it('turns a DELETE on a collection into deletecollection', () => {
    expect(requestInfo('DELETE', '/api/v1/namespaces/default/pods').verb).to.equal('deletecollection');
  });

  it('recognises watch=true / watch=1 / an empty watch, and not watch=false or watch=0', () => {
    expect(requestInfo('GET', '/api/v1/pods?watch=true').verb).to.equal('watch');
    expect(requestInfo('GET', '/api/v1/pods', 'watch=1').verb).to.equal('watch');
    expect(requestInfo('GET', '/api/v1/pods', { watch: '' }).verb).to.equal('watch');
    expect(requestInfo('GET', '/api/v1/pods?watch=false').verb).to.equal('list');
    expect(requestInfo('GET', '/api/v1/pods?watch=0').verb).to.equal('list');
    expect(requestInfo('GET', '/api/v1/pods?watch=FALSE').verb).to.equal('list');
  });

  it('handles the deprecated /watch/ prefix, with and without a name', () => {
    expect(requestInfo('GET', '/api/v1/watch/namespaces/default/pods')).to.include({ verb: 'watch', namespace: 'default', resource: 'pods', name: '' });
    expect(requestInfo('GET', '/api/v1/watch/namespaces/default/pods/web')).to.include({ verb: 'watch', name: 'web' });
    expect(requestInfo('GET', '/apis/apps/v1/watch/deployments')).to.include({ verb: 'watch', apiGroup: 'apps', resource: 'deployments' });
  });

  it('names the object of a list/watch through fieldSelector metadata.name', () => {
    const info = requestInfo('GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dnode-1&watch=true&resourceVersion=5');
    expect(info).to.include({ verb: 'watch', resource: 'nodes', name: 'node-1' });
    expect(info.fieldSelector).to.deep.equal([{ field: 'metadata.name', operator: '=', value: 'node-1' }]);
    // An invalid path segment name is not used.
    expect(requestInfo('GET', '/api/v1/nodes', { fieldSelector: 'metadata.name=a/b' }).name).to.equal('');
  });

  it('parses field selectors (=, ==, !=, several terms) for list/watch only', () => {
    const info = requestInfo('GET', '/api/v1/pods', { fieldSelector: 'spec.nodeName=node-1,status.phase!=Succeeded', labelSelector: 'app=web' });
    expect(info.fieldSelector).to.deep.equal([
      { field: 'spec.nodeName', operator: '=', value: 'node-1' },
      { field: 'status.phase', operator: '!=', value: 'Succeeded' },
    ]);
    expect(info.labelSelector).to.equal('app=web');
    expect(parseFieldSelector('a==b')).to.deep.equal([{ field: 'a', operator: '=', value: 'b' }]);
    expect(parseFieldSelector('nonsense')).to.equal(undefined);
    expect(requestInfo('GET', '/api/v1/namespaces/default/pods/web', { fieldSelector: 'a=b' }).fieldSelector).to.equal(undefined);
  });

  it('parses named groups, cluster-scoped resources and namespace subresources', () => {
    expect(requestInfo('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1')).to.include({
      verb: 'update', apiPrefix: 'apis', apiGroup: 'coordination.k8s.io', apiVersion: 'v1', namespace: 'kube-node-lease', resource: 'leases', name: 'node-1',
    });
    expect(requestInfo('GET', '/api/v1/namespaces/kube-system')).to.include({ verb: 'get', resource: 'namespaces', name: 'kube-system', namespace: 'kube-system' });
    expect(requestInfo('PUT', '/api/v1/namespaces/ns1/finalize')).to.include({ verb: 'update', resource: 'namespaces', name: 'ns1', subresource: 'finalize' });
    expect(requestInfo('GET', '/api/v1/namespaces')).to.include({ verb: 'list', resource: 'namespaces', namespace: '' });
    expect(requestInfo('POST', '/api/v1/namespaces/kube-system/serviceaccounts/replicaset-controller/token')).to.include({
      verb: 'create', resource: 'serviceaccounts', name: 'replicaset-controller', subresource: 'token',
    });
  });

  it('treats discovery and health paths as non-resource requests with the lower-case method as verb', () => {
    for (const path of ['/healthz', '/livez', '/readyz', '/version', '/api', '/apis', '/api/v1', '/apis/apps', '/apis/apps/v1', '/openapi/v2', '/']) {
      const info = requestInfo('GET', path);
      expect(info, path).to.include({ isResourceRequest: false, verb: 'get', path, resource: '' });
    }
    expect(requestInfo('POST', '/healthz').verb).to.equal('post');
    expect(requestInfo('GET', '/version?timeout=5s').path).to.equal('/version');
    expect(requestInfo('GET', '/metrics/foo/bar').isResourceRequest).to.equal(false);
  });

  it('does not take subresources for the proxy special verb', () => {
    expect(requestInfo('GET', '/api/v1/proxy/namespaces/default/pods/web/some/path')).to.include({ verb: 'proxy', resource: 'pods', name: 'web', subresource: '' });
  });
});
