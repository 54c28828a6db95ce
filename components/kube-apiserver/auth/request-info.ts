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
 * reads `spec.nodeName=<node>` from them.
 */

export interface FieldSelectorRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

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
  /** Parsed fieldSelector for list/watch/deletecollection; undefined when absent or unparsable. */
  fieldSelector?: FieldSelectorRequirement[];
  /** Raw labelSelector for list/watch/deletecollection. */
  labelSelector?: string;
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
  if (typeof query === 'string') return new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (typeof value === 'string') params.append(key, value);
    else for (const v of value) params.append(key, v);
  }
  return params;
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
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
 * fields.ParseSelector: comma-separated terms `key=value`, `key==value`, `key!=value`, with `\`
 * escaping `,`, `=`, `!` and `\` in values. Returns undefined for a malformed selector.
 */
export function parseFieldSelector(selector: string): FieldSelectorRequirement[] | undefined {
  if (selector.trim() === '') return [];
  const terms: string[] = [];
  let current = '';
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i]!;
    if (c === '\\' && i + 1 < selector.length) {
      current += c + selector[i + 1]!;
      i++;
    } else if (c === ',') {
      terms.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  terms.push(current);
  const out: FieldSelectorRequirement[] = [];
  for (const term of terms) {
    if (term === '') continue;
    // Find the first unescaped operator.
    let opAt = -1;
    let op: '=' | '==' | '!=' | undefined;
    for (let i = 0; i < term.length; i++) {
      const c = term[i]!;
      if (c === '\\') { i++; continue; }
      if (c === '!' && term[i + 1] === '=') { opAt = i; op = '!='; break; }
      if (c === '=') { opAt = i; op = term[i + 1] === '=' ? '==' : '='; break; }
    }
    if (op === undefined) return undefined;
    const field = term.slice(0, opAt).trim();
    const rawValue = term.slice(opAt + op.length);
    const value = rawValue.replace(/\\(.)/g, '$1');
    if (field === '') return undefined;
    out.push({ field, operator: op === '!=' ? '!=' : '=', value });
  }
  return out;
}

/** fields.Selector.RequiresExactMatch: the value of the first `field=value` (or `==`) term. */
export function requiresExactMatch(requirements: readonly FieldSelectorRequirement[] | undefined, field: string): string | undefined {
  return requirements?.find((r) => r.field === field && r.operator === '=')?.value;
}

/** path.IsValidPathSegmentName: not "." or "..", and no "/" or "%". */
function isValidPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/**
 * Computes the RequestInfo for a request. `path` may carry a query string (as `req.url` does); an
 * explicit `query` wins over it.
 */
export function requestInfo(method: string, path: string, query?: QueryInput): RequestInfo {
  const q = path.indexOf('?');
  const rawPath = q >= 0 ? path.slice(0, q) : path;
  const params = query !== undefined ? toSearchParams(query) : toSearchParams(q >= 0 ? path.slice(q + 1) : undefined);
  const urlPath = decodePath(rawPath);

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
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
    }
  }
  info.parts = parts;

  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(info.verb)) info.subresource = parts[2]!;
  if (parts.length >= 2) info.name = parts[1]!;
  if (parts.length >= 1) info.resource = parts[0]!;

  // No name and a GET: the verb is list or watch, and a fieldSelector metadata.name=x names x.
  const rawFieldSelector = params.get('fieldSelector');
  const fieldSelector = rawFieldSelector === null ? undefined : parseFieldSelector(rawFieldSelector);
  if (info.name === '' && info.verb === 'get') {
    info.verb = queryBool(params, 'watch') ? 'watch' : 'list';
    const selectedName = requiresExactMatch(fieldSelector, 'metadata.name');
    if (selectedName !== undefined && isValidPathSegmentName(selectedName)) info.name = selectedName;
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';

  if (info.verb === 'list' || info.verb === 'watch' || info.verb === 'deletecollection') {
    if (fieldSelector !== undefined) info.fieldSelector = fieldSelector;
    const labelSelector = params.get('labelSelector');
    if (labelSelector !== null) info.labelSelector = labelSelector;
  }
  return info;
}
