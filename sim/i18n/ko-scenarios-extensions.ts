/**
 * 한국어: aggregation layer와 그 거부들, kubectl exec, RBAC의 권한 상승(escalation) 검사 시나리오의 제목, 요약,
 * 단계 제목과 설명, 내레이션, 기대 조건. 키와 {{자리표시자}}는 en-scenarios-extensions.ts와 같습니다.
 */
import type { enScenariosExtensions } from './en-scenarios-extensions.js';

export const koScenariosExtensions: { readonly [K in keyof typeof enScenariosExtensions]: string } = {
  // the layer that decided a request, in the refusals' verdict lines (scenarios/refusals.ts); the trace keeps the token
  "verdict.layer.authentication": "인증(authentication)",
  "verdict.layer.authorization": "인가(authorization)",
  "verdict.layer.admission": "어드미션(admission)",
  "verdict.layer.validation": "검증(validation)",
  "verdict.layer.storage": "저장소(storage)",
  "verdict.layer.handler": "핸들러(handler)",

  // scenarios/aggregation.ts
  "scenario.aggregation.title": "aggregation layer: kube-apiserver를 거쳐 metrics-server와 kubelet까지 가는 kubectl top",
  "scenario.aggregation.summary": "kubeadm은 세 번째 CA인 front-proxy-ca와, 이 CA가 발급하는 인증서 하나인 front-proxy-client를 만듭니다:\n" +
    "kube-apiserver는 metrics-server 같은 extension apiserver로 요청을 프록시할 때 이 인증서를 제시하고, 호출한 사람이\n" +
    "누구인지 X-Remote-User/X-Remote-Group 헤더로 알려 줍니다. extension은 이 CA가 발급하고 허용된 이름을 가진\n" +
    "인증서가 보낸 헤더만 믿습니다. 그 밖의 클라이언트는 평소처럼 인증됩니다.",
  "scenario.aggregation.publish.title": "kube-apiserver가 자기 요청을 인증하는 방법을 공개함",
  "scenario.aggregation.publish.lesson": "kubeadm은 kube-apiserver에 --requestheader-client-ca-file=front-proxy-ca.crt,\n" +
    "--requestheader-allowed-names=front-proxy-client와 X-Remote-* 헤더 이름들을 주고, kube-apiserver는 이것들을\n" +
    "(--client-ca-file과 함께) extension들이 읽을 수 있도록 kube-system/extension-apiserver-authentication에 기록합니다.",
  "scenario.aggregation.publish.sayKeys": "키: {{keys}}",
  "scenario.aggregation.publish.expectClientCa": "client-ca-file은 Kubernetes CA임",
  "scenario.aggregation.publish.expectRequestheaderCa": "requestheader-client-ca-file은 front-proxy CA임",
  "scenario.aggregation.publish.expectAllowedNames": "requestheader-allowed-names는 [\"front-proxy-client\"]임",
  "scenario.aggregation.publish.expectHeaders": "헤더는 X-Remote-User, X-Remote-Group, X-Remote-Extra-임",
  "scenario.aggregation.install.title": "metrics-server를 그 매니페스트대로 설치함",
  "scenario.aggregation.install.lesson": "ServiceAccount, RBAC(system:aggregated-metrics-reader, system:metrics-server, auth-delegator와\n" +
    "auth-reader 바인딩), Service, 그리고 APIService v1beta1.metrics.k8s.io. metrics-server는 시작할 때 자체 서명\n" +
    "(self-signed) 서버 인증서를 스스로 만들고, APIService는 그 CA를 caBundle로 가집니다. aggregator는 Service,\n" +
    "그 endpoints, GET /apis/metrics.k8s.io/v1beta1을 확인한 뒤에야 Available로 표시합니다.",
  "scenario.aggregation.install.expectAvailable": "APIService가 Available임: 모든 확인을 통과함",
  "scenario.aggregation.top.title": "kubectl top nodes: 두 구간, 두 벌의 인증서",
  "scenario.aggregation.top.lesson": "1구간, kubectl → kube-apiserver: admin.conf의 인증서를 Kubernetes CA로 검증하고, RBAC가\n" +
    "list nodes.metrics.k8s.io를 인가합니다. 2구간, kube-apiserver → metrics-server: 클라이언트로서 front-proxy-client\n" +
    "(front-proxy CA)를 제시하고, metrics-server의 서버 인증서를 metrics-server.kube-system.svc에 대해 caBundle로 검증하며,\n" +
    "호출한 사람을 X-Remote-User: kubernetes-admin, X-Remote-Group: kubeadm:cluster-admins로 전달합니다. 그러면\n" +
    "metrics-server는 kubernetes-admin이 nodes.metrics.k8s.io를 list해도 되는지 kube-apiserver에 묻습니다(SubjectAccessReview).",
  "scenario.aggregation.top.expectNodeMetrics": "모든 노드의 NodeMetrics가 있음",
  "scenario.aggregation.top.expectHop2Cert": "2구간에서 front-proxy-ca가 발급한 front-proxy-client를 제시함",
  "scenario.aggregation.top.expectHop2Verified": "2구간에서 metrics-server의 자체 서명 인증서를 caBundle로 검증함",
  "scenario.aggregation.top.expectHeaders": "metrics-server가 front-proxy 인증서가 보낸 헤더에서 사용자를 가져옴",
  "scenario.aggregation.scrape.title": "metrics-server가 자기 service account로 각 kubelet을 수집(scrape)함",
  "scenario.aggregation.scrape.lesson": "클라이언트 인증서 없이 bearer 토큰으로 GET https://<node>:10250/metrics/resource: kubelet은 토큰을\n" +
    "kube-apiserver에 보내고(TokenReview: system:serviceaccount:kube-system:metrics-server) 그 사용자가 nodes/metrics를\n" +
    "get해도 되는지 묻습니다(SubjectAccessReview; system:metrics-server가 허용합니다). kubelet의 서버 인증서는\n" +
    "클러스터 CA로 검증되며, 여기서는 그 CA가 서명했습니다.",
  "scenario.aggregation.scrape.expectAllowed": "모든 kubelet이 system:serviceaccount:kube-system:metrics-server에게 nodes/metrics get을 허용함",
  "scenario.aggregation.scrape.expectNoFailure": "실패한 수집이 없음",
  "scenario.aggregation.topPods.title": "kubectl top pods -A 실행",
  "scenario.aggregation.topPods.lesson": "PodMetrics: 두 번의 수집 사이에 잰 각 컨테이너의 CPU 사용률과 working set.",
  "scenario.aggregation.topPods.expectPodMetrics": "그 Pod의 PodMetrics가 있음",

  // scenarios/exec.ts
  "scenario.exec.title": "kubectl exec: 두 구간, 두 신원, 그리고 Pod 안에서 명령을 실행할 수 있는 주체",
  "scenario.exec.summary": "kubectl exec는 컨테이너로 스트림을 엽니다: kubectl이 kube-apiserver에 요청하고(WebSocket, v5.channel.k8s.io),\n" +
    "kube-apiserver는 pods/exec를 인가한 뒤 apiserver-kubelet-client를 제시하며 Pod가 있는 노드의 kubelet으로 자기\n" +
    "스트림을 엽니다. kubelet은 그 인증서를 인증하고 SubjectAccessReview로 nodes/proxy를 인가합니다. kubelet API는\n" +
    "자기 노드의 어느 Pod에서든 명령을 실행하므로, 그 밖의 누구도 통과하지 못합니다.",
  "scenario.exec.pod.title": "{{node}}의 Pod",
  "scenario.exec.pod.lesson": "노드에 바인딩된 Pod로, kubelet이 시작하면 Running이 됩니다.",
  "scenario.exec.pod.expectRunning": "Pod {{pod}}: {{node}}에서 Running",
  "scenario.exec.run.title": "kubectl exec {{pod}} -- hostname 실행",
  "scenario.exec.run.lesson": "1구간: kubectl은 admin.conf(CN=kubernetes-admin, O=kubeadm:cluster-admins)를 제시하고 kube-apiserver를\n" +
    "Kubernetes CA로 검증합니다. WebSocket 업그레이드는 GET이므로 1.32는 pods/exec에 대한 `get`을 인가합니다\n" +
    "(AuthorizePodWebsocketUpgradeCreatePermission 게이트가 1.35부터 `create`를 추가합니다; POST인 SPDY는 `create`입니다).\n" +
    "2구간: kube-apiserver는 apiserver-kubelet-client(CN=kube-apiserver-kubelet-client, O=kubeadm:cluster-admins)로\n" +
    "10250 포트의 kubelet에 접속하고, kubelet은 SubjectAccessReview로 nodes/proxy에 대한 `create`를 인가합니다.",
  "scenario.exec.run.say": "stdout: {{stdout}}; status: {{status}}; 프로토콜 {{protocol}}",
  "scenario.exec.run.expectStdout": "컨테이너가 stdout으로 자기 hostname(Pod 이름)을 응답함",
  "scenario.exec.run.expectSuccess": "exec가 error 채널의 Success Status로 끝남",
  "scenario.exec.run.expectHop1": "1구간 TLS: kubectl이 kubernetes-admin을 제시하고 kube-apiserver를 Kubernetes CA로 검증함",
  "scenario.exec.run.expectApiserver": "kube-apiserver가 kubernetes-admin에게 pods/exec get을 인가하고 프로토콜을 전환함(101)",
  "scenario.exec.run.expectHop2": "2구간 TLS: kube-apiserver가 kubelet에 apiserver-kubelet-client를 제시함",
  "scenario.exec.run.expectKubelet": "kubelet이 kube-apiserver-kubelet-client에게 nodes/proxy create를 인가하고(SubjectAccessReview) 프로토콜을 전환함",
  "scenario.exec.noRights.title": "kube-apiserver에서 거부: pods/exec 권한이 없는 사용자",
  "scenario.exec.noRights.lesson": "클러스터 CA가 사용자 \"dev\"에게 발급한 인증서는 인증을 통과하지만, 어떤 Role도 pods/exec를 주지 않습니다:\n" +
    "RBAC가 거절하고, kube-apiserver는 403으로 응답하며 kubelet에는 접속하지도 않습니다.",
  "scenario.exec.noRights.say": "dev로 실행한 kubectl exec: HTTP {{status}}: {{message}}",
  "scenario.exec.noRights.expect403": "업그레이드가 403 Forbidden으로 거부됨",
  "scenario.exec.noRights.expectMessage": "메시지는 RBAC의 것임",
  "scenario.exec.noRights.expectAuthorization": "kube-apiserver가 인가 단계에서 판정함",
  "scenario.exec.noRights.expectKubeletNothing": "kubelet은 아무것도 보지 못함",
  "scenario.exec.otherNode.title": "kubelet에서 거부: {{other}}의 인증서로 {{node}}의 kubelet에 직접 접속",
  "scenario.exec.otherNode.lesson": "kubelet은 Kubernetes CA가 발급한 모든 인증서를 신뢰하므로 system:node:{{other}}은(는) 인증을 통과합니다. 그다음\nkubelet은 그 사용자가 이 노드의 nodes/proxy를 create해도 되는지 kube-apiserver에 묻습니다. Node authorizer도 RBAC도\n노드에는 그런 권한을 주지 않으므로(kube-apiserver의 신원만 가집니다), kubelet은 스트림이 열리기 전에 403으로 응답합니다.",
  "scenario.exec.otherNode.expectAddress": "{{node}}의 kubelet에 주소가 있음",

  // scenarios/refuse-rbac-escalation.ts
  "scenario.refuse-rbac-escalation.title": "거부: 스스로 cluster-admin을 부여하는 네임스페이스 관리자 (403, 권한 상승), 그리고 네임스페이스 아래의 클러스터 범위 리소스 (404)",
  "scenario.refuse-rbac-escalation.summary": "한 네임스페이스에 바인딩된 ClusterRole admin으로 jane은 그곳에 Role과 RoleBinding을 쓸 수 있습니다: RBAC가\n" +
    "허락한다면 권한을 올리는 길이 됩니다. 그러나 두 번 막힙니다: 바인딩은 만드는 사람이 이미 가진 권한만 넘겨줄 수 있고\n" +
    "(escalation 검사), 네임스페이스의 규칙은 네임스페이스 범위 리소스에만 닿습니다(클러스터 범위 리소스에는 /namespaces/ 아래 경로가 없습니다).",
  "scenario.refuse-rbac-escalation.admin.title": "네임스페이스 {{ns}}의 관리자 {{user}}",
  "scenario.refuse-rbac-escalation.admin.lesson": "클러스터 관리자가 {{ns}} 네임스페이스와, ClusterRole admin에 대한 RoleBinding {{ns}}/{{user}}-admin을 만듭니다. {{user}}의\n클라이언트 인증서(CN={{user}}, O 없음)는 클러스터 CA가 발급합니다. {{ns}}에서 {{user}}은(는) admin이 허용하는 일을 할 수 있고,\n자기가 가진 권한을 넘겨줄 수도 있습니다: bob에게 edit(admin의 부분집합)를 바인딩하는 것은 허용됩니다.",
  "scenario.refuse-rbac-escalation.admin.whoLists": "{{user}}이(가) {{ns}}의 pods를 list함",
  "scenario.refuse-rbac-escalation.admin.whoBinds": "{{user}}이(가) {{ns}}에서 bob에게 edit를 바인딩함",
  "scenario.refuse-rbac-escalation.escalate.title": "{{user}}이(가) {{ns}}에서 자기 자신에게 cluster-admin을 바인딩함",
  "scenario.refuse-rbac-escalation.escalate.lesson": "RoleBinding 생성은 admin에 들어 있으므로 authorizer는 요청을 허용합니다. 그다음 RBAC의 escalation 검사가\n바인딩하려는 역할의 규칙(cluster-admin: 모든 리소스에 모든 verb, 모든 non-resource URL)을 {{user}}이(가) {{ns}}에서\n가진 권한과 비교하고 거부합니다: 403이며, {{user}}에게 없는 규칙을 Go가 PolicyRule을 출력하는 형식으로 나열합니다.",
  "scenario.refuse-rbac-escalation.escalate.who": "{{user}}이(가) cluster-admin을 바인딩함",
  "scenario.refuse-rbac-escalation.escalate.expectNotStored": "RoleBinding {{ns}}/{{user}}-cluster-admin이 저장되지 않음 (GET: {{status}})",
  "scenario.refuse-rbac-escalation.clusterScoped.title": "clusterrolebindings를 지정한 {{ns}}의 Role",
  "scenario.refuse-rbac-escalation.clusterScoped.lesson": "{{user}}이(가) 클러스터의 바인딩을 읽게 해 달라는 요청을 받은 클러스터 관리자가 Role {{ns}}/rbac-reader\n(clusterrolebindings에 대한 get, list)를 쓰고 {{user}}에게 바인딩합니다. authorizer는 {{ns}} 안의 요청에 대해 이 Role을\n적용하지만, clusterrolebindings는 클러스터 범위 리소스입니다: /namespaces/ 아래에는 그런 경로가 없고(404), 클러스터\n범위에서는 네임스페이스의 어떤 규칙도 적용되지 않습니다(403).",
  "scenario.refuse-rbac-escalation.clusterScoped.whoNamespaced": "{{user}}이(가) {{ns}}의 clusterrolebindings를 list함",
  "scenario.refuse-rbac-escalation.clusterScoped.expect404": "응답은 404 NotFound: \"the server could not find the requested resource\"",
  "scenario.refuse-rbac-escalation.clusterScoped.whoCluster": "{{user}}이(가) clusterrolebindings를 list함",

  // scenarios/refuse-aggregation.ts: refuse-front-proxy-wrong-ca
  "scenario.refuse-front-proxy-wrong-ca.title": "잘못된 CA가 발급한 front-proxy-client: metrics-server가 신원 헤더를 거부 (401)",
  "scenario.refuse-front-proxy-wrong-ca.summary": "이름은 똑같이 \"front-proxy-ca\"이지만 requestheader-client-ca-file에 있는 CA가 아닌 CA(다시 만든 CA, 따로 만든\n" +
    "두 번째 컨트롤 플레인)가 서명한 front-proxy-client 인증서: 핸드셰이크는 완료되지만, request-header authenticator도\n" +
    "x509 authenticator도 이를 검증하지 못해 metrics-server는 401로 응답합니다(metrics-server#474).",
  "scenario.refuse-front-proxy-wrong-ca.wrongCa.title": "다른 \"front-proxy-ca\"가 발급한 front-proxy-client, X-Remote-User: kubernetes-admin과 함께",
  "scenario.refuse-front-proxy-wrong-ca.wrongCa.lesson": "--proxy-client-cert-file이 extension이 신뢰하지 않는 CA에서 왔다면 aggregator가 보냈을 요청입니다.",
  "scenario.refuse-front-proxy-wrong-ca.wrongCa.expectCandidate": "metrics-server가 시도한 후보 CA의 이름을 밝힘",

  // scenarios/refuse-aggregation.ts: refuse-requestheader-name
  "scenario.refuse-requestheader-name.title": "이름이 requestheader-allowed-names에 없는 front-proxy-ca 인증서 (401)",
  "scenario.refuse-requestheader-name.summary": "request-header CA는 requestheader-allowed-names에 있는 이름(kubeadm: front-proxy-client)에 대해서만 신뢰됩니다.\n" +
    "그 CA가 발급한 다른 인증서는 request-header authenticator가 거부하고, x509 authenticator는 그 CA를 모릅니다:\n" +
    "헤더에 무엇이 적혀 있든 401입니다.",
  "scenario.refuse-requestheader-name.impostor.title": "front-proxy-ca가 발급한 CN=aggregator-impostor가 system:admin이라고 주장함",
  "scenario.refuse-requestheader-name.impostor.lesson": "CA는 맞지만 이름이 틀렸습니다.",
  "scenario.refuse-requestheader-name.allowed.title": "같은 CA, 허용된 이름: front-proxy-client",
  "scenario.refuse-requestheader-name.allowed.lesson": "이 인증서의 헤더는 신뢰됩니다: aggregator 자신의 인증서이기 때문입니다.",
  "scenario.refuse-requestheader-name.allowed.say": "front-proxy-client: HTTP {{status}}, 신원 {{user}} ({{reason}})",
  "scenario.refuse-requestheader-name.allowed.expect": "front-proxy-client의 헤더가 받아들여짐: kubernetes-admin으로 허용",

  // scenarios/refuse-aggregation.ts: refuse-remote-user-spoof
  "scenario.refuse-remote-user-spoof.title": "Kubernetes CA 인증서로 extension에 직접 보낸 X-Remote-User: system:admin (자기 신원으로 403)",
  "scenario.refuse-remote-user-spoof.summary": "metrics-server에 직접 닿을 수 있는 클라이언트가 Kubernetes CA가 발급한 자기 인증서로 X-Remote-User: system:admin과\n" +
    "X-Remote-Group: system:masters를 보냅니다. 신원 헤더를 주장할 수 있는 것은 허용된 이름을 가진 front-proxy-ca\n" +
    "인증서뿐입니다: 헤더는 무시되고, x509 authenticator가 이 클라이언트를 \"mallory\"로 인증하며, mallory에 대한\n" +
    "SubjectAccessReview는 403입니다. (request-header CA가 클라이언트 CA와 같았다면, 바로 여기서 클라이언트 인증서를\n" +
    "가진 누구나 누구든 될 수 있었을 것입니다: kubernetes/website#12890.)",
  "scenario.refuse-remote-user-spoof.mallory.title": "mallory(Kubernetes CA)가 헤더로 system:admin이라고 주장함",
  "scenario.refuse-remote-user-spoof.mallory.lesson": "인증서는 검증되지만, 헤더는 고려되지 않습니다.",

  // scenarios/refuse-aggregation.ts: refuse-kubelet-self-signed
  "scenario.refuse-kubelet-self-signed.title": "자체 서명된 kubelet 서버 인증서를 만난 metrics-server; 해결책; --kubelet-insecure-tls",
  "scenario.refuse-kubelet-self-signed.summary": "kubeadm의 기본 kubelet 서버 인증서는 자체 서명(<node>-ca@<time>)이므로, 이를 클러스터 CA로 검증하는\n" +
    "metrics-server는 그 노드를 수집하지 못하고 `kubectl top`에는 그 노드가 나오지 않습니다(metrics-server#196,\n" +
    "kubeadm#1223). CA가 서명한 서버 인증서(serverTLSBootstrap, 여기서는 PKI의 것)가 이를 해결합니다. --kubelet-insecure-tls도\n" +
    "오류를 없애지만, 그 방법은 아무것도 검사하지 않는 것입니다: 노드의 주소에서 응답하는 누구든 토큰을 받습니다.",
  "scenario.refuse-kubelet-self-signed.selfSigned.title": "{{node}}의 kubelet이 kubeadm의 자체 서명 인증서 쌍을 제시함",
  "scenario.refuse-kubelet-self-signed.selfSigned.lesson": "일회용 CA \"<node>-ca@<unix>\"가 \"<node>@<unix>\"에 서명합니다. 다른 누구도 이 CA를 신뢰하지 않습니다.",
  "scenario.refuse-kubelet-self-signed.selfSigned.expect": "서버 인증서가 자체 서명됨",
  "scenario.refuse-kubelet-self-signed.scrape.title": "metrics-server가 그 kubelet을 수집함",
  "scenario.refuse-kubelet-self-signed.scrape.lesson": "metrics-server는 kubelet의 인증서를 클러스터 CA로 검증합니다: 핸드셰이크가 실패하고, 그 이유를 로그에 남깁니다.",
  "scenario.refuse-kubelet-self-signed.scrape.expectFailed": "수집이 x509: certificate signed by unknown authority로 실패함",
  "scenario.refuse-kubelet-self-signed.scrape.expectNothing": "kubectl top nodes에 {{node}}의 항목이 없음",
  "scenario.refuse-kubelet-self-signed.fix.title": "해결책: 클러스터 CA가 발급한 서버 인증서",
  "scenario.refuse-kubelet-self-signed.fix.lesson": "serverTLSBootstrap과 승인된 kubelet-serving CSR이 주는 것(여기서는 PKI의 kubelet.crt)입니다.",
  "scenario.refuse-kubelet-self-signed.fix.expect": "수집이 성공함",
  "scenario.refuse-kubelet-self-signed.insecure.title": "지름길: --kubelet-insecure-tls, 다시 자체 서명 인증서 쌍을 상대로",
  "scenario.refuse-kubelet-self-signed.insecure.lesson": "아무것도 검사하지 않으므로 오류도 없습니다: --kubelet-certificate-authority 없는 kube-apiserver에 대한 CIS 1.2.5와\n" +
    "같은 지적 사항입니다. 여기서는 service account 토큰이 노드의 주소에서 응답하는 누구에게나 전달됩니다.",
  "scenario.refuse-kubelet-self-signed.insecure.expect": "kubelet을 검증하지 않고도 수집이 \"성공\"함",
  "scenario.refuse-kubelet-self-signed.insecure.say": "CIS 형식의 지적 사항: metrics-server가 --kubelet-insecure-tls로 실행됨: kubelet 서버 인증서를 검증하지 않습니다.",
};
