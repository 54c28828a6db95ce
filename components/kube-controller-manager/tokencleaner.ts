/**
 * tokencleaner (pkg/controller/bootstrap/tokencleaner.go): deletes bootstrap-token Secrets
 * (`kube-system/bootstrap-token-<id>`, type `bootstrap.kubernetes.io/token`) once their `expiration`
 * has passed. kubeadm enables it (`--controllers=*,bootstrapsigner,tokencleaner`); it runs as the
 * service account kube-system/token-cleaner, which Role system:controller:token-cleaner lets get, list,
 * watch and delete Secrets in kube-system only.
 *
 * evalSecret, as the real one: an expired (or unparsable) expiration → DELETE with a UID precondition
 * (so a Secret re-created under the same name is not deleted in its place; 404 and 409 are not
 * errors); one still valid → looked at again when its time is up (queue.AddAfter(key, ttl)).
 * Objects its Secret goes on to own (kubeadm-certs) are the garbage collector's business.
 */
import type { Logger } from 'pino';
import type { Clock } from '../client/common.js';
import { ApiError, type KubeClient, resourcePath } from '../client/kube-client.js';
import { keyOf, splitKey, type Lister } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import { BOOTSTRAP_TOKEN_SECRET_TYPE, tokenExpiration, type BootstrapTokenSecret } from '../api/bootstrap-token.js';

/** The longest delay a Node timer takes (about 24.8 days); a token living longer is looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface TokenCleanerOptions {
  readonly client: KubeClient;
  /** Secrets of kube-system (the controller-manager's token-Secret informer). */
  readonly secrets: Lister<BootstrapTokenSecret>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** TokenSecretNamespace (default kube-system, api.NamespaceSystem). */
  readonly namespace?: string;
}

export class TokenCleaner {
  readonly name = 'token_cleaner';
  readonly queue: WorkQueue;
  private readonly o: TokenCleanerOptions;
  private readonly namespace: string;

  constructor(o: TokenCleanerOptions) {
    this.o = o;
    this.namespace = o.namespace ?? 'kube-system';
    this.queue = new WorkQueue({ name: this.name, logger: o.logger, handler: (k) => this.sync(k) });
    // FilteringResourceEventHandler: token Secrets of the token namespace; add and update only.
    const enqueue = (s: BootstrapTokenSecret): void => {
      if (s.type === BOOTSTRAP_TOKEN_SECRET_TYPE && s.metadata.namespace === this.namespace) this.queue.add(keyOf(s));
    };
    o.secrets.addHandlers({ add: enqueue, update: (_old, s) => enqueue(s) });
  }

  private async sync(key: string): Promise<void> {
    const secret = this.o.secrets.get(key);
    if (!secret) { this.o.logger.debug({ secret: key }, 'Secret has been deleted'); return; }
    if (secret.type === BOOTSTRAP_TOKEN_SECRET_TYPE) await this.evalSecret(secret);
  }

  private async evalSecret(secret: BootstrapTokenSecret): Promise<void> {
    const { remainingMs, expired } = tokenExpiration(secret, this.o.clock.now());
    const { namespace = this.namespace, name } = splitKey(keyOf(secret));
    if (expired) {
      this.o.logger.info({ secret: `${namespace}/${name}` }, 'Deleting expired secret');
      const uid = secret.metadata.uid;
      try {
        await this.o.client.delete(resourcePath({ resource: 'secrets', namespace, name }), uid ? { preconditions: { uid } } : {});
      } catch (err) {
        // NotFound: already deleted. Conflict: the UID precondition failed (a new Secret of that name).
        if (err instanceof ApiError && (err.httpStatus === 404 || err.httpStatus === 409)) return;
        this.o.logger.info({ err: err instanceof Error ? err.message : String(err), secret: `${namespace}/${name}` }, 'Error deleting secret');
      }
    } else if (remainingMs > 0) {
      this.queue.addAfter(keyOf(secret), Math.min(MAX_TIMER_MS, remainingMs));
    }
  }
}
