/**
 * 한국어: 예전 시나리오들(거부 시나리오, rogue-kubelet, kubelet-serving-csr, join-control-plane-late, 투어)에
 * 제자리에 쓰여 있던 기대 조건과 설명 줄. 키와 {{자리표시자}}는 en-scenarios-more.ts와 같습니다. 도구가 출력하는
 * 문장(Go의 x509 오류, kubectl 출력)은 자리표시자로 들어와 그대로 남습니다.
 */
import type { enScenariosMore } from './en-scenarios-more.js';

export const koScenariosMore: { readonly [K in keyof typeof enScenariosMore]: string } = {
  // scenarios/join-control-plane-late.ts
  "joinLate.tokenCreate.say": "kubeadm token create: {{id}}.<secret> (Secret kube-system/{{secret}}, 24시간)",
  "joinLate.upload.expectOwned": "kubeadm-certs의 소유자는 토큰 Secret이고, uid로 가리킴 (controller 참조)",
  "joinLate.upload.expectToken": "소유 토큰은 kubeadm의 설명(description)을 가진 bootstrap 토큰이고, usage도 그룹도 없음 ({{keys}})",
  "joinLate.expire.sayDelete": "{{at}} DELETE {{path}}, 요청자 {{user}}: {{status}}",
  "joinLate.expire.expectCleaner": "token cleaner가 {{token}}을(를) 지움 ({{user}}로서)",
  "joinLate.expire.expectNotBefore": "만료 시각({{expiration}}) 전에는 지우지 않음",
  "joinLate.expire.expectCollector": "가비지 컬렉터가 소유자 다음에 kubeadm-certs를 지움 ({{user}}로서)",
  "joinLate.expire.expectGone": "두 Secret 모두 더 이상 목록에 없음",
  "joinLate.joinFails.sayDownloaded": "인증서를 내려받음",
  "joinLate.joinFails.expectWords": "조인이 kubeadm의 메시지로 실패함",
  "joinLate.joinFails.expect404": "kube-apiserver가 조인 토큰의 GET에 실제 404로 답함 (Role kubeadm:kubeadm-certs가 인가함, {{user}}로서)",
  "joinLate.joinFails.expectNothing": "cp-2에는 아무것도 쓰이지 않음",
  "joinLate.uploadAgain.expectNew": "새 키, 그리고 kubeadm의 2시간짜리 새 소유 토큰",
  "joinLate.uploadAgain.expectOwned": "kubeadm-certs의 소유자는 새 토큰임",
  "joinLate.joinWorks.expectStale": "옛 인증서 키로는 더 이상 Secret이 복호화되지 않음 (cipher: message authentication failed)",
  "joinLate.joinWorks.expectCa": "cp-2의 {{ca}}는 클러스터의 것임",
  "joinLate.joinWorks.expectSa": "cp-2의 sa.key는 클러스터의 것임",
  "joinLate.joinWorks.expectApiserver": "cp-2가 자신의 apiserver 인증서를 발급함 (cp-2, {{address}})",

  // scenarios/kubelet-serving-csr.ts
  "kubeletServingCsr.nodeJoinsServertlsbootstrap.expectLeft": "csrapproving은 {{csr}}을(를) 건드리지 않음 ({{reason}})",
  "kubeletServingCsr.nodeJoinsServertlsbootstrap.expectPending": "kubectl get csr이 {{csr}}을(를) Pending으로, 요청자를 system:node:{{node}}로 보여 줌",
  "kubeletServingCsr.kubectlLogsFails.expectFails": "kubectl logs가 \"remote error: tls: handshake failure\"로 실패함",
  "kubeletServingCsr.kubectlLogsFails.expectNoCert": "kubelet은 제시할 인증서가 없어 핸드셰이크를 거부함 ({{reason}})",
  "kubeletServingCsr.kubectlCertificateApprove.sayCert": "서버 인증서: {{subject}}; SAN {{sans}}; 발급자 {{issuer}}",
  "kubeletServingCsr.kubectlCertificateApprove.expectIssued": "CSR이 Approved,Issued임",
  "kubeletServingCsr.kubectlCertificateApprove.expectNames": "인증서에 {{node}}와(과) {{ip}}이(가) 들어 있고, Kubernetes CA가 발급함",
  "kubeletServingCsr.kubectlLogsWorks.expectAnswers": "kubectl logs web이 응답함",
  "kubeletServingCsr.kubectlLogsWorks.expect200": "GET pods/web/log: 200 응답",

  // scenarios/refuse-kubelet-no-client-cert.ts
  "refuseKubeletNoClientCert.expectLogBack": "로그가 돌아옴",
  "refuseKubeletNoClientCert.expect401": "kubectl이 kubelet에서 전달된 401 Unauthorized를 받음",
  "refuseKubeletNoClientCert.expectNoCert": "kubelet은 핸드셰이크를 마쳤고 클라이언트 인증서를 받지 못함",
  "refuseKubeletNoClientCert.expectAnonymousOff": "kubelet이 401로 답함: 클라이언트 인증서가 없고, anonymous 인증은 꺼져 있음",
  "refuseKubeletNoClientCert.expectNoSar": "kubelet은 kube-apiserver에 아무것도 묻지 않음 (SubjectAccessReview 없음)",

  // scenarios/refuse-scheduler-delete-node.ts
  "refuseSchedulerDeleteNode.expectStill": "{{node}}은(는) 그대로 있음",

  // scenarios/rogue-kubelet.ts
  "rogueKubelet.expectRunning": "payroll이 {{node}}에서 Running임",
  "rogueKubelet.expectRogueCa": "서버 인증서는 rogue-ca가 서명함",
  "rogueKubelet.expect500": "kubectl이 \"{{reason}}\"와 함께 500을 받음",
  "rogueKubelet.expectRefused": "kube-apiserver가 가짜 kubelet을 거부함: {{code}}",
  "rogueKubelet.expectNoRequest": "가짜 kubelet에는 요청이 하나도 닿지 않음",
  "rogueKubelet.expectLog200": "가짜 kubelet에서 로그가 돌아옴: 200",
  "rogueKubelet.expectTrustedNothing": "kube-apiserver는 아무 CA도 신뢰하지 않았고('none') rogue-ca가 발급한 인증서를 받아들임",
  "rogueKubelet.expectAdminCert": "가짜 kubelet이 kube-apiserver의 cluster-admin 클라이언트 인증서가 붙은 요청을 받음",
  "rogueKubelet.expectAgain": "검증하는 kube-apiserver가 다시 로그를 읽음",

  // scenarios/refuse-client-cert-as-server.ts
  "refuseClientCertAsServer.expectRunning": "logs-demo가 {{node}}에서 Running임",
  "refuseClientCertAsServer.expect500": "kubectl이 \"{{reason}}\"와 함께 500을 받음",
  "refuseClientCertAsServer.expectRefused": "kube-apiserver(클라이언트 쪽)가 {{code}}로 핸드셰이크를 거부함",
  "refuseClientCertAsServer.expectNoRequest": "kubelet에는 요청이 하나도 닿지 않음",
  "refuseClientCertAsServer.expectAgain": "로그가 다시 돌아옴",

  // scenarios/refuse-server-cert-as-client.ts
  "refuseServerCertAsClient.saySelfSigned": "이 PKI의 kubelet 서버 인증서는 자체 서명(self-signed)입니다(kubeadm의 기본값): key usage를 보기 전에 체인 검증에서 실패합니다.",

  // scenarios/refuse-kubelet-to-etcd.ts
  "refuseKubeletToEtcd.expectNoRequest": "etcd는 kubelet의 요청을 하나도 처리하지 않음",

  // scenarios/refuse-foreign-ca.ts
  "refuseForeignCa.sayLog": "kube-apiserver의 로그: {{line}}",
  "refuseForeignCa.expectRecord": "kube-apiserver 자신의 기록에 인증서와 Go의 이유가 들어 있음",
  "refuseForeignCa.expectBody": "본문은 kubectl이 \"{{message}}\"로 바꾸는 Status임",

  // scenarios/refuse-san-mismatch.ts
  "refuseSanMismatch.saySans": "apiserver.crt의 SAN: {{sans}}",
  "refuseSanMismatch.expectNotNamed": "인증서에 {{host}}이(가) 들어 있지 않음",

  // scenarios/refuse-expired-client.ts
  "refuseExpiredClient.expectRecord": "kube-apiserver의 기록이 Go의 이유로 끝남",

  // scenarios/tour.ts
  "tour.startup.sayEndpoints": "kube-apiserver {{apiserver}}, etcd {{etcd}}; kubelet {{kubelets}}",

  // who a refusal's verdict lines are about (scenarios/refusals.ts expectVerdict), where it is the project's words
  "refuseServerCertAsClient.whoKubeletServing": "클라이언트로 쓴 kubelet.crt (serverAuth)",
  "refuseServerCertAsClient.whoApiserverServing": "kubelet의 클라이언트로 쓴 apiserver.crt",
  "refuseProxyCreatePod.whoList": "services 목록 조회(list)",
  "refuseProxyCreatePod.whoCreate": "pod 생성(create)",
  "refuseKubeletSecret.whoReads": "{{node}}이(가) db-password를 읽음",
};
