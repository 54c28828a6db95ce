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
  // scenarios/refuse-server-cert-as-client.ts
  "scenario.refuse-server-cert-as-client.title": "거부: 클라이언트 인증서로 쓰인 서버 인증서 (401, 맞지 않는 key usage)",
  "scenario.refuse-server-cert-as-client.summary": "kubelet에는 같은 CA가 발급한 같은 이름(CN=system:node:<node>, O=system:nodes)의 인증서가 두 개 있습니다:\n" +
    "clientAuth용인 kubelet.conf의 인증서와 serverAuth용인 /var/lib/kubelet/pki/kubelet.crt입니다. extended key usage는\n" +
    "인증서가 핸드셰이크의 어느 쪽에 설 수 있는지를 말하며, OpenSSL과 Go 모두 이를 확인합니다.",
  "refuseServerCertAsClient.nodeSKubelet.title": "클라이언트 인증서를 쓰는 {{node}}의 kubelet",
  "refuseServerCertAsClient.nodeSKubelet.lesson": "kubelet.conf에는 clientAuth 인증서가 들어 있습니다: kube-apiserver는 system:node:<node>로 인증하고, Node\n" +
    "authorizer는 자기 Node를 읽도록 허용합니다.",
  "refuseServerCertAsClient.nodeSKubelet2.title": "서버 인증서를 쓰는 {{node}}의 kubelet",
  "refuseServerCertAsClient.nodeSKubelet2.lesson": "이름도 CA도 같지만 extended key usage에는 serverAuth만 있습니다. OpenSSL은 클라이언트 인증서를 검증할 때\n" +
    "clientAuth를 요구하므로 INVALID_PURPOSE를 보고하고, kube-apiserver는 핸드셰이크를 완료한 뒤 x509 authenticator가\n" +
    "401로 응답합니다(\"x509: certificate specifies an incompatible key usage\").",
  "refuseServerCertAsClient.apiserverSServing.title": "kubelet에 제시된 kube-apiserver의 서버 인증서",
  "refuseServerCertAsClient.apiserverSServing.lesson": "kubelet에서도 마찬가지입니다: pki/apiserver.crt(serverAuth)는 apiserver-kubelet-client(clientAuth)가 아닙니다.\n" +
    "kubelet의 x509 authenticator는 SubjectAccessReview 전에 401로 거부합니다.",
  // scenarios/refuse-client-cert-as-server.ts
  "scenario.refuse-client-cert-as-server.title": "거부: 클라이언트 인증서로 서비스하는 kubelet (kube-apiserver가 서버를 거부)",
  "scenario.refuse-client-cert-as-server.summary": "--tls-cert-file이 클라이언트 인증서를 가리키는 kubelet: 이름도 CA도 같지만 clientAuth 전용입니다.\n" +
    "kube-apiserver는 `kubectl logs`를 위해 이 kubelet에 접속하고, 서버 인증서를 확인한 뒤 거부합니다.",
  "refuseClientCertAsServer.podNode.title": "{{node}}의 Pod",
  "refuseClientCertAsServer.podNode.lesson": "kubectl logs는 kubectl → kube-apiserver → kubelet으로 갑니다. kube-apiserver는 kubelet의 서버 인증서를\n" +
    "Kubernetes CA로 검증합니다(--kubelet-certificate-authority): 노드 IP를 담은 serverAuth 인증서여야 합니다.",
  "refuseClientCertAsServer.nodeSKubelet.title": "{{node}}의 kubelet이 kubelet.conf의 클라이언트 인증서로 서비스함",
  "refuseClientCertAsServer.nodeSKubelet.lesson": "이 인증서의 key usage는 clientAuth뿐입니다. kube-apiserver 쪽의 OpenSSL은 서버 인증서를 serverAuth 용도로\n" +
    "검사해 INVALID_PURPOSE를 보고하고, Go는 \"x509: certificate specifies an incompatible key usage\"를 출력합니다.\n" +
    "kube-apiserver는 요청을 보내지 않습니다: kubectl은 URL과 이유를 밝힌 메시지와 함께 500을 받습니다.",
  "refuseClientCertAsServer.backServingCertificate.title": "다시 서버 인증서로",
  "refuseClientCertAsServer.backServingCertificate.lesson": "kubelet.crt(serverAuth)를 다시 설치하면 새 연결은 검증을 통과하고 로그가 돌아옵니다.",
  // scenarios/refuse-node-status-other.ts
  "scenario.refuse-node-status-other.title": "거부: node-2의 상태를 고치는 node-1의 kubelet (NodeRestriction의 403)",
  "scenario.refuse-node-status-other.summary": "모든 kubelet은 system:nodes 그룹에 속합니다. Node authorizer는 어느 노드든 노드 상태 update를 허용하고(verb와\n" +
    "resource가 규칙에 있습니다), 그다음 NodeRestriction admission plugin이 그 Node가 누구의 것인지 확인합니다.",
  "refuseNodeStatusOther.patchesOwnStatus.title": "{{a}}의 kubelet이 자기 상태를 PATCH함",
  "refuseNodeStatusOther.patchesOwnStatus.lesson": "kubelet이 몇 초마다 하는 일입니다: PATCH nodes/<자기 이름>/status.",
  "refuseNodeStatusOther.marksBNotready.title": "{{a}}의 kubelet이 {{b}}의 Node를 NotReady로 표시함",
  "refuseNodeStatusOther.marksBNotready.lesson": "탈취된 {{a}}의 kubelet이 {{b}}를 서비스에서 빼려 합니다. 인증: system:node:{{a}}, 문제없음. 인가: Node authorizer는\n노드 신원에 nodes/status의 update/patch를 허용합니다. Admission: NodeRestriction이 사용자 이름에 든 노드와\n객체를 비교해 거부합니다: admission 계층의 403입니다.",
  // scenarios/refuse-kubelet-secret.ts
  "scenario.refuse-kubelet-secret.title": "거부: 자기 노드의 어떤 Pod도 쓰지 않는 Secret을 읽는 kubelet (Node authorizer의 403)",
  "scenario.refuse-kubelet-secret.summary": "Node authorizer는 Pod, 각 Pod가 배정된 노드, 각 Pod가 쓰는 secret, configmap, volume의 그래프를 유지합니다.\n" +
    "kubelet은 secret → Pod → 자기 노드로 이어지는 경로가 있을 때만 secret을 읽을 수 있습니다.",
  "refuseKubeletSecret.secretThatNo.title": "어떤 Pod도 쓰지 않는 Secret",
  "refuseKubeletSecret.secretThatNo.lesson": "kubectl이 default/db-password를 만듭니다. {{node}}의 kubelet이 이를 요청합니다: RBAC는 system:nodes에 아무 권한도\n주지 않고(system:node 롤은 누구에게도 바인딩되어 있지 않습니다), Node authorizer는 secret에서 노드로 가는 경로를 찾지 못합니다.",
  "refuseKubeletSecret.podNodeMounts.title": "{{node}}의 Pod가 그 Secret을 마운트함",
  "refuseKubeletSecret.podNodeMounts.lesson": "그 노드에 배정된 Pod가 마운트하면 그래프에 secret → Pod → 노드 경로가 생기고 같은 요청이 허용됩니다: kubelet이\n" +
    "그 Pod를 시작하려면 필요하기 때문입니다. Pod를 지우면 경로도 다시 사라집니다.",
  // scenarios/refuse-san-mismatch.ts
  "scenario.refuse-san-mismatch.title": "거부: 인증서에 없는 주소로 접속한 kube-apiserver (클라이언트가 거부)",
  "scenario.refuse-san-mismatch.summary": "kubeadm이 만든 kube-apiserver 인증서에는 노드 이름, kubernetes.default 이름들, 첫 번째 Service IP, advertise\n" +
    "address가 들어 있습니다. 그 밖의 주소(여기서는 TCP 로드 밸런서를 거친 127.0.0.1)로 접속한 클라이언트는 서버를\n" +
    "거부합니다: 서버에는 아무것도 묻지 않습니다.",
  "refuseSanMismatch.sansPkiApiserver.title": "pki/apiserver.crt의 SAN",
  "refuseSanMismatch.sansPkiApiserver.lesson": "TLS 클라이언트는 자신이 접속한 이름이나 IP가 인증서의 SAN에 있는지 확인합니다(IP라면 IP SAN만 셉니다).\n" +
    "그래서 kubeadm에는 --apiserver-cert-extra-sans가 있고, kubeconfig에는 인증서에 나열된 주소를 써야 합니다.",
  "refuseSanMismatch.kubectlServerHttps.title": "--server https://{{advertiseAddress}}:<port>로 접속한 kubectl (인증서에 있는 이름)",
  "refuseSanMismatch.kubectlServerHttps.lesson": "advertise address는 인증서에 들어 있습니다: 핸드셰이크가 양방향으로 검증되고 요청이 처리됩니다.",
  "refuseSanMismatch.kubectlServerHttps2.title": "TCP 로드 밸런서를 거쳐 --server https://{{host}}:<port>로 접속한 kubectl",
  "refuseSanMismatch.kubectlServerHttps2.lesson": "같은 kube-apiserver, 같은 인증서에 {{host}}로 접속합니다. 클라이언트 쪽 OpenSSL은 ERR_TLS_CERT_ALTNAME_INVALID를\n보고하고, kubectl은 \"Unable to connect to the server: x509: certificate is valid for ..., not ...\"을 출력합니다.\n해결책은 그 주소를 담은 인증서(kubeadm: --apiserver-cert-extra-sans 후 renew)이지, insecure-skip-tls-verify가 아닙니다.",
  // scenarios/rogue-kubelet.ts
  "scenario.rogue-kubelet.title": "가짜 kubelet: --kubelet-certificate-authority 없이는 받아들여지고, 있으면 거부됨",
  "scenario.rogue-kubelet.summary": "노드의 주소에서 포트 10250으로 응답하는 쪽이 누구든 kube-apiserver의 logs, exec, port-forward 요청과\n" +
    "apiserver-kubelet-client 인증서의 핸드셰이크를 받습니다. kubeadm은 --kubelet-certificate-authority를 설정하지\n" +
    "않으므로, 기본 설정의 kube-apiserver는 상대가 누구인지 확인하지 않습니다(CIS benchmark 1.2.5).",
  "rogueKubelet.podNode.title": "{{node}}의 Pod",
  "rogueKubelet.podNode.lesson": "kube-apiserver가 kubelet에 요청할 것은 이 Pod의 로그입니다.",
  "rogueKubelet.nodeSAddress.title": "{{node}}의 주소가 이제 다른 CA의 인증서를 제시함",
  "rogueKubelet.nodeSAddress.lesson": "진짜 kubelet.crt와 같은 이름과 SAN(CN=system:node:<node>, 노드 IP)을 클러스터의 누구도 신뢰하지 않는 CA인\n" +
    "\"rogue-ca\"가 서명했습니다: 그 주소를 차지한 공격자가 제시할 수 있는 인증서입니다.",
  "rogueKubelet.clusterSApiserver.title": "--kubelet-certificate-authority=ca.crt가 있는 클러스터의 kube-apiserver",
  "rogueKubelet.clusterSApiserver.lesson": "원본 문서와 \"Kubernetes The Hard Way\"가 설정하는 방식입니다: kube-apiserver는 kubelet의 인증서를 Kubernetes CA로\n" +
    "검증하고 가짜를 핸드셰이크에서 거부합니다(UNABLE_TO_VERIFY_LEAF_SIGNATURE): kubectl은\n" +
    "\"x509: certificate signed by unknown authority\"를 담은 500을 받고, 아무것도 전송되지 않습니다.",
  "rogueKubelet.apiserverKubeadmSets.title": "kubeadm이 설정하는 대로의 kube-apiserver: --kubelet-certificate-authority 없음",
  "rogueKubelet.apiserverKubeadmSets.lesson": "같은 etcd에 붙은, 이 플래그가 없는 두 번째 kube-apiserver입니다. 서버 인증서를 전혀 검증하지 않고 가짜와\n" +
    "핸드셰이크를 완료한 뒤 apiserver-kubelet-client를 제시하고 요청을 보냅니다: 가짜는 요청을 보고, 그것이 돌려준\n" +
    "내용이 kubectl에는 Pod의 로그로 보입니다. (여기서 \"가짜\"는 인증서만 바꾼 진짜 kubelet이라 로그도 진짜입니다.\n" +
    "공격자라면 원하는 무엇이든 응답할 것입니다.)",
  "rogueKubelet.realServingCertificate.title": "다시 진짜 서버 인증서로",
  "rogueKubelet.realServingCertificate.lesson": "클러스터를 원래대로 되돌려 놓습니다.",
  // scenarios/refuse-expired-client.ts
  "scenario.refuse-expired-client.title": "거부: 만료된 클라이언트 인증서와 아직 유효하지 않은 클라이언트 인증서 (kube-apiserver의 401)",
  "scenario.refuse-expired-client.summary": "admin.conf와 같은 이름에 진짜 Kubernetes CA가 서명한 인증서 두 개로, 날짜만 잘못되어 있습니다. kubeadm이\n" +
    "발급하는 인증서의 유효기간은 1년(notBefore는 5분 앞당김)이라, 실제 클러스터에서 가장 흔한 거부가 바로\n" +
    "이것입니다: \"x509: certificate has expired or is not yet valid\".",
  "refuseExpiredClient.expired.title": "어제 만료된 클라이언트 인증서",
  "refuseExpiredClient.expired.lesson": "notAfter가 어제입니다: 체인은 맞고 시간이 틀렸습니다. OpenSSL은 CERT_HAS_EXPIRED를 보고하고, kube-apiserver는\n" +
    "401로 응답하며 \"verifying certificate ... failed: x509: certificate has expired or is not yet valid: current\n" +
    "time ... is after ...\"를 로그에 남깁니다. kubeadm certs check-expiration이 이를 보여 주고, kubeadm certs renew로 고칩니다.",
  "refuseExpiredClient.notYetValid.title": "내일부터 유효한 클라이언트 인증서",
  "refuseExpiredClient.notYetValid.lesson": "notBefore가 내일입니다(시계가 빠른 서명자, 또는 시계가 느린 노드): OpenSSL은 CERT_NOT_YET_VALID를 보고하고\n" +
    "Go도 같은 문구로 \"... is before ...\"를 출력합니다. kubeadm이 notBefore를 5분 앞당기는 것은 바로 이 때문입니다.",
};
