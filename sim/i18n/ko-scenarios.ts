/** 한국어: 투어 밖 시나리오들의 제목, 요약, 단계 제목과 설명. 키와 {{자리표시자}}는 en-scenarios.ts와 같습니다. */
import type { enScenarios } from './en-scenarios.js';

export const koScenarios: { readonly [K in keyof typeof enScenarios]: string } = {
  // the refusals' shared verdict (scenarios/refusals.ts)
  "verdict.client": "클라이언트",
  "verdict.server": "서버",
  "verdict.tlsRefused": "TLS 핸드셰이크를 {{side}}가 거부",
  "verdict.allowed": "허용",
  "verdict.as": ", 신원 {{user}}",
  "verdict.layerTls": "TLS 핸드셰이크 ({{side}}가 거부)",
  "verdict.layerNone": "막은 계층 없음: 허용",
  "verdict.decidedAt": "{{who}}: 판정 — {{layer}}",
  "verdict.code": "{{who}}: OpenSSL 코드는 {{code}}",
  "verdict.reason": "{{who}}: 이유는 {{reason}}",
  "verdict.user": "{{who}}: 서버가 {{user}}(으)로 인증함",
  // scenarios/refuse-foreign-ca.ts
  "scenario.refuse-foreign-ca.title": "거부: 다른 CA가 발급한 클라이언트 인증서 (kube-apiserver의 401)",
  "scenario.refuse-foreign-ca.summary": "admin.conf와 같은 이름(CN=kubernetes-admin, O=kubeadm:cluster-admins)을 \"kubernetes\"라는 이름의, 그러나 이\n" +
    "클러스터의 것이 아닌 CA가 서명했습니다. 이름은 아무것도 증명하지 못합니다: --client-ca-file까지 이어지는 서명 체인만이 증명합니다.",
  "refuseForeignCa.adminConfReal.title": "진짜 admin.conf",
  "refuseForeignCa.adminConfReal.lesson": "비교를 위해: kubeadm이 ca.key로 서명한 인증서입니다. kube-apiserver는 --client-ca-file(pki/ca.crt)까지의\n" +
    "체인을 검증하고, CN에서 사용자를, O 값에서 그룹을 가져옵니다.",
  "refuseForeignCa.sameNamesFrom.title": "다른 CA가 서명한 같은 이름",
  "refuseForeignCa.sameNamesFrom.lesson": "kube-apiserver는 클라이언트 인증서를 요청하지만 핸드셰이크의 성패를 그것에 걸지는 않습니다: TLS 연결은\n" +
    "완료되고, OpenSSL은 UNABLE_TO_VERIFY_LEAF_SIGNATURE를 기록하며, x509 authenticator가 이를 오류로 바꾸어\n" +
    "요청은 401 Unauthorized가 됩니다(system:anonymous로 넘어가지 않습니다: 잘못된 자격 증명은 anonymous로\n" +
    "대체되지 않습니다). kubectl은 \"error: You must be logged in to the server (Unauthorized)\"를 출력하고,\n" +
    "kube-apiserver는 \"Unable to authenticate the request\"와 함께\n" +
    "\"verifying certificate SN=..., SKID=..., AKID=... failed: x509: certificate signed by unknown authority\"를 로그에 남깁니다.",
  // scenarios/refuse-kubelet-to-etcd.ts
  "scenario.refuse-kubelet-to-etcd.title": "거부: etcd에 제시된 kubelet의 인증서 (etcd가 핸드셰이크를 거부)",
  "scenario.refuse-kubelet-to-etcd.summary": "etcd는 --client-cert-auth와 --trusted-ca-file=etcd/ca.crt로 실행됩니다. 여기서 etcd에는 자체 사용자나 RBAC가\n" +
    "없습니다: etcd CA가 곧 접근 제어이므로, Kubernetes CA가 발급한 인증서로는 요청 하나도 들어가지 못합니다.",
  "refuseKubeletToEtcd.apiserverReadsRegistry.title": "kube-apiserver가 apiserver-etcd-client로 /registry/를 읽음",
  "refuseKubeletToEtcd.apiserverReadsRegistry.lesson": "etcd가 존재하는 이유인 단 하나의 클라이언트입니다: 인증서가 etcd CA의 서명을 받았으므로 핸드셰이크가 완료되고\n" +
    "range 요청이 처리됩니다.",
  "refuseKubeletToEtcd.kubeletDialsEtcd.title": "{{node}}의 kubelet이 etcd에 접속",
  "refuseKubeletToEtcd.kubeletDialsEtcd.lesson": "kubelet의 클라이언트 인증서(CN=system:node:{{node}}, O=system:nodes)는 유효하고 서명도 있지만, 서명한 것은\netcd가 신뢰하지 않는 Kubernetes CA입니다. etcd는 핸드셰이크를 거부합니다: HTTP 요청은 한 번도 읽히지 않습니다.\n실제 etcd는 \"rejected connection from ... (error \"tls: failed to verify client certificate: x509: certificate\nsigned by unknown authority\")\"를 로그에 남기고, 클라이언트(TLS 1.3에서는 자기 쪽 핸드셰이크를 먼저 끝냅니다)는\n연결이 리셋되는 것을 보며, etcdctl은 \"context deadline exceeded\"로 끝납니다.",
  // scenarios/refuse-proxy-create-pod.ts
  "scenario.refuse-proxy-create-pod.title": "거부: Pod를 만드는 kube-proxy (RBAC의 403)",
  "scenario.refuse-proxy-create-pod.summary": "kube-proxy.conf는 system:kube-proxy로 인증되며, kubeadm의 ClusterRoleBinding은 이 사용자를 system:node-proxier에\n" +
    "바인딩합니다: services, endpoints, endpointslices의 list와 watch, nodes 읽기, events 생성.",
  "refuseProxyCreatePod.kubeProxyLists.title": "kube-proxy가 services를 list함",
  "refuseProxyCreatePod.kubeProxyLists.lesson": "kube-proxy가 노드의 규칙을 만들려면 필요한 것: system:node-proxier가 허용합니다.",
  "refuseProxyCreatePod.kubeProxyCreates.title": "kube-proxy가 Pod를 만듦",
  "refuseProxyCreatePod.kubeProxyCreates.lesson": "kube-proxy는 모든 노드에서 실행되므로 그 자격 증명도 모든 노드에 있습니다: 그래서 RBAC가 권한을 좁게 유지합니다.\n" +
    "Pod 생성은 system:node-proxier에 없으므로, kube-apiserver는 요청 본문을 보기도 전에 403으로 응답합니다.",
  // scenarios/refuse-scheduler-delete-node.ts
  "scenario.refuse-scheduler-delete-node.title": "거부: Node를 삭제하는 scheduler (RBAC의 403)",
  "scenario.refuse-scheduler-delete-node.summary": "scheduler.conf는 system:kube-scheduler로 인증됩니다. 부트스트랩 ClusterRole system:kube-scheduler는 nodes 읽기,\n" +
    "Pod 바인딩, Pod 삭제(preemption)를 허용하지만 nodes 삭제는 허용하지 않습니다.",
  "refuseSchedulerDeleteNode.schedulerReadsNode.title": "scheduler가 Node를 읽음",
  "refuseSchedulerDeleteNode.schedulerReadsNode.lesson": "nodes에 대한 get은 system:kube-scheduler에 들어 있습니다: RBAC가 허용하고 어느 바인딩이 허용했는지 알려 줍니다.",
  "refuseSchedulerDeleteNode.schedulerDeletesNode.title": "scheduler가 Node를 삭제함",
  "refuseSchedulerDeleteNode.schedulerDeletesNode.lesson": "인증은 성공하고(유효한 인증서), 인가가 실패합니다: Node authorizer(노드가 아님)도 RBAC(nodes에 대한 delete\n" +
    "규칙 없음)도 허용하지 않습니다. 403은 사용자, verb, resource, API group, scope를 kube-apiserver의 문구 그대로 밝힙니다.",
  // scenarios/refuse-kubelet-no-client-cert.ts
  "scenario.refuse-kubelet-no-client-cert.title": "거부: 클라이언트 인증서 없이 kubelet을 호출하는 kube-apiserver (kubelet의 401)",
  "scenario.refuse-kubelet-no-client-cert.summary": "kubelet API(포트 10250)는 logs, exec, port-forward를 실행하므로, kubeadm은 anonymous 인증을 끄고\n" +
    "(authentication.anonymous.enabled: false) Kubernetes CA가 발급한 클라이언트 인증서를 신뢰합니다(clientCAFile).\n" +
    "kube-apiserver는 apiserver-kubelet-client로 자신을 증명하거나, 아예 증명하지 못합니다.",
  "refuseKubeletNoClientCert.kubectlLogsThrough.title": "클러스터의 kube-apiserver를 거친 kubectl logs",
  "refuseKubeletNoClientCert.kubectlLogsThrough.lesson": "kube-apiserver는 apiserver-kubelet-client(CN=kube-apiserver-kubelet-client, O=kubeadm:cluster-admins)를 제시하고,\n" +
    "kubelet은 이를 자신의 client CA로 검증한 뒤 그 사용자가 nodes/proxy를 get할 수 있는지 kube-apiserver에\n" +
    "묻습니다(SubjectAccessReview): cluster-admin이므로 가능합니다.",
  "refuseKubeletNoClientCert.kubectlLogsThrough2.title": "--kubelet-client-certificate 없는 kube-apiserver를 거친 kubectl logs",
  "refuseKubeletNoClientCert.kubectlLogsThrough2.lesson": "같은 etcd에 붙은 두 번째 kube-apiserver로, kubelet 클라이언트 인증서 없이 시작했습니다. kubelet은 인증서를\n" +
    "요청하지만 받지 못하고, anonymous 인증이 꺼져 있으므로 SubjectAccessReview 전에 401 Unauthorized로 응답합니다.\n" +
    "kube-apiserver는 이를 kubectl에 그대로 전달합니다.",
  // scenarios/kubelet-serving-csr.ts
  "scenario.kubelet-serving-csr.title": "serverTLSBootstrap: kubelet-serving CSR은 Pending으로 남고, kubectl certificate approve 전까지 logs가 실패",
  "scenario.kubelet-serving-csr.summary": "kubernetes.io/kubelet-serving은 자동 승인되지 않습니다. 관리자가 CSR을 승인하기 전까지 kube-apiserver의 logs 호출은 실패합니다(tls handshake).",
  "kubeletServingCsr.nodeJoinsServertlsbootstrap.title": "serverTLSBootstrap: true로 노드가 조인함",
  "kubeletServingCsr.nodeJoinsServertlsbootstrap.lesson": "클라이언트 인증서는 평소의 bootstrap으로 받습니다. 서버 인증서를 위해서는 kubelet-serving CSR을 올리고, 그것이\n" +
    "서명되기 전까지는 :10250에서 제시할 인증서가 없습니다.",
  "kubeletServingCsr.kubectlLogsFails.title": "kubectl logs 실패: kubelet에 서버 인증서가 없음",
  "kubeletServingCsr.kubectlLogsFails.lesson": "kube-apiserver가 로그를 가져오려고 kubelet에 접속합니다(apiserver-kubelet-client). kubelet은 제시할 것이 없어서\n" +
    "핸드셰이크가 alert로 끝납니다. (Go로 된 kubelet은 \"remote error: tls: internal error\"로 응답하고, OpenSSL은 handshake_failure를 보냅니다.)",
  "kubeletServingCsr.kubectlCertificateApprove.title": "kubectl certificate approve",
  "kubeletServingCsr.kubectlCertificateApprove.lesson": "관리자가 승인합니다(certificatesigningrequests/approval에 대한 update, signers/kubernetes.io/kubelet-serving에 대한 `approve`).\n" +
    "csrsigning 컨트롤러가 ca.key로 서명하고, kubelet은 실행 중인 서버에 그 인증서를 설치합니다.",
  "kubeletServingCsr.kubectlLogsWorks.title": "kubectl logs 성공",
  "kubeletServingCsr.kubectlLogsWorks.lesson": "같은 kubelet 프로세스, 같은 포트입니다: kube-apiserver(여기서는 kubelet을 Kubernetes CA로 검증합니다)가 새\n" +
    "인증서를 받아들입니다.",
};
