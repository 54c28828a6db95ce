/**
 * The project's error base. Every error class in the project extends `KubeSimError` with its own
 * string-literal union of codes: `code` is stable (tests and callers branch on it, never on the
 * message), `cause` is the standard ErrorOptions cause (the lower-level error, kept for the log), and
 * anything else a caller may act on (an HTTP status, a file, a revision) is a field of its own. It
 * lives in pki/, the ground floor, so every floor above can extend it.
 */
export class KubeSimError<C extends string = string> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The one error class of the PKI layer. `code` is stable (tests and callers branch on it);
 * `message` is the one line a user sees: it names the file or certificate and the fault.
 */
export type PkiErrorCode =
  | 'SPEC_INVALID' // the spec table is inconsistent (unknown CA, duplicate name, leaf without usage)
  | 'BAD_ARGUMENT' // a command-line value that cannot be used (unknown node name, bad algorithm)
  | 'DIR_MISSING' // the directory given does not exist
  | 'DIR_UNWRITABLE' // the directory cannot be written
  | 'FILE_MISSING' // a file the layout needs is absent
  | 'PEM_INVALID' // not PEM, truncated, or not the block type expected
  | 'KEY_TYPE' // a key of an algorithm the layout does not accept
  | 'KEY_MISMATCH' // a certificate whose public key is not the key beside it
  | 'CA_MISMATCH' // a certificate not signed by the CA the table names
  | 'CA_EXPIRED' // a CA that is expired or not yet valid, so nothing can be signed with it
  | 'CSR_INVALID' // a CSR whose signature or content is wrong
  | 'CERT_INVALID' // a certificate whose DER (its subject name) Go's crypto/x509 would not parse
  | 'KUBECONFIG_INVALID' // a kubeconfig that cannot be read
  | 'CERT_KEY_INVALID' // a control-plane certificate key that is not hex, not an AES key, or does not decrypt kubeadm-certs
  | 'CERTS_SECRET_MISSING'; // the kubeadm-certs Secret is gone (deleted with its expired token, or never uploaded)

export class PkiError extends KubeSimError<PkiErrorCode> {
  readonly file: string | undefined;

  constructor(code: PkiErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.file = options.file;
  }
}
