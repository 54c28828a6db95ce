/**
 * The apiserver's errors as `Status` objects, worded as k8s.io/apimachinery/pkg/api/errors words them
 * (NewNotFound, NewAlreadyExists, NewConflict, NewForbidden, NewBadRequest, NewResourceExpired,
 * NewGenericServerResponse). A handler throws an `ApiStatusError`; the server writes its `status`.
 */
import type { Status } from './types.js';
import { KubeSimError } from '../../pki/errors.js';

/** A group-qualified resource as Go's `schema.GroupResource.String()` prints it (`pods`, `deployments.apps`). */
export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}

export const qualified = (gr: GroupResource): string => (gr.group ? `${gr.resource}.${gr.group}` : gr.resource);

/**
 * metav1.StatusReason as an error code: the reasons a Status carries, with '' (StatusReasonUnknown)
 * spelled 'Unknown'. The HTTP status is a field of its own (`httpStatus`), never the code.
 */
export type StatusReasonCode =
  | Exclude<Status['reason'], ''>
  | 'Unknown' | 'ServerTimeout' | 'TooManyRequests' | 'NotAcceptable';

const STATUS_REASONS: ReadonlySet<string> = new Set<StatusReasonCode>([
  'NotFound', 'AlreadyExists', 'Conflict', 'Forbidden', 'Unauthorized', 'BadRequest', 'Invalid', 'MethodNotAllowed',
  'InternalError', 'Gone', 'UnsupportedMediaType', 'ServiceUnavailable', 'Expired', 'Timeout', 'RequestEntityTooLarge',
  'Unknown', 'ServerTimeout', 'TooManyRequests', 'NotAcceptable',
]);

/** A Status's reason as a code: a reason outside metav1's set (or none) is 'Unknown'. */
export const reasonCode = (reason: string | undefined): StatusReasonCode =>
  (reason !== undefined && STATUS_REASONS.has(reason) ? (reason as StatusReasonCode) : 'Unknown');

/**
 * The layer of the apiserver's handler chain that refused a request, in the order a request meets them
 * (`handler`: routing, decoding and the handler's own answers). The trace records it (RequestEvent.layer).
 */
export type StatusLayer = 'authentication' | 'authorization' | 'admission' | 'validation' | 'storage' | 'handler';

/** The layer a Status code stands for when the code that built the error did not name one. */
function layerOfCode(code: number): StatusLayer {
  switch (code) {
    case 401: return 'authentication';
    case 403: return 'authorization';
    case 400: case 422: return 'validation';
    case 404: case 409: case 410: return 'storage';
    default: return 'handler';
  }
}

/** An error a handler throws: `code` is the Status reason, `httpStatus` the status line, `status` the body written. */
export class ApiStatusError extends KubeSimError<StatusReasonCode> {
  readonly status: Status;
  readonly httpStatus: number;
  /** Which layer refused the request (admission's and the authorizer's 403s look alike otherwise). */
  readonly layer: StatusLayer;

  constructor(status: Status, layer: StatusLayer = layerOfCode(status.code)) {
    super(reasonCode(status.reason), status.message);
    this.status = status;
    this.httpStatus = status.code;
    this.layer = layer;
  }
}

type Reason = Status['reason'];

export function failure(code: number, reason: Reason, message: string, details?: Status['details'], layer?: StatusLayer): ApiStatusError {
  return new ApiStatusError({
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code,
  }, layer);
}

/** The same error, attributed to `layer` (an admission plugin's refusal, whatever its code). */
export const decidedBy = (layer: StatusLayer, err: ApiStatusError): ApiStatusError => new ApiStatusError(err.status, layer);

const detailsOf = (gr: GroupResource, name: string): NonNullable<Status['details']> => ({
  name, ...(gr.group ? { group: gr.group } : {}), kind: gr.resource,
});

export const notFound = (gr: GroupResource, name: string): ApiStatusError =>
  failure(404, 'NotFound', `${qualified(gr)} "${name}" not found`, detailsOf(gr, name));

export const alreadyExists = (gr: GroupResource, name: string): ApiStatusError =>
  failure(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, detailsOf(gr, name));

export const conflict = (gr: GroupResource, name: string, why: string): ApiStatusError =>
  failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, detailsOf(gr, name));

/** The optimistic-concurrency failure every client-go user has met. */
export const OBJECT_MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

export const badRequest = (message: string): ApiStatusError => failure(400, 'BadRequest', message);

export const invalid = (gr: GroupResource, kind: string, name: string, causes: { field: string; message: string }[]): ApiStatusError =>
  failure(422, 'Invalid', `${kind}${gr.group ? `.${gr.group}` : ''} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
    name, ...(gr.group ? { group: gr.group } : {}), kind,
    causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
  });

/** errors.NewMethodNotSupported: a handler's 405 for an action its storage does not implement (a watch of componentstatuses). */
export const methodNotSupported = (gr: GroupResource, action: string): ApiStatusError =>
  failure(405, 'MethodNotAllowed', `${action} is not supported on resources of kind ${JSON.stringify(qualified(gr))}`, { group: gr.group, kind: gr.resource });

export const methodNotAllowed = (): ApiStatusError =>
  failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

/** The 404 for a path that names no resource (the real one's `NotFound` with an empty details): the router's answer. */
export const pathNotFound = (): ApiStatusError =>
  failure(404, 'NotFound', 'the server could not find the requested resource', {}, 'handler');

export const unauthorized = (): ApiStatusError => failure(401, 'Unauthorized', 'Unauthorized');

/** `layer`: the authorizer's refusal, or an admission plugin's (NodeRestriction, the RBAC escalation check, NamespaceLifecycle, CSR admission). */
export const forbidden = (message: string, gr: GroupResource | undefined, name: string | undefined, layer: 'authorization' | 'admission'): ApiStatusError =>
  failure(403, 'Forbidden', message, gr ? { ...(name ? { name } : {}), ...(gr.group ? { group: gr.group } : {}), kind: gr.resource } : {}, layer);

/** A watch or list from a revision etcd has compacted (the watch cache's wording). */
export const expired = (message: string): ApiStatusError => failure(410, 'Expired', message);

/**
 * A PATCH body type the apiserver does not take: NewUnsupportedMediaTypeError over patch.go's list for
 * built-in types (JSON patch, merge patch, strategic merge patch, server-side apply), with the type sent.
 */
export const unsupportedMediaType = (contentType: string): ApiStatusError =>
  failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got ${contentType})`);

export const internalError = (err: unknown): ApiStatusError => {
  const message = err instanceof Error ? err.message : String(err);
  return failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
};

/**
 * An error answer from an upstream HTTP server (the kubelet for pods/log), as the apiserver's
 * GenericHttpResponseChecker turns it into a Status: the kubelet's status code, its body as message.
 * Layer `handler`: the upstream decided, whatever its code.
 */
export function upstreamError(code: number, body: string, gr: GroupResource, name: string): ApiStatusError {
  if (code === 500) return internalError(new Error(body));
  if (code === 400) return failure(400, 'BadRequest', body, undefined, 'handler');
  const known: Record<number, [Reason, string]> = {
    401: ['Unauthorized', 'the server has asked for the client to provide credentials'],
    403: ['Forbidden', body],
    404: ['NotFound', 'the server could not find the requested resource'],
    405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
    409: ['Conflict', 'the server reported a conflict'],
    503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
  };
  const [reason, text] = known[code] ?? (code >= 500
    ? ['InternalError', `an error on the server (${JSON.stringify(body)}) has prevented the request from succeeding`]
    : ['', `the server responded with the status code ${code} but did not return more information`]);
  // Go: fmt.Sprintf("%s (%s %s %s)", message, strings.ToLower(verb), resource, name) with an empty verb.
  // The kubelet's answer, relayed: the apiserver's handler (the proxy) decided nothing else.
  return failure(code, reason, `${text} ( ${qualified(gr)} ${name})`, { name, ...(gr.group ? { group: gr.group } : {}), kind: gr.resource }, 'handler');
}

export function toStatusError(err: unknown): ApiStatusError {
  return err instanceof ApiStatusError ? err : internalError(err);
}
