/**
 * 한국어: 투어(scenarios/tour.ts). 원본 문서(../shared/seed/)의 용어를 따릅니다: 인증서, 루트 CA, 서버 인증서,
 * 클라이언트 인증서, 인증 기관(CA), 발급, 서명, 컴포넌트, 노드, 조인.
 */
import type { enTour } from './en-tour.js';

export const koTour: { readonly [K in keyof typeof enTour]: string } = {
  'scenario.tour.title': '투어: Kubernetes의 PKI와 상호 TLS(mutual TLS)로 이루어지는 모든 컨트롤 플레인 통신',
  'scenario.tour.summary': '원본 문서의 순서를 따릅니다: 두 루트 CA, 서버 인증서와 클라이언트 인증서, 그리고 각 컴포넌트가\n' +
    '다른 컴포넌트와 통신하는 과정을 연결마다 양쪽 인증서, 그것을 검증한 CA, 결과와 함께 보여 줍니다.',
  'scenario.pki.title': 'PKI만: kubeadm의 두 루트 CA와 이들이 서명하는 모든 인증서',
  'scenario.pki.summary': '투어의 앞부분만, 클러스터를 띄우지 않고 보여 줍니다.',

  'tour.root.title': '루트 CA: Kubernetes CA',
  'tour.root.lesson': '모든 컴포넌트는 HTTPS로 통신하고, kube-apiserver는 통신하는 클라이언트가 누구인지 알아야 합니다.\n' +
    '그래서 서버와 클라이언트 양쪽 모두 CA(인증 기관)가 서명한 인증서를 가지며, Kubernetes는 독자적인 PKI를\n' +
    '구성합니다. 첫 번째 컨트롤 플레인(master) 노드에서 kubeadm이 /etc/kubernetes/pki에 ca.key와 ca.crt를\n' +
    '만들고, ca.crt는 새로 조인하는 모든 노드에 전달됩니다.',
  'tour.root.say': 'pki/ca.crt: CN={{cn}}, CA:TRUE, {{validTo}}까지 유효',
  'tour.root.expect': 'Kubernetes CA는 자체 서명(self-signed)된 CA임',

  'tour.etcdCa.title': '두 번째 루트 CA: etcd CA',
  'tour.etcdCa.lesson': 'etcd는 자신만의 CA인 /etc/kubernetes/pki/etcd/ca.{crt,key}를 가지며, 이 CA는 새로 조인하는\n' +
    '각 컨트롤 플레인 노드에 전달됩니다. etcd는 이 CA만 신뢰하므로 Kubernetes CA가 서명한 인증서로는 etcd에\n' +
    '접근할 수 없습니다. (kubeadm은 이 밖에도 aggregation layer용 front-proxy-ca와 service account 토큰용\n' +
    'sa.key/sa.pub을 만듭니다.)',
  'tour.etcdCa.expect': 'etcd CA는 Kubernetes CA와 다른 키임',

  'tour.serving.title': '서버 인증서: kube-apiserver, kubelet, etcd',
  'tour.serving.lesson': '각 서버는 자신의 key와 CSR을 만듭니다. kube-apiserver와 kubelet은 Kubernetes CA를 통해, etcd는\n' +
    'etcd CA를 통해 인증서를 발급받습니다. SAN에는 클라이언트가 접속할 때 쓰는 이름과 IP가 들어 있습니다.',
  'tour.serving.say': '{{name}}: {{cert}}; SAN {{sans}}',
  'tour.serving.expect': '{{name}}: {{ca}}의 서명, serverAuth 용도',

  'tour.clients.title': '클라이언트 인증서: kubectl, scheduler, controller-manager, kube-proxy, kubelet',
  'tour.clients.lesson': 'kube-apiserver의 모든 클라이언트는 각자 key를 만들고 Kubernetes CA를 통해 인증서를 발급받습니다.\n' +
    'kube-apiserver는 CN에서 사용자 이름을, O 값에서 그룹을 읽습니다. kubelet은 서버(앞 단계)이면서\n' +
    '클라이언트(이번 단계)이기도 합니다.',
  'tour.clients.expect': '{{name}}: Kubernetes CA의 서명, clientAuth 용도',

  'tour.apiserverClients.title': 'kube-apiserver의 두 클라이언트 인증서',
  'tour.apiserverClients.lesson': 'kube-apiserver도 클라이언트입니다: kubelet에는 apiserver-kubelet-client(Kubernetes CA)를,\n' +
    'etcd에는 apiserver-etcd-client(etcd CA)를 제시합니다.',
  'tour.apiserverClients.expectK8s': '{{name}}: Kubernetes CA의 서명',
  'tour.apiserverClients.expectEtcd': '{{name}}: etcd CA의 서명',

  'tour.startup.title': '기동',
  'tour.startup.lesson': 'etcd, 이어서 kube-apiserver, kube-controller-manager, kube-scheduler, 그리고 노드마다 kubelet과\n' +
    'kube-proxy가 뜹니다. 모두 자기 loopback 주소에서 자기 인증서를 가진 실제 TLS 서버 또는 클라이언트입니다.',
  'tour.startup.expect': '노드 {{nodes}} 등록 완료, Ready',

  'tour.etcd.title': 'kube-apiserver → etcd',
  'tour.etcd.lesson': 'kube-apiserver는 etcd에 접근할 수 있는 유일한 컴포넌트입니다. 클러스터의 상태를 /registry/ 아래에\n' +
    'key-value 형식으로 저장하며, 이때 apiserver-etcd-client(etcd CA)를 제시하고 etcd는 이를 etcd CA로\n' +
    '검증합니다. 여기서는 etcdctl(역시 etcd CA가 발급한 etcd/healthcheck-client 사용)이 kube-apiserver가\n' +
    '쓴 내용을 읽습니다.',
  'tour.etcd.say': 'etcd에 저장된 /registry/namespaces/tour = {{value}}…',
  'tour.etcd.nothing': '(없음)',
  'tour.etcd.expect': 'kube-apiserver를 통해 만든 Namespace가 etcd의 /registry/namespaces/tour에 있음',

  'tour.kubelet.title': 'kubelet → kube-apiserver',
  'tour.kubelet.lesson': '각 kubelet은 system:nodes 그룹의 system:node:<node>로서 자신의 Node를 등록했고, kube-node-lease에서\n' +
    '자신의 Lease를 갱신하며, 자기 노드에 배정된 Pod를 watch합니다. Node authorizer는 kubelet이 자기 것만\n' +
    '다루도록 허용합니다: Pod의 list와 watch는 자기 노드를 지정해야 하며(fieldSelector spec.nodeName=<node>),\n' +
    '그렇지 않으면 거부됩니다.',
  'tour.kubelet.say': 'Lease: {{leases}}',
  'tour.kubelet.lease': '{{name}} (보유자 {{holder}})',
  'tour.kubelet.expectLease': '모든 kubelet이 자기 Lease를 보유함',
  'tour.kubelet.expectAuth': 'kube-apiserver가 kubelet들을 클라이언트 인증서로 인증하고 허용함',

  'tour.toKubelet.title': 'kube-apiserver → kubelet',
  'tour.toKubelet.lesson': 'kube-apiserver도 포트 10250으로 kubelet을 호출해 노드와 Pod의 상태를 가져옵니다(로그, exec,\n' +
    'port-forward도 마찬가지입니다). 이때 apiserver-kubelet-client(Kubernetes CA, O=kubeadm:cluster-admins)를\n' +
    '제시하고, kubelet은 이를 자신의 client CA로 검증한 다음 그 사용자가 nodes/proxy를 get할 수 있는지\n' +
    'kube-apiserver에 묻습니다(SubjectAccessReview). kube-apiserver는 kubelet의 서버 인증서를 Kubernetes CA로\n' +
    '검증합니다(--kubelet-certificate-authority). kubectl은 nodes/<node>/proxy/<path>로 이 경로에 닿습니다.',
  'tour.toKubelet.saySpec': 'kubectl get --raw /api/v1/nodes/{{node}}/proxy/spec: 코어 {{cores}}개, {{gib}} GiB',
  'tour.toKubelet.sayPods': 'kubectl get --raw /api/v1/nodes/{{node}}/proxy/pods: {{answer}}',
  'tour.toKubelet.podList': 'Pod {{n}}개의 PodList (첫 Pod들은 다음 단계에서 kubectl이 보냅니다)',
  'tour.toKubelet.expectAnswer': '{{node}}의 kubelet이 kube-apiserver를 거쳐 /spec과 /pods에 응답함',
  'tour.toKubelet.expectVerified': 'kubelet이 apiserver-kubelet-client를 Kubernetes CA로 검증함',
  'tour.toKubelet.expectReview': 'kubelet이 kube-apiserver-kubelet-client가 nodes/proxy를 get할 수 있는지 kube-apiserver에 물음',

  'tour.kubectl.title': 'kubectl → kube-apiserver',
  'tour.kubectl.lesson': 'kubectl은 manifest(YAML)를 JSON으로 바꿔 admin.conf의 인증서로 보냅니다: CN=kubernetes-admin,\n' +
    'O=kubeadm:cluster-admins이며, 이 그룹은 kubeadm이 cluster-admin에 바인딩해 둔 그룹입니다.\n' +
    '`kubectl auth whoami`(SelfSubjectReview)는 kube-apiserver가 이 인증서를 누구로 보았는지 보여 줍니다.',
  'tour.kubectl.expectWhoami': 'kube-apiserver는 admin.conf를 kubeadm:cluster-admins 그룹의 kubernetes-admin으로 봄',
  'tour.kubectl.expectStored': 'Deployment가 저장됨',

  'tour.scheduler.title': 'kube-scheduler → kube-apiserver',
  'tour.scheduler.lesson': 'scheduler(scheduler.conf, CN=system:kube-scheduler)는 노드가 배정되지 않은(spec.nodeName이 비어 있는)\n' +
    'Pod를 watch합니다: 여기서는 controller-manager가(다음 단계) Deployment로부터 만든 web의 Pod 3개입니다.\n' +
    '각 Pod마다 여유가 있는 Ready 노드를 고르고(가장 덜 할당된 노드 우선) pods/<name>/binding에 Binding을\n' +
    'POST합니다.',
  'tour.scheduler.expectBound': 'Pod 3개 모두 클러스터의 노드에 배정됨',
  'tour.scheduler.expectSpread': 'least-allocated 점수 매기기로 Pod가 둘 이상의 노드에 나뉨',

  'tour.kcm.title': 'kube-controller-manager → kube-apiserver',
  'tour.kcm.lesson': 'controller-manager는 desired state(원하는 상태)와 현재 상태를 비교합니다. kubeadm이 실행하는 방식\n' +
    '(--use-service-account-credentials)에서는 controller-manager.conf로 인증하는 것은 컨트롤러마다\n' +
    'service account 토큰을 받을 때뿐이고, 그 뒤 각 컨트롤러는 자기 service account로 동작합니다:\n' +
    'deployment 컨트롤러가 ReplicaSet을, replicaset 컨트롤러가 Pod를 만듭니다. 통신 중에 보이는 409는 다른\n' +
    '쓰기와의 경쟁에서 진 update입니다(optimistic concurrency): 컨트롤러는 객체를 다시 읽고 재시도합니다.',
  'tour.kcm.say': 'replicaset.apps/{{rs}}; Pod {{pods}}',
  'tour.kcm.expectReplicas': 'ReplicaSet이 replica 3개를 요구함',
  'tour.kcm.expectCreator': 'Pod를 만든 것은 system:serviceaccount:kube-system:replicaset-controller임',

  'tour.run.title': 'kubelet이 Pod를 실행하고 상태를 보고함',
  'tour.run.lesson': '각 kubelet은 자신에게 배정된 Pod를 watch로 보고 "실행"한 뒤(시뮬레이션된 컨테이너, 노드의 Pod 대역에서\n' +
    '받은 IP) pods/<name>/status로 상태를 kube-apiserver에 알려 줍니다.',
  'tour.run.say': '{{pod}}: {{node}}에서 {{phase}}, IP {{ip}}',
  'tour.run.expect': 'Pod 3개 모두 Pod IP를 받고 Running',

  'tour.endpoints.title': 'kube-controller-manager: Endpoints와 EndpointSlice',
  'tour.endpoints.lesson': '두 컨트롤러가 Service의 selector와 Pod를 주소로 바꾸며, 각각 자기 service account로 동작합니다:\n' +
    'endpoints 컨트롤러는 Endpoints 객체 web(레거시 API)을 쓰고, endpointslice 컨트롤러는 EndpointSlice\n' +
    'web-<임의의 5글자>를 씁니다. 이 slice에는 kubernetes.io/service-name=web 레이블이 붙고, 소유자는\n' +
    'Service이며, Pod마다 ready/serving/terminating 조건이 들어 있습니다. kube-proxy가 읽는 것은 이 slice입니다.',
  'tour.endpoints.sayEndpoint': '  {{addresses}} ({{node}}, {{pod}}): ready={{ready}}',
  'tour.endpoints.expectPort': 'Endpoints가 포트 80의 Pod 3개를 나열함',
  'tour.endpoints.expectName': 'slice의 이름은 web-<5글자>이고 service와 관리자를 나타내는 레이블이 붙어 있음',
  'tour.endpoints.expectOwner': 'slice의 소유자는 Service임 (controller, blockOwnerDeletion)',
  'tour.endpoints.expectWriter': 'slice를 쓴 것은 system:serviceaccount:kube-system:endpointslice-controller임',

  'tour.proxy.title': 'kube-proxy → kube-apiserver',
  'tour.proxy.lesson': '각 kube-proxy(kube-proxy.conf, CN=system:kube-proxy, system:node-proxier에 바인딩)는 Service와\n' +
    'EndpointSlice(Endpoints가 아님)를 list하고 watch하며, service 이름 레이블이 붙은 모든 slice의 ready\n' +
    'endpoint를 모아 자기 노드의 netfilter 규칙으로 바꿉니다(iptables 모드, iptables-save 형식으로 표시).',
  'tour.proxy.say': '{{node}}의 default/web nat 규칙 (ClusterIP {{ip}}):',
  'tour.proxy.expectService': 'KUBE-SERVICES 규칙이 ClusterIP를 KUBE-SVC 체인으로 보냄',
  'tour.proxy.expectDnat': 'KUBE-SEP 체인 3개가 slice의 ready endpoint로 DNAT함',
  'tour.proxy.expectReads': 'kube-proxy는 endpointslices를 읽었고 endpoints는 읽지 않음',
  'tour.proxy.lessonIpvs': '각 kube-proxy(kube-proxy.conf, CN=system:kube-proxy, system:node-proxier에 바인딩)는 iptables 모드와 같은\n' +
    'mTLS로 Service와 EndpointSlice(Endpoints가 아님)를 list하고 watch합니다. ipvs 모드(--proxy-mode ipvs)에서는\n' +
    'ClusterIP:port마다 IPVS 가상 서버를 만들고 ready endpoint마다 실제 서버(Masq, weight 1)를 붙이며, ClusterIP를\n' +
    '더미 인터페이스 kube-ipvs0에 바인딩하고, KUBE-CLUSTER-IP ipset과 매칭하는 iptables 규칙 몇 개만 남깁니다.',
  'tour.proxy.sayIpvs': '{{node}}의 ipvs 모드, default/web (ClusterIP {{ip}}):',
  'tour.proxy.expectVirtualServer': 'ClusterIP:port에 rr 가상 서버가 있고, ClusterIP가 kube-ipvs0와 KUBE-CLUSTER-IP에 있음',
  'tour.proxy.expectRealServers': '실제 서버 3개(Masq, weight 1): slice의 ready endpoint',
  'tour.proxy.expectNoChains': 'KUBE-SVC/KUBE-SEP 체인 없음: iptables 규칙은 ipset과 매칭함',

  'tour.logs.title': 'kube-apiserver → kubelet: kubectl logs',
  'tour.logs.lesson': 'kubectl logs도 같은 경로입니다: kubectl이 kube-apiserver에 pods/<pod>/log를 요청하면, kube-apiserver가\n' +
    'apiserver-kubelet-client로 그 Pod가 있는 kubelet의 /containerLogs/<namespace>/<pod>/<container>를 호출합니다.',
  'tour.logs.say': 'kubectl logs {{pod}} ({{node}}에서):',
  'tour.logs.expect': '로그가 kubelet에서 kube-apiserver를 거쳐 돌아옴',

  'tour.refuseEtcd.title': '거부: etcd에 접속하는 kubelet',
  'tour.refuseEtcd.lesson': 'etcd CA가 곧 접근 제어입니다: Kubernetes CA가 발급한 인증서(여기서는 node-1 kubelet의 클라이언트\n' +
    '인증서)는 etcd CA로 검증되지 않으므로, etcd가 핸드셰이크 자체를 거부합니다.',
  'tour.refuseEtcd.say': 'kubelet이 받은 결과: {{outcome}}',
  'tour.refuseEtcd.expectRefused': 'etcd가 핸드셰이크를 거부함: x509: certificate signed by unknown authority',
  'tour.refuseEtcd.expectNoRequest': 'etcd에 도달한 요청 없음',

  'tour.foreign.title': '거부: 다른 CA가 발급한 인증서를 가진 kubectl',
  'tour.foreign.lesson': 'kube-apiserver가 신뢰하지 않는 CA의 클라이언트 인증서로도 TLS 핸드셰이크는 끝까지 진행되고\n' +
    '(kube-apiserver는 인증서를 요청하지만 판단은 authenticator에 맡깁니다) 결과는 401 Unauthorized입니다.\n' +
    'kubectl은 이를 "error: You must be logged in to the server (Unauthorized)"로 출력합니다. 여기서 다른 CA의\n' +
    '이름도 "kubernetes"입니다(다른 kubeadm 클러스터의 CA라면 실제로 그렇습니다): 신뢰를 정하는 것은 이름이\n' +
    '아니라 CA의 키입니다.',
  'tour.foreign.expect401': 'kube-apiserver가 401로 응답함',
  'tour.foreign.allowed': '요청이 허용됨',
  'tour.foreign.say': 'kube-apiserver의 응답: {{answer}}',
  'tour.foreign.expectUnauthorized': 'kube-apiserver가 401 Unauthorized로 응답함',
  'tour.foreign.expectWhy': 'kube-apiserver가 이유를 기록함: x509: certificate signed by unknown authority',
};
