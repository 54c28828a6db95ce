/**
 * RequestInfo as k8s.io/apiserver's RequestInfoFactory computes it
 * (staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go), with API prefixes `api`
 * (groupless) and `apis`.
 *
 *   /api/v1/namespaces/default/pods/web/status  → resource request, verb from the method, ns default,
 *                                                 resource pods, name web, subresource status
 *   GET on a collection                          → list, or watch when `watch` is set to anything but
 *                                                 "false"/"0"; a fieldSelector `metadata.name=x` names x
 *   /api/v1/watch/namespaces/default/pods        → watch (the deprecated special-verb form)
 *   DELETE on a collection                       → deletecollection
 *   anything else (/healthz, /version, /api, /apis/apps, /openapi/v2) → non-resource, verb = lower-case method
 *
 * For list, watch and deletecollection the field selector is also parsed into requirements, as the
 * apiserver does with AuthorizeWithSelectors (beta, on by default since 1.32): the Node authorizer
 * reads `spec.nodeName=<node>` from them. The query is parsed once (parseRequestTarget, with Go's
 * rules for a raw request line) and the selectors once (selectors.ts, the parser the storage layer
 * filters with), so the authorizer and the storage can never read two different selectors.
 */
import { ApiStatusError } from '../../api/errors.js';
import { parseFieldSelectorTerms, parseLabelSelector, requiresExactMatch, type FieldRequirement, type FieldSelector, type LabelSelector } from '../../api/selectors.js';
import { KubeSimError } from '../../../pki/errors.js';

/** The Node authorizer reads these (fields.Requirement); the one parser is selectors.ts's. */
export type FieldSelectorRequirement = FieldRequirement;

export interface RequestInfo {
  isResourceRequest: boolean;
  /** The URL path, without the query. */
  path: string;
  /** Kubernetes verb for resource requests, the lower-case HTTP method otherwise. */
  verb: string;
  /** 'api' or 'apis' for resource requests, '' otherwise. */
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path parts starting at {resource}/{name}. */
  parts: string[];
  /**
   * Parsed fieldSelector of a list/watch/deletecollection on a collection (AuthorizeWithSelectors);
   * undefined when absent, empty or unparsable. The same parse as `selection.fields`: Go keeps the
   * raw string here and GetAuthorizerAttributes runs the storage's fields.ParseSelector on it.
   */
  fieldSelector?: FieldSelectorRequirement[];
  /** Raw labelSelector of a list/watch/deletecollection on a collection. */
  labelSelector?: string;
  /**
   * Not in Go's struct: the path carried `/namespaces/{namespace}/` before the resource (the
   * namespace came from the path prefix, not from the name of a namespace). Routing reads it.
   */
  namespacedPath?: boolean;
  /**
   * Not in Go's struct: the query's fieldSelector and labelSelector, parsed once here for both
   * authorization and storage (as Go's ListOptions are decoded once per request); `error` is the
   * 400 the list or watch answers with. Absent on hand-made RequestInfos.
   */
  selection?: ParsedSelection;
}

export interface ParsedSelection {
  readonly fields: FieldSelector;
  readonly labels: LabelSelector;
  readonly error?: ApiStatusError;
}

/**
 * The request target as Go's net/http reads the request line: url.ParseRequestURI keeps a `#` and
 * what follows it (a request target has no fragment), the path is everything before the first `?`,
 * percent-unescaped; the query is split on `&` as url.ParseQuery does (a pair holding `;` is dropped,
 * a pair with a bad escape is dropped, `+` is a space). Node's `new URL()` would instead treat `#` as
 * the start of a fragment and drop the rest of the query: the authorizer and the storage would then
 * read different queries. Everything in the apiserver reads the query through this one parse.
 */
export interface RequestTarget {
  /** The unescaped path (Go's URL.Path). */
  readonly path: string;
  /** The path as sent. */
  readonly rawPath: string;
  /** The query as sent, without the `?` (Go's URL.RawQuery). */
  readonly rawQuery: string;
  /** URL.Query(): the first value of a key is what every Kubernetes handler reads. */
  readonly query: URLSearchParams;
}

/** A request target Go's ParseRequestURI refuses: net/http answers `400 Bad Request` before any handler. */
export class BadRequestTargetError extends KubeSimError<'BAD_REQUEST_TARGET'> {
  constructor(message: string) {
    super('BAD_REQUEST_TARGET', message);
  }
}

const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/**
 * Go's url.unescape for the path and query-component modes: `%XX` must be two hex digits (else
 * `invalid URL escape "%zz"`); `+` is a space in a query component only. The bytes are read as
 * UTF-8 (Go keeps invalid UTF-8 bytes in its string; here they become U+FFFD).
 */
export function goUnescape(s: string, mode: 'path' | 'query'): string {
  if (!s.includes('%') && (mode === 'path' || !s.includes('+'))) return s;
  const bytes = Buffer.from(s, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < bytes.length;) {
    const c = bytes[i]!;
    if (c === 0x25) {
      if (i + 2 >= bytes.length || !isHex(bytes[i + 1]!) || !isHex(bytes[i + 2]!)) {
        throw new BadRequestTargetError(`invalid URL escape ${JSON.stringify(bytes.subarray(i, i + 3).toString('latin1'))}`);
      }
      out.push(parseInt(bytes.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 3;
    } else {
      out.push(c === 0x2b && mode === 'query' ? 0x20 : c);
      i++;
    }
  }
  return Buffer.from(out).toString('utf8');
}

/** url.ParseQuery (errors ignored, as URL.Query() ignores them). */
export function parseGoQuery(rawQuery: string): URLSearchParams {
  const params = new URLSearchParams();
  for (const pair of rawQuery.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    try {
      const key = goUnescape(eq >= 0 ? pair.slice(0, eq) : pair, 'query');
      const value = goUnescape(eq >= 0 ? pair.slice(eq + 1) : '', 'query');
      params.append(key, value);
    } catch (err) {
      if (!(err instanceof BadRequestTargetError)) throw err;
    }
  }
  return params;
}

/** url.ParseRequestURI on a request line's target (origin form, or absolute form `https://host/path`). */
export function parseRequestTarget(target: string): RequestTarget {
  let rest = target;
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:/.exec(rest);
  if (scheme) {
    rest = rest.slice(scheme[0].length);
    if (!rest.startsWith('//')) throw new BadRequestTargetError('invalid URI for request');
    const end = rest.slice(2).search(/[/?]/);
    rest = end < 0 ? '' : rest.slice(2 + end);
  } else if (!rest.startsWith('/')) {
    throw new BadRequestTargetError('invalid URI for request');
  }
  const q = rest.indexOf('?');
  const rawPath = q >= 0 ? rest.slice(0, q) : rest;
  const rawQuery = q >= 0 ? rest.slice(q + 1) : '';
  return { path: goUnescape(rawPath, 'path'), rawPath, rawQuery, query: parseGoQuery(rawQuery) };
}

/**
 * The query's selectors, parsed once: fields.ParseSelector and labels.Parse on the first value of
 * `fieldSelector` and `labelSelector` (what metainternalversion's ListOptions conversion reads).
 */
export function parseSelection(query: URLSearchParams): ParsedSelection {
  const fieldText = query.get('fieldSelector');
  const labelText = query.get('labelSelector');
  try {
    return {
      fields: fieldText === null ? [] : parseFieldSelectorTerms(fieldText),
      labels: labelText === null ? [] : parseLabelSelector(labelText),
    };
  } catch (err) {
    if (!(err instanceof ApiStatusError)) throw err;
    return { fields: [], labels: [], error: err };
  }
}

const API_PREFIXES = new Set(['api', 'apis']);
const GROUPLESS_API_PREFIXES = new Set(['api']);
const SPECIAL_VERBS = new Set(['proxy', 'watch']);
const SPECIAL_VERBS_NO_SUBRESOURCES = new Set(['proxy']);
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export type QueryInput = URLSearchParams | string | Readonly<Record<string, string | readonly string[] | undefined>> | undefined;

function toSearchParams(query: QueryInput): URLSearchParams {
  if (query === undefined) return new URLSearchParams();
  if (query instanceof URLSearchParams) return query;
  if (typeof query === 'string') return parseGoQuery(query.startsWith('?') ? query.slice(1) : query);
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (typeof value === 'string') params.append(key, value);
    else for (const v of value) params.append(key, v);
  }
  return params;
}

function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

/** Go's Convert_Slice_string_To_bool: present and not "0"/"false" (any case) is true, even when empty. */
function queryBool(params: URLSearchParams, key: string): boolean {
  const values = params.getAll(key);
  if (values.length === 0) return false;
  const first = values[0]!;
  return !(first === '0' || first.toLowerCase() === 'false');
}

/**
 * fields.ParseSelector through the one parser (selectors.ts): the requirements, or undefined for a
 * malformed selector.
 */
export function parseFieldSelector(selector: string): FieldSelectorRequirement[] | undefined {
  try {
    return [...parseFieldSelectorTerms(selector)];
  } catch (err) {
    if (err instanceof ApiStatusError) return undefined;
    throw err;
  }
}

export { requiresExactMatch };

/** path.IsValidPathSegmentName: not "." or "..", and no "/" or "%". */
function isValidPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/**
 * Computes the RequestInfo for a request from its target (parsed once by parseRequestTarget), or
 * from a path that may carry a query string (tests); an explicit `query` wins over the path's.
 * Throws BadRequestTargetError for a target Go's ParseRequestURI refuses.
 */
export function requestInfo(method: string, target: RequestTarget | string, query?: QueryInput): RequestInfo {
  const t = typeof target === 'string' ? parseRequestTarget(target) : target;
  const params = query !== undefined ? toSearchParams(query) : t.query;
  const urlPath = t.path;

  const info: RequestInfo = {
    isResourceRequest: false,
    path: urlPath,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };

  let parts = splitPath(urlPath);
  if (parts.length < 3) return info;
  if (!API_PREFIXES.has(parts[0]!)) return info;
  const apiPrefix = parts[0]!;
  parts = parts.slice(1);

  let apiGroup = '';
  if (!GROUPLESS_API_PREFIXES.has(apiPrefix)) {
    // One part (the prefix) is consumed already: this asks "do we have four parts?".
    if (parts.length < 3) return info;
    apiGroup = parts[0]!;
    parts = parts.slice(1);
  }

  info.isResourceRequest = true;
  info.apiPrefix = apiPrefix;
  info.apiGroup = apiGroup;
  info.apiVersion = parts[0]!;
  parts = parts.slice(1);

  if (SPECIAL_VERBS.has(parts[0]!)) {
    if (parts.length < 2) {
      // Go returns an error ("unable to determine kind and namespace from url") with the info so far.
      return info;
    }
    info.verb = parts[0]!;
    parts = parts.slice(1);
  } else {
    switch (method.toUpperCase()) {
      case 'POST': info.verb = 'create'; break;
      case 'GET':
      case 'HEAD': info.verb = 'get'; break;
      case 'PUT': info.verb = 'update'; break;
      case 'PATCH': info.verb = 'patch'; break;
      case 'DELETE': info.verb = 'delete'; break;
      default: info.verb = '';
    }
  }

  // /namespaces/{namespace}/{resource}/...: parts become relative to the resource, unless the next
  // step is a namespace subresource (status, finalize) of the namespace itself.
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1]!;
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) {
        parts = parts.slice(2);
        info.namespacedPath = true;
      }
    }
  }
  info.parts = parts;

  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(info.verb)) info.subresource = parts[2]!;
  if (parts.length >= 2) info.name = parts[1]!;
  if (parts.length >= 1) info.resource = parts[0]!;

  // Parsed once; the storage layer reads the same result (rest.ts reads info.selection).
  const selection = parseSelection(params);
  info.selection = selection;

  // No name and a GET: the verb is list or watch, and a fieldSelector metadata.name=x names x. An
  // unparsable selector names nothing (Go resets the ListOptions it could not decode).
  let collection = false;
  if (info.name === '' && info.verb === 'get') {
    collection = true;
    info.verb = queryBool(params, 'watch') ? 'watch' : 'list';
    const selectedName = selection.error ? undefined : requiresExactMatch(selection.fields, 'metadata.name');
    if (selectedName !== undefined && isValidPathSegmentName(selectedName)) info.name = selectedName;
  }
  if (info.name === '' && info.verb === 'delete') {
    collection = true;
    info.verb = 'deletecollection';
  }

  // AuthorizeWithSelectors: the selectors of a list, watch or deletecollection of a collection (a
  // metadata.name selector keeps them too); not of a named request nor of the deprecated /watch/ paths.
  if (collection) {
    if (params.has('fieldSelector') && !selection.error && selection.fields.length > 0) info.fieldSelector = [...selection.fields];
    const labelSelector = params.get('labelSelector');
    if (labelSelector !== null) info.labelSelector = labelSelector;
  }
  return info;
}
