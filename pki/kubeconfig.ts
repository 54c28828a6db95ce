/**
 * Kubeconfig files in kubeadm's format (cmd/kubeadm/app/phases/kubeconfig): one cluster, one user with
 * embedded client certificate and key, one context named `<user>@<cluster>`.
 */
import YAML, { LineCounter, type YAMLError } from 'yaml';
import { PkiError } from './errors.js';

export interface KubeconfigData {
  readonly server: string;
  readonly clusterName: string;
  readonly user: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

const b64 = (pem: string): string => Buffer.from(pem).toString('base64');

export function renderKubeconfig(k: KubeconfigData): string {
  const context = `${k.user}@${k.clusterName}`;
  return YAML.stringify({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(k.caPem), server: k.server }, name: k.clusterName }],
    contexts: [{ context: { cluster: k.clusterName, user: k.user }, name: context }],
    'current-context': context,
    kind: 'Config',
    preferences: {},
    users: [{ name: k.user, user: { 'client-certificate-data': b64(k.certPem), 'client-key-data': b64(k.keyPem) } }],
  }, { lineWidth: 0 });
}

/**
 * What each of the yaml library's error codes means, in words that carry nothing of the input. The
 * library's own messages quote it ("Unresolved alias ...: LS0tLS1CRUdJTi..." is a whole private key from
 * client-key-data) and its warnings go to stderr through process.emitWarning; neither is ever shown.
 */
const YAML_FAULTS: Record<YAMLError['code'], string> = {
  ALIAS_PROPS: 'an alias cannot have an anchor or a tag',
  BAD_ALIAS: 'unresolved alias',
  BAD_COLLECTION_TYPE: 'a collection of the wrong type',
  BAD_DIRECTIVE: 'bad directive',
  BAD_DQ_ESCAPE: 'bad escape in a double-quoted string',
  BAD_INDENT: 'bad indentation',
  BAD_PROP_ORDER: 'anchor and tag in the wrong order',
  BAD_SCALAR_START: 'a plain value cannot start with this character',
  BLOCK_AS_IMPLICIT_KEY: 'a block cannot be an implicit key',
  BLOCK_IN_FLOW: 'a block value inside a flow collection',
  DUPLICATE_KEY: 'duplicate key',
  IMPOSSIBLE: 'invalid YAML',
  KEY_OVER_1024_CHARS: 'an implicit key longer than 1024 characters',
  MISSING_CHAR: 'a closing quote or bracket is missing',
  MULTILINE_IMPLICIT_KEY: 'an implicit key must be on one line',
  MULTIPLE_ANCHORS: 'more than one anchor on a node',
  MULTIPLE_DOCS: 'more than one document',
  MULTIPLE_TAGS: 'more than one tag on a node',
  NON_STRING_KEY: 'a key that is not a string',
  RESOURCE_EXHAUSTION: 'too many aliases',
  TAB_AS_INDENT: 'tabs are not allowed as indentation',
  TAG_RESOLVE_FAILED: 'unresolved tag',
  UNEXPECTED_TOKEN: 'unexpected token',
};

/**
 * Parses YAML (or JSON) that may hold secrets: the error names the file, the line and column, and the
 * kind of fault, as Go's yaml package does ("yaml: line 19: ..."), and never the text; warnings are
 * errors too (an unresolved tag would otherwise turn a key into a string silently).
 */
export function parseYamlQuietly(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, logLevel: 'silent', prettyErrors: false, uniqueKeys: true });
  const invalid = (offset: number, code: YAMLError['code']): never => {
    const at = lineCounter.linePos(offset);
    throw new PkiError('KUBECONFIG_INVALID', `${file}: not valid YAML (yaml: line ${at.line}, column ${at.col}: ${YAML_FAULTS[code] ?? 'invalid YAML'})`, { file });
  };
  const fault = doc.errors[0] ?? doc.warnings[0];
  if (fault) invalid(fault.pos[0], fault.code);
  // An alias without its anchor fails only when converted, with the alias's text in the message.
  YAML.visit(doc, { Alias: (_key, node) => { if (!node.resolve(doc)) invalid(node.range?.[0] ?? 0, 'BAD_ALIAS'); } });
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch {
    throw new PkiError('KUBECONFIG_INVALID', `${file}: not valid YAML (${YAML_FAULTS.RESOURCE_EXHAUSTION})`, { file });
  }
}

interface RawConfig {
  clusters?: { name?: string; cluster?: Record<string, string> }[];
  contexts?: { name?: string; context?: { cluster?: string; user?: string } }[];
  users?: { name?: string; user?: Record<string, string> }[];
  'current-context'?: string;
}

/** Reads the current context's cluster and user; the file name goes into every error. */
export function parseKubeconfig(text: string, file: string): KubeconfigData {
  const bad = (what: string): never => { throw new PkiError('KUBECONFIG_INVALID', `${file}: ${what}`, { file }); };
  const raw = parseYamlQuietly(text, file) as RawConfig;
  if (raw === null || typeof raw !== 'object') bad('not a kubeconfig (expected a YAML mapping)');
  const ctxName = raw['current-context'];
  const ctx = raw.contexts?.find((c) => c.name === ctxName)?.context ?? bad(`current-context "${ctxName ?? ''}" is not defined`);
  const cluster = raw.clusters?.find((c) => c.name === ctx.cluster)?.cluster ?? bad(`cluster "${ctx.cluster ?? ''}" is not defined`);
  const user = raw.users?.find((u) => u.name === ctx.user)?.user ?? bad(`user "${ctx.user ?? ''}" is not defined`);
  const data = (m: Record<string, string>, key: string): string =>
    typeof m[key] === 'string' ? Buffer.from(m[key], 'base64').toString() : bad(`has no ${key} (only embedded data is supported)`);
  return {
    server: cluster.server ?? bad('cluster has no server'),
    clusterName: ctx.cluster ?? '',
    user: ctx.user ?? '',
    caPem: data(cluster, 'certificate-authority-data'),
    certPem: data(user, 'client-certificate-data'),
    keyPem: data(user, 'client-key-data'),
  };
}
