import { expect } from 'chai';
import { threeWayMergePatch, withLastApplied, LAST_APPLIED } from '../../components/kubectl/apply.js';
import { errorMessage, parseArgs, parseManifests, KubectlError } from '../../components/kubectl/index.js';
import { formatEndpoints, humanDuration, podStatus } from '../../components/api/printing.js';
import { printJson, printTable, printYaml, tabulate } from '../../components/kubectl/printers.js';
import { resolveType } from '../../components/api/resources.js';
import { ApiError } from '../../components/client/kube-client.js';
import type { Deployment, EndpointSlice, KubeObject, Node, Pod, Service } from '../../components/api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (s: number): string => new Date(now.getTime() - s * 1000).toISOString();
const type = (t: string): NonNullable<ReturnType<typeof resolveType>> => {
  const r = resolveType(t);
  if (!r) throw new Error(t);
  return r;
};

describe('kubectl printers', () => {
  it('prints ages as duration.HumanDuration', () => {
    const cases: [number, string][] = [[5, '5s'], [119, '119s'], [180, '3m'], [185, '3m5s'], [600, '10m'], [3 * 3600, '3h'], [3 * 3600 + 120, '3h2m'], [10 * 3600, '10h'], [2 * 86400, '2d'], [2 * 86400 + 3600, '2d1h'], [30 * 86400, '30d'], [800 * 86400, '2y70d']];
    for (const [s, want] of cases) expect(humanDuration(s * 1000), `${s}s`).to.equal(want);
  });

  it('aligns columns as kubectl\'s tabwriter does (min width 6, padding 3)', () => {
    expect(tabulate([['NAME', 'AGE'], ['a-very-long-name', '5s']])).to.equal('NAME               AGE\na-very-long-name   5s\n');
    expect(tabulate([['NAME', 'AGE'], ['x', '5s']])).to.equal('NAME   AGE\nx      5s\n');
  });

  it('prints pods with READY, STATUS, RESTARTS and the wide columns', () => {
    const running: Pod = {
      metadata: { name: 'web-1', namespace: 'default', creationTimestamp: ago(65) },
      spec: { nodeName: 'node-1', containers: [{ name: 'web', image: 'nginx' }] },
      status: { phase: 'Running', podIP: '10.244.1.5', containerStatuses: [{ name: 'web', ready: true, restartCount: 2, image: 'nginx', state: { running: { startedAt: ago(60) } } }] },
    };
    const pending: Pod = { metadata: { name: 'web-2', namespace: 'default', creationTimestamp: ago(5) }, spec: { containers: [{ name: 'web', image: 'nginx' }] }, status: { phase: 'Pending' } };
    expect(printTable(type('po'), [running, pending], { now })).to.equal(
      'NAME    READY   STATUS    RESTARTS   AGE\n'
      + 'web-1   1/1     Running   2          65s\n'
      + 'web-2   0/1     Pending   0          5s\n');
    const wide = printTable(type('pods'), [running], { now, wide: true, withNamespace: true });
    expect(wide.split('\n')[0]).to.equal('NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES');
    expect(wide.split('\n')[1]).to.match(/^default {5}web-1 .* 10\.244\.1\.5 {3}node-1 {3}<none> {11}<none>$/);
    const waiting: Pod = { ...pending, status: { phase: 'Pending', containerStatuses: [{ name: 'web', ready: false, restartCount: 0, image: 'x', state: { waiting: { reason: 'ImagePullBackOff' } } }] } };
    expect(podStatus(waiting).status).to.equal('ImagePullBackOff');
    expect(podStatus({ ...running, metadata: { ...running.metadata, deletionTimestamp: ago(1) } }).status).to.equal('Terminating');
  });

  it('prints nodes, services and deployments in their real columns', () => {
    const node: Node = {
      metadata: { name: 'node-1', creationTimestamp: ago(300), labels: { 'node-role.kubernetes.io/control-plane': '' } },
      spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.30.0' } },
    };
    expect(printTable(type('no'), [node], { now })).to.equal('NAME     STATUS                     ROLES           AGE   VERSION\nnode-1   Ready,SchedulingDisabled   control-plane   5m    v1.30.0\n');
    const svc: Service = { metadata: { name: 'web', creationTimestamp: ago(10) }, spec: { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 443 }] } };
    expect(printTable(type('svc'), [svc], { now }).split('\n')[1]).to.equal('web    NodePort   10.96.0.20   <none>        80:30080/TCP,443/TCP   10s');
    const d: Deployment = {
      metadata: { name: 'web', creationTimestamp: ago(10) },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    expect(printTable(type('deploy'), [d], { now })).to.equal('NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    2/3     3            2           10s\n');
  });

  it('prints endpoints as up to three ip:port and a count of the rest', () => {
    const addrs = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((ip) => ({ ip }));
    expect(formatEndpoints({ metadata: {}, subsets: [{ addresses: addrs, ports: [{ port: 80 }] }] })).to.equal('10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...');
    expect(formatEndpoints({ metadata: {} })).to.equal('<none>');
  });

  it('prints endpointslices as NAME ADDRESSTYPE PORTS ENDPOINTS AGE, <unset> when empty', () => {
    const t = type('endpointslices');
    expect(t).to.include({ group: 'discovery.k8s.io', kind: 'EndpointSlice', namespaced: true });
    expect(type('endpointslice')).to.equal(t);
    const full: EndpointSlice = {
      metadata: { name: 'web-x7k2p', creationTimestamp: ago(10) }, addressType: 'IPv4',
      endpoints: ['1', '2', '3', '4'].map((i) => ({ addresses: [`10.244.1.${i}`], conditions: { ready: i !== '4' } })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'named' }],
    };
    const placeholder: EndpointSlice = { metadata: { name: 'lonely-abcde', creationTimestamp: ago(5) }, addressType: 'IPv4', endpoints: [], ports: [] };
    expect(printTable(t, [full, placeholder], { now })).to.equal(
      'NAME           ADDRESSTYPE   PORTS        ENDPOINTS                                      AGE\n' +
      'web-x7k2p      IPv4          8080,named   10.244.1.1,10.244.1.2,10.244.1.3 + 1 more...   10s\n' +
      'lonely-abcde   IPv4          <unset>      <unset>                                        5s\n');
  });

  it('prints json with 4-space indentation and yaml with unindented lists, keys sorted', () => {
    const o = { metadata: { name: 'x' }, kind: 'Pod', apiVersion: 'v1', spec: { containers: [{ name: 'c', image: 'i' }] } };
    expect(printJson(o)).to.equal('{\n    "apiVersion": "v1",\n    "kind": "Pod",\n    "metadata": {\n        "name": "x"\n    },\n    "spec": {\n        "containers": [\n            {\n                "image": "i",\n                "name": "c"\n            }\n        ]\n    }\n}\n');
    expect(printYaml(o)).to.equal('apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - image: i\n    name: c\n');
  });
});

describe('kubectl apply patch', () => {
  const base = (replicas: number, labels: Record<string, string> = { app: 'web' }): KubeObject => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', labels },
    spec: { replicas, template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
  } as KubeObject);
  /** What the server holds after an apply: defaults added, status, bookkeeping fields. */
  const live = (applied: KubeObject): KubeObject => {
    const o = structuredClone(applied) as KubeObject & { spec: { template: { spec: { containers: Record<string, unknown>[] } } }; status?: unknown };
    o.metadata.uid = 'u1';
    o.metadata.resourceVersion = '7';
    for (const c of o.spec.template.spec.containers) c.imagePullPolicy = 'Always';
    o.status = { replicas: 1 };
    return o;
  };

  it('is empty when nothing changed, despite server-side defaults', () => {
    const applied = withLastApplied(base(2));
    const original = JSON.parse(applied.metadata.annotations?.[LAST_APPLIED] ?? '') as KubeObject;
    expect(threeWayMergePatch(original, withLastApplied(base(2)), live(applied))).to.deep.equal({});
  });

  it('sets changed fields and the new annotation, and deletes fields dropped from the manifest', () => {
    const first = withLastApplied(base(2, { app: 'web', tier: 'front' }));
    const original = JSON.parse(first.metadata.annotations?.[LAST_APPLIED] ?? '') as KubeObject;
    const next = withLastApplied(base(3, { app: 'web' }));
    const patch = threeWayMergePatch(original, next, live(first)) as { spec: unknown; metadata: { labels: unknown; annotations: Record<string, string> } };
    expect(patch.spec).to.deep.equal({ replicas: 3 });
    expect(patch.metadata.labels).to.deep.equal({ tier: null });
    expect(JSON.parse(patch.metadata.annotations[LAST_APPLIED] ?? '')).to.deep.include({ kind: 'Deployment' });
  });

  it('records last-applied with sorted keys and a trailing newline, without itself', () => {
    const a = withLastApplied(base(1)).metadata.annotations?.[LAST_APPLIED] ?? '';
    expect(a.endsWith('}\n')).to.equal(true);
    expect(a.startsWith('{"apiVersion":"apps/v1","kind":"Deployment","metadata"')).to.equal(true);
    expect(a).not.to.include('last-applied');
  });
});

describe('kubectl manifests and arguments', () => {
  it('reads multi-document YAML, JSON and Lists', () => {
    const yaml = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n---\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n';
    expect(parseManifests(yaml, 'f.yaml').map((m) => `${m.type.resource}/${m.object.metadata.name ?? ''}`)).to.deep.equal(['services/web', 'deployments/web']);
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }] });
    expect(parseManifests(json, 'f.json').map((m) => m.type.kind)).to.deep.equal(['Pod']);
  });

  it('refuses manifests without kind or of unknown kinds, as kubectl words it', () => {
    expect(() => parseManifests('apiVersion: v1\nmetadata: {name: x}\n', 'f.yaml')).to.throw(KubectlError, 'error validating "f.yaml": error validating data: kind not set');
    expect(() => parseManifests('apiVersion: v1\nkind: Widget\nmetadata: {name: x}\n', 'f.yaml')).to.throw(KubectlError, 'no matches for kind "Widget" in version "v1"');
  });

  it('resolves resource aliases', () => {
    for (const [arg, res] of [['po', 'pods'], ['pod', 'pods'], ['Pods', 'pods'], ['svc', 'services'], ['deploy', 'deployments'], ['deployments.apps', 'deployments'], ['rs', 'replicasets'], ['no', 'nodes'], ['ns', 'namespaces'], ['ep', 'endpoints']]) {
      expect(resolveType(arg ?? '')?.resource, arg).to.equal(res);
    }
    expect(resolveType('widgets')).to.equal(undefined);
  });

  it('parses flags in their long, short, glued and = forms', () => {
    const p = parseArgs(['get', 'pods', '-nkube-system', '-owide', '--selector=app=web', '-A', '--kubeconfig', 'a.conf']);
    expect(p.args).to.deep.equal(['get', 'pods']);
    expect(Object.fromEntries([...p.flags].map(([k, v]) => [k, v.join(',')]))).to.deep.equal({ namespace: 'kube-system', output: 'wide', selector: 'app=web', 'all-namespaces': 'true', kubeconfig: 'a.conf' });
    expect(() => parseArgs(['get', '--bogus'])).to.throw(KubectlError, 'unknown flag: --bogus');
  });

  it('prints server and connection errors in kubectl\'s words', () => {
    const status = (code: number, reason: 'NotFound' | 'Forbidden' | 'Unauthorized', message: string): ApiError =>
      new ApiError(code, { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', reason, message, code }, message);
    expect(errorMessage(status(404, 'NotFound', 'pods "x" not found'))).to.equal('Error from server (NotFound): pods "x" not found');
    expect(errorMessage(status(401, 'Unauthorized', 'Unauthorized'))).to.equal('error: You must be logged in to the server (Unauthorized)');
    expect(errorMessage(Object.assign(new Error('self-signed'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }))).to.equal('Unable to connect to the server: x509: certificate signed by unknown authority');
    expect(errorMessage(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), new URL('https://127.0.1.1:6443'))).to.equal('The connection to the server 127.0.1.1:6443 was refused - did you specify the right host or port?');
  });
});
