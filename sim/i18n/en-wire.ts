/**
 * English, the source: what `--wire` prints about a connection, message by message from the recorded bytes
 * (sim/wire/narrate-wire.ts), and the CLI's lines about a capture and a report. The TLS message and alert
 * names (ClientHello, CertificateRequest, bad_certificate, ...) stay as the RFCs and Wireshark name them.
 */
export const enWire = {
  'wire.head': '{{client}} → {{server}}, {{version}}{{suite}}{{decryption}}:',
  'wire.noVersion': 'no TLS version agreed',
  'wire.decryptedAfterHello': ' (handshake after ServerHello decrypted with the key log)',
  'wire.encryptedNoKeys': ' (encrypted after ServerHello; no keys)',
  'wire.abbreviated': '(an abbreviated handshake: the server resumes an earlier session, so no certificates are exchanged)',
  'wire.clientHello': '{{arrow}} ClientHello: SNI {{sni}}; versions {{versions}}; groups {{groups}}{{keyShare}}',
  'wire.noSni': '(none: an IP address was dialled)',
  'wire.clientKeyShare': '; key share {{shares}}',
  'wire.serverHello': '{{arrow}} {{hello}}: {{version}}, {{suite}}{{keyShare}}{{resumed}}',
  'wire.serverKeyShare': ', key share {{shares}}',
  'wire.resumed': ', resuming an earlier session (PSK): no certificates are exchanged',
  'wire.certificateRequest': '{{arrow}} CertificateRequest{{enc}}: acceptable CAs {{cas}}',
  'wire.noCasListed': '(none listed: any)',
  'wire.certificate': '{{arrow}} Certificate{{enc}}: {{certs}}',
  'wire.certificateThen': ', then ',
  'wire.certificateEmpty': '{{arrow}} Certificate{{enc}}: empty (no certificate)',
  'wire.cert': '{{subject}} (issuer {{issuer}})',
  'wire.certificateVerify': '{{arrow}} CertificateVerify{{enc}} ({{signature}}): proves it holds the key of the certificate it sent',
  'wire.decrypted': ' [decrypted]',
  'wire.closeNotify': '{{arrow}} alert close_notify (closing)',
  'wire.alert': '{{arrow}} ALERT {{level}} {{description}}{{enc}}: {{who}} refuses',
  'wire.appData.one': '{{arrow}} application data ({{records}} record, {{bytes}} bytes{{decrypted}})',
  'wire.appData.other': '{{arrow}} application data ({{records}} records, {{bytes}} bytes{{decrypted}})',
  'wire.appDataDecrypted': ', decrypted',
  'wire.changeCipherSpec': '{{arrow}} ChangeCipherSpec: what follows is encrypted',
  'wire.undecryptable.one': '{{arrow}} {{records}} encrypted record (no key for them in the key log)',
  'wire.undecryptable.other': '{{arrow}} {{records}} encrypted records (no key for them in the key log)',
  'wire.fin': '{{arrow}} closes the connection (FIN)',
  'wire.rst': '{{arrow}} resets the connection (RST)',
  'wire.noAlert': 'no alert was sent: {{who}} ended the connection without one{{why}}',
  'wire.noAlertEtcd': ' (the embedded etcd is Node, which checks the client certificate after the handshake and closes; a Go etcd sends the alert bad_certificate)',

  'cli.capture': 'capture: {{n}} TCP connections in {{pcapng}}, TLS secrets in {{keys}}',
  'cli.reportWrote': 'report: wrote {{file}}',
} as const;
