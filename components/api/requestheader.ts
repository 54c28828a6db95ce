/**
 * The request-header (front proxy) authentication settings and how they travel: kubeadm gives the
 * apiserver
 *   --requestheader-client-ca-file=front-proxy-ca.crt  --requestheader-allowed-names=front-proxy-client
 *   --requestheader-username-headers=X-Remote-User     --requestheader-group-headers=X-Remote-Group
 *   --requestheader-extra-headers-prefix=X-Remote-Extra-
 * and the apiserver's ClientCARegistrationHook publishes them (with --client-ca-file) in
 * kube-system/extension-apiserver-authentication, list values as JSON arrays, where extension
 * apiservers read them (k8s.io/apiserver's DelegatingAuthenticationOptions).
 */
import type { KubeObject } from './types.js';

export interface RequestHeaderOptions {
  /** --requestheader-client-ca-file: the front-proxy CA (PEM). */
  readonly clientCa: string;
  /** --requestheader-allowed-names; empty: any certificate from clientCa. */
  readonly allowedNames: readonly string[];
  readonly usernameHeaders: readonly string[];
  readonly groupHeaders: readonly string[];
  readonly extraHeadersPrefix: readonly string[];
}

/** kubeadm's values, with the front-proxy CA's PEM. */
export const kubeadmRequestHeader = (frontProxyCa: string): RequestHeaderOptions => ({
  clientCa: frontProxyCa, allowedNames: ['front-proxy-client'], usernameHeaders: ['X-Remote-User'],
  groupHeaders: ['X-Remote-Group'], extraHeadersPrefix: ['X-Remote-Extra-'],
});

export const EXTENSION_APISERVER_AUTHENTICATION = 'extension-apiserver-authentication';

export type AuthenticationConfigMap = KubeObject & { data: Record<string, string> };

/** The ConfigMap as the hook writes it. */
export function extensionApiserverAuthentication(clientCa: string, rh: RequestHeaderOptions | undefined): AuthenticationConfigMap {
  const data: Record<string, string> = { 'client-ca-file': clientCa };
  if (rh) {
    data['requestheader-client-ca-file'] = rh.clientCa;
    data['requestheader-allowed-names'] = JSON.stringify(rh.allowedNames);
    data['requestheader-username-headers'] = JSON.stringify(rh.usernameHeaders);
    data['requestheader-group-headers'] = JSON.stringify(rh.groupHeaders);
    data['requestheader-extra-headers-prefix'] = JSON.stringify(rh.extraHeadersPrefix);
  }
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: EXTENSION_APISERVER_AUTHENTICATION, namespace: 'kube-system' }, data };
}

/** What an extension apiserver reads back: the client CA and, when present, the request-header settings. */
export function readAuthenticationConfigMap(cm: { data?: Record<string, string> }): { clientCa: string | undefined; requestHeader: RequestHeaderOptions | undefined } {
  const d = cm.data ?? {};
  const list = (k: string): string[] => {
    const v = d[k];
    if (!v) return [];
    const parsed: unknown = JSON.parse(v);
    if (!Array.isArray(parsed)) throw new Error(`${EXTENSION_APISERVER_AUTHENTICATION}: ${k} is not a JSON list`);
    return parsed.map(String);
  };
  const rhCa = d['requestheader-client-ca-file'];
  return {
    clientCa: d['client-ca-file'] || undefined,
    requestHeader: rhCa ? {
      clientCa: rhCa, allowedNames: list('requestheader-allowed-names'), usernameHeaders: list('requestheader-username-headers'),
      groupHeaders: list('requestheader-group-headers'), extraHeadersPrefix: list('requestheader-extra-headers-prefix'),
    } : undefined,
  };
}

/** Go's headerKeyEscape for X-Remote-Extra-<key>: bytes outside the token set become %XX. */
export function headerKeyEscape(key: string): string {
  let out = '';
  for (const b of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9!#$&'*+\-.^_`|~]/.test(c) && c !== '%' ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
