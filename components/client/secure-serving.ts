/**
 * The secure port kube-scheduler (10259) and kube-controller-manager (10257) serve, as
 * k8s.io/apiserver's SecureServingOptions + DelegatingAuthentication/AuthorizationOptions set it up
 * for them (cmd/kube-scheduler/app/options, cmd/kube-controller-manager/app/options):
 *
 * - Serving certificate: none given (kubeadm gives none, and no --cert-dir), so
 *   MaybeDefaultWithSelfSignedCerts("localhost", nil, [127.0.0.1]) makes one in memory at start:
 *   a CA `localhost-ca@<unix>` signing `localhost@<unix>` (certutil.GenerateSelfSignedCertKey).
 *   Nobody can verify it; the apiserver's ComponentStatus probe does not try (InsecureSkipVerify).
 * - Authentication (--authentication-kubeconfig = the component's own kubeconfig): the client CA and
 *   the request-header settings from kube-system/extension-apiserver-authentication (the RoleBinding
 *   system::extension-apiserver-authentication-reader lets both components read it), or
 *   --client-ca-file when given; bearer tokens by TokenReview; anonymous when nothing failed
 *   (delegated.ts). A certificate that does not verify is an error, so 401 on every path, /healthz too.
 * - Authorization (--authorization-kubeconfig): system:masters always; /healthz, /readyz, /livez
 *   always (--authorization-always-allow-paths, their default for both components); the rest by a
 *   SubjectAccessReview, e.g. `get` on the non-resource URL /metrics.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { selfSignedServingPair, type SelfSignedServingPair } from '../../pki/issue.js';
import { EXTENSION_APISERVER_AUTHENTICATION, readAuthenticationConfigMap } from '../api/requestheader.js';
import type { KubeObject } from '../api/types.js';
import { ServerDrain, type Clock } from './common.js';
import { attributesOf, DelegatedAuthenticator, DelegatedAuthorizer, delegatedGate, type ReviewClient } from './delegated.js';
import { ApiError, type KubeClient } from './kube-client.js';
import { createTlsServer, listen, type Identity, type TlsServer } from './tls.js';
import type { Trace } from './trace.js';

/** The real default ports. */
export const KUBE_CONTROLLER_MANAGER_PORT = 10257;
export const KUBE_SCHEDULER_PORT = 10259;

export interface SecureServingOptions {
  /** --bind-address (kubeadm: 127.0.0.1). */
  readonly host: string;
  /** --secure-port; 0 for any free port. */
  readonly port: number;
  /** --tls-cert-file/--tls-private-key-file; absent: self-signed in memory at start (kubeadm's default). */
  readonly identity?: Identity;
  /** --client-ca-file (kubeadm gives the controller-manager ca.crt); absent: the ConfigMap's client-ca-file. */
  readonly clientCa?: string;
  /**
   * Without `identity`: the self-signed pair the process made when it started (selfSignedServing()), before it
   * reached the apiserver, as the real one does in its Config() step; absent: made here, at start.
   */
  readonly selfSigned?: SelfSignedServingPair;
}

/**
 * What MaybeDefaultWithSelfSignedCerts("localhost", nil, [127.0.0.1]) makes: certutil.GenerateSelfSignedCertKey's
 * RSA-2048 CA `localhost-ca@<unix>` and serving certificate `localhost@<unix>`. The keys are made on the thread
 * pool, so a caller can start this early (the sim's cluster does, while etcd and the apiserver come up, as
 * kubeadm's static pods all start at once) and pass the pair as SecureServingOptions.selfSigned.
 */
export function selfSignedServing(now: Date): Promise<SelfSignedServingPair> {
  return selfSignedServingPair('localhost', { dns: [], ip: ['127.0.0.1'] }, 'rsa-2048', now);
}

export interface SecureServingDeps {
  /** The component's name in the trace and logs (`kube-scheduler`). */
  readonly name: string;
  /** The component's own client (the authentication/authorization kubeconfig's identity). */
  readonly api: () => KubeClient;
  /** The body of /metrics (Prometheus text format). */
  readonly metrics: () => string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly trace: Trace | undefined;
}

/** What a started secure port serves with, for scenarios and tests. */
export interface SecureServingInfo {
  readonly address: AddressInfo;
  /** The self-signed serving certificate's CA (or the last certificate of the given chain). */
  readonly servingCa: string;
  /** The serving certificate (leaf). */
  readonly servingCert: string;
}

const certs = (pem: string): string[] => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) ?? [];

export class SecureServing {
  private readonly options: SecureServingOptions;
  private readonly deps: SecureServingDeps;
  private server: TlsServer | undefined;
  private drain: ServerDrain | undefined;
  private authn: DelegatedAuthenticator | undefined;
  private authz: DelegatedAuthorizer | undefined;
  private served: SecureServingInfo | undefined;

  constructor(options: SecureServingOptions, deps: SecureServingDeps) {
    this.options = options;
    this.deps = deps;
  }

  get info(): SecureServingInfo | undefined {
    return this.served;
  }

  async start(): Promise<SecureServingInfo> {
    if (this.served) return this.served;
    const { name, logger, clock } = this.deps;
    const o = this.options;
    const reviews: ReviewClient = { create: (path, body) => this.deps.api().create(path, body) };
    let config: ReturnType<typeof readAuthenticationConfigMap> = { clientCa: undefined, requestHeader: undefined };
    try {
      const cm = await this.deps.api().get<KubeObject & { data?: Record<string, string> }>(`/api/v1/namespaces/kube-system/configmaps/${EXTENSION_APISERVER_AUTHENTICATION}`);
      config = readAuthenticationConfigMap(cm);
    } catch (err) {
      // TolerateInClusterLookupFailure, as both components set it: warn and go on without it.
      if (!(err instanceof ApiError)) throw err;
      logger.warn({ err: err.message }, `Unable to get configmap/${EXTENSION_APISERVER_AUTHENTICATION} in kube-system. Continuing without configuration.`);
    }
    if (o.clientCa) config = { ...config, clientCa: o.clientCa };
    this.authn = new DelegatedAuthenticator(config, reviews);
    this.authz = new DelegatedAuthorizer(reviews);
    let identity = o.identity;
    let servingCa: string;
    if (identity) {
      servingCa = certs(identity.cert).at(-1) ?? identity.cert;
    } else {
      const pair = o.selfSigned ?? await selfSignedServing(clock.now());
      identity = { cert: pair.certPem, key: pair.keyPem };
      servingCa = pair.caPem;
      logger.info({ cn: pair.cn }, 'Generated self-signed cert in-memory');
    }
    // No client CA at all (no ConfigMap, no --client-ca-file): a certificate can verify against nothing.
    const bundle = this.authn.trustedBundle || servingCa;
    const server = createTlsServer({ name, identity, clientCa: bundle, mode: 'request' }, (req, res) => { void this.handle(req, res); }, this.deps.trace);
    this.server = server;
    this.drain = new ServerDrain(server);
    const address = await listen(server, o.host, o.port, name);
    this.served = { address, servingCa, servingCert: certs(identity.cert)[0] ?? identity.cert };
    logger.info({ address: `${address.address}:${address.port}` }, 'Serving securely');
    return this.served;
  }

  async close(mode: 'close' | 'destroy' = 'close'): Promise<void> {
    const drain = this.drain;
    this.drain = undefined;
    this.server = undefined;
    this.served = undefined;
    if (drain) await (mode === 'close' ? drain.close() : drain.destroy());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { name, trace, logger } = this.deps;
    const socket = req.socket as TLSSocket;
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'https://localhost');
    const path = url.pathname;
    const attrs = attributesOf(method, path, false);
    const base = {
      type: 'request' as const, server: name, peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, method, path: req.url ?? '/',
      verb: attrs.verb, resource: '',
    };
    const status = (code: number, reason: string, message: string): void => {
      const body = `${JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details: {}, code })}\n`;
      res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'X-Content-Type-Options': 'nosniff' });
      res.end(body);
    };
    try {
      const allowed = await delegatedGate(this.authn!, this.authz!, req, attrs, {
        log: (err) => logger.info({ err }, 'Unable to authenticate the request'), emit: (v) => trace?.emit({ ...base, ...v }), refuse: status,
      });
      if (!allowed) return;
      const { user } = allowed;
      const code = this.serve(method, path, res);
      trace?.emit({ ...base, user: user.name, groups: [...user.groups], decision: 'allow', layer: code < 400 ? 'none' : 'handler', status: code, reason: `authenticated by ${user.via}; ${allowed.reason}` });
    } catch (err) {
      logger.error({ err: (err as Error).message, path }, 'request failed');
      if (!res.headersSent) status(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`);
      else res.end();
    }
  }

  private serve(method: string, path: string, res: ServerResponse): number {
    const text = (code: number, body: string, type = 'text/plain; charset=utf-8'): number => {
      res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'X-Content-Type-Options': 'nosniff' });
      res.end(method === 'HEAD' ? undefined : body);
      return code;
    };
    if (method !== 'GET' && method !== 'HEAD') return text(405, `${method} is not supported\n`);
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return text(200, 'ok');
    if (path === '/metrics') return text(200, this.deps.metrics(), 'text/plain; version=0.0.4; charset=utf-8');
    return text(404, '404 page not found\n');
  }
}
