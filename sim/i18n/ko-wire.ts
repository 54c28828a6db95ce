/**
 * 한국어: `--wire`가 기록된 바이트에서 읽어 메시지마다 들려주는 연결 이야기와, 캡처와 리포트에 대한 CLI의 줄.
 * TLS 메시지와 alert 이름(ClientHello, CertificateRequest, bad_certificate, ...)은 RFC와 Wireshark의 이름 그대로 둡니다.
 */
import type { enWire } from './en-wire.js';

export const koWire: { readonly [K in keyof typeof enWire]: string } = {
  'wire.head': '{{client}} → {{server}}, {{version}}{{suite}}{{decryption}}:',
  'wire.noVersion': '합의된 TLS 버전 없음',
  'wire.decryptedAfterHello': ' (ServerHello 이후의 핸드셰이크를 key log로 복호화함)',
  'wire.encryptedNoKeys': ' (ServerHello 이후 암호화됨; 키 없음)',
  'wire.abbreviated': '(축약된 핸드셰이크: 서버가 이전 세션을 재개하므로 인증서를 주고받지 않음)',
  'wire.clientHello': '{{arrow}} ClientHello: SNI {{sni}}; 버전 {{versions}}; 그룹 {{groups}}{{keyShare}}',
  'wire.noSni': '(없음: IP 주소로 접속함)',
  'wire.clientKeyShare': '; 키 공유 {{shares}}',
  'wire.serverHello': '{{arrow}} {{hello}}: {{version}}, {{suite}}{{keyShare}}{{resumed}}',
  'wire.serverKeyShare': ', 키 공유 {{shares}}',
  'wire.resumed': ', 이전 세션을 재개함(PSK): 인증서를 주고받지 않음',
  'wire.certificateRequest': '{{arrow}} CertificateRequest{{enc}}: 받아들이는 CA {{cas}}',
  'wire.noCasListed': '(목록 없음: 어느 CA든)',
  'wire.certificate': '{{arrow}} Certificate{{enc}}: {{certs}}',
  'wire.certificateThen': ', 그다음 ',
  'wire.certificateEmpty': '{{arrow}} Certificate{{enc}}: 비어 있음 (인증서 없음)',
  'wire.cert': '{{subject}} (발급자 {{issuer}})',
  'wire.certificateVerify': '{{arrow}} CertificateVerify{{enc}} ({{signature}}): 자신이 보낸 인증서의 키를 가지고 있음을 증명',
  'wire.decrypted': ' [복호화됨]',
  'wire.closeNotify': '{{arrow}} alert close_notify (연결 종료)',
  'wire.alert': '{{arrow}} ALERT {{level}} {{description}}{{enc}}: {{who}}이(가) 거부',
  'wire.appData.one': '{{arrow}} application data (레코드 {{records}}개, {{bytes}}바이트{{decrypted}})',
  'wire.appData.other': '{{arrow}} application data (레코드 {{records}}개, {{bytes}}바이트{{decrypted}})',
  'wire.appDataDecrypted': ', 복호화됨',
  'wire.changeCipherSpec': '{{arrow}} ChangeCipherSpec: 이후 내용은 암호화됨',
  'wire.undecryptable.one': '{{arrow}} 암호화된 레코드 {{records}}개 (key log에 그 키가 없음)',
  'wire.undecryptable.other': '{{arrow}} 암호화된 레코드 {{records}}개 (key log에 그 키가 없음)',
  'wire.fin': '{{arrow}} 연결을 닫음 (FIN)',
  'wire.rst': '{{arrow}} 연결을 리셋함 (RST)',
  'wire.noAlert': 'alert를 보내지 않음: {{who}}이(가) alert 없이 연결을 끝냄{{why}}',
  'wire.noAlertEtcd': ' (내장 etcd는 Node로 동작하여 핸드셰이크가 끝난 뒤 클라이언트 인증서를 검사하고 연결을 닫습니다; Go로 된 etcd는 alert bad_certificate를 보냅니다)',

  'cli.capture': '캡처: TCP 연결 {{n}}개는 {{pcapng}}에, TLS 비밀 값은 {{keys}}에',
  'cli.reportWrote': '리포트: {{file}} 작성함',
};
