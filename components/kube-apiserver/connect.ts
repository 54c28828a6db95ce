/**
 * The apiserver's handler chain for requests that upgrade the connection (Node's `upgrade` event):
 * authentication, impersonation, RequestInfo and authorization as for every request, then the
 * connect subresources pods/exec, pods/attach and pods/portforward (streaming.ts). Refusals are
 * Status answers written on the socket; every request is traced once with the layer that decided it.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Trace } from '../client/trace.js';
import type { Node, Pod } from '../api/types.js';
import { badRequest, forbidden, toStatusError, unauthorized, type StatusLayer } from '../api/errors.js';
import { resourceByName } from '../api/resources.js';
import { BadRequestTargetError, parseRequestTarget, requestInfo, type RequestInfo } from './auth/request-info.js';
import type { Gate, UserInfo } from './gate.js';
import { impersonate } from './impersonation.js';
import type { KubeletClient } from './kubelet-client.js';
import { resolveRoute } from './routes.js';
import type { Store } from './storage.js';
import { CONNECT_SUBRESOURCES, isWebSocket, kubeletStreamPath, serveConnect, writeStatus, type ConnectSubresource } from './streaming.js';

export interface ConnectDeps {
  readonly gate: Gate;
  readonly store: Store;
  readonly kubelets: KubeletClient;
  readonly trace: Trace | undefined;
  readonly logger: Logger;
  /**
   * The 1.35 feature gate AuthorizePodWebsocketUpgradeCreatePermission: a WebSocket upgrade (a GET,
   * authorized as `get`) on pods/exec, attach or portforward must also be allowed `create`. Off in 1.32.
   */
  readonly authorizeWebsocketCreate: boolean;
}

const PODS = resourceByName('pods');
const NODES = resourceByName('nodes');

export async function handleUpgrade(d: ConnectDeps, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  socket.on('error', () => socket.destroy());
  const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
  const method = req.method ?? 'GET';
  const rawUrl = req.url ?? '/';
  let info: RequestInfo;
  let query: URLSearchParams;
  try {
    const target = parseRequestTarget(rawUrl);
    info = requestInfo(method, target);
    query = target.query;
  } catch (err) {
    if (!(err instanceof BadRequestTargetError)) throw err;
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request');
    return;
  }
  const resource = info.isResourceRequest ? (info.subresource ? `${info.resource}/${info.subresource}` : info.resource) : '';
  let user: UserInfo | undefined;
  let decision: 'allow' | 'deny' | 'unauthenticated' = 'unauthenticated';
  let reason: string | undefined;
  const emit = (status: number, layer: StatusLayer | 'none'): void => {
    d.trace?.emit({
      type: 'request', server: 'kube-apiserver', peer, method, path: rawUrl, user: user?.name ?? '', groups: user ? [...user.groups] : [],
      verb: info.verb, resource, decision, layer, status, ...(reason ? { reason } : {}),
    });
  };
  try {
    const authn = await d.gate.authenticate(req);
    if (!authn.ok) { reason = authn.reason; throw unauthorized(); }
    user = await impersonate(req, authn.user, d.gate);
    decision = 'deny';
    const deny = (message: string): never => {
      throw forbidden(message, info.isResourceRequest ? { group: info.apiGroup, resource: info.resource } : undefined, info.name || undefined, 'authorization');
    };
    const first = await d.gate.authorize(user, info);
    if (!first.allowed) { reason = first.reason; deny(first.message); }
    const sub = info.subresource;
    const connect = info.isResourceRequest && info.apiGroup === '' && info.resource === 'pods' && CONNECT_SUBRESOURCES.has(sub);
    if (connect && d.authorizeWebsocketCreate && info.verb === 'get' && isWebSocket(req)) {
      // The synthetic check of KEP-4006: the GET that a WebSocket upgrade is must also be allowed `create`.
      const second = await d.gate.authorize(user, { ...info, verb: 'create' });
      if (!second.allowed) { reason = second.reason; deny(second.message); }
    }
    decision = 'allow';
    reason = first.reason || undefined;
    if (info.isResourceRequest) resolveRoute(method, info);
    if (!connect) throw badRequest(`unable to upgrade: ${info.isResourceRequest ? `${resource} does not stream` : 'not a streaming endpoint'}`);
    const pod = await d.store.get<Pod>(PODS, info.namespace, info.name);
    if (!pod.spec.nodeName) throw badRequest(`pod ${info.name} does not have a host assigned`);
    const node = await d.store.get<Node>(NODES, undefined, pod.spec.nodeName);
    const { path, options } = kubeletStreamPath(sub as ConnectSubresource, pod, query);
    const mode = await serveConnect(sub as ConnectSubresource, req, socket, head, { kubelets: d.kubelets, node, path, options });
    reason = `${reason ? `${reason}; ` : ''}${mode} via ${pod.spec.nodeName}`;
    emit(mode === 'refused' ? 400 : 101, mode === 'refused' ? 'handler' : 'none');
  } catch (err) {
    const e = toStatusError(err);
    if (e.status.code >= 500) d.logger.error({ err: err instanceof Error ? err.message : String(err), path: rawUrl }, 'upgrade failed');
    emit(e.status.code, e.layer ?? 'handler');
    if (!socket.destroyed) writeStatus(socket, e.status);
  }
}
