/**
 * 한국어: scenarios/join-control-plane-late.ts. 원본 문서(../shared/seed/)의 용어를 따릅니다: 인증서, 노드, 조인,
 * 컨트롤 플레인, 컴포넌트.
 */
import type { enJoinLate } from './en-join-late.js';

export const koJoinLate: { readonly [K in keyof typeof enJoinLate]: string } = {
  "scenario.join-control-plane-late.title": "kubeadm-certs가 만료된 뒤의 컨트롤 플레인 조인: token cleaner와 가비지 컬렉터가 지우고, upload-certs가 되살림",
  "scenario.join-control-plane-late.summary": "kubeadm#2656: kubeadm-certs Secret은 그것을 소유한 bootstrap 토큰만큼만 삽니다(2시간, 여기서는 몇 초).\n그 뒤의 조인은 실제 404와 kubeadm의 메시지를 받습니다. `kubeadm init phase upload-certs --upload-certs`로 해결됩니다.",
  "joinLate.tokenCreate.title": "kubeadm token create: cp-2가 조인할 때 쓰는 토큰",
  "joinLate.tokenCreate.lesson": "컨트롤 플레인 노드도 Worker 노드처럼 bootstrap 토큰(기본 24시간)으로 조인합니다. system:bootstrap:<id>,\n그룹 system:bootstrappers:kubeadm:default-node-token으로 인증되고, Role kubeadm:kubeadm-certs는 이 그룹에게\nkube-system의 Secret kubeadm-certs 하나만 get하도록 허용합니다.",
  "joinLate.upload.title": "kubeadm init phase upload-certs --upload-certs, 토큰 수명은 2시간 대신 {{seconds}}초",
  "joinLate.upload.lesson": "kubeadm은 먼저 수명이 짧은 bootstrap 토큰을 만듭니다(usage도 그룹도 없어 누구도 인증하지 않습니다. 오직\n\"TTL을 관리하는 대리인\"입니다). 그다음 kubeadm-certs를 만들고 그 토큰의 Secret을 uid로 가리키는 ownerReference를 답니다.\nkubeadm은 따로 만료를 정하지 않습니다: Secret의 수명은 소유자의 수명입니다.",
  "joinLate.expire.title": "토큰 만료: token cleaner가 토큰을, 가비지 컬렉터가 kubeadm-certs를 지움",
  "joinLate.expire.lesson": "kubeadm은 controller-manager를 --controllers=*,bootstrapsigner,tokencleaner로 실행합니다. token cleaner\n(service account token-cleaner, Role system:controller:token-cleaner: kube-system의 Secret만)는 각 토큰을 만료 시각에\n다시 보고, uid가 그대로일 때만 지웁니다. 가비지 컬렉터는 소유자가 사라진 것을 보고 GET(404)으로 확인한 뒤\nkubeadm-certs를 지웁니다(background propagation).",
  "joinLate.joinFails.title": "Secret이 사라진 뒤 cp-2에서 kubeadm join --control-plane",
  "joinLate.joinFails.lesson": "control-plane-prepare 단계의 첫 부분인 download-certs가 조인 토큰으로 Secret을 읽습니다. RBAC은 여전히\n허용하므로(Role은 다시 생길 수 있는 Secret의 이름을 가리킵니다) kube-apiserver는 404 Not Found로 응답하고,\nkubeadm은 아무것도 쓰지 않은 채 해결 방법을 알려 주며 멈춥니다.",
  "joinLate.uploadAgain.title": "kubeadm init phase upload-certs --upload-certs, 다시",
  "joinLate.uploadAgain.lesson": "컨트롤 플레인 노드에서: 새 인증서 키(--certificate-key를 주지 않으면), 2시간짜리 새 소유 토큰, 새로 만든 Secret.\nRole과 RoleBinding은 그 자리에서 갱신됩니다.",
  "joinLate.joinWorks.title": "새 키로 kubeadm join --control-plane: cp-2가 CA를 받음",
  "joinLate.joinWorks.lesson": "처음 출력된 키로는 이제 아무것도 복호화되지 않습니다(AES-GCM의 태그 검사 실패). 새 키로 cp-2는 CA와\nservice account 키를 복호화하고 자신의 인증서를 발급합니다. 전체 과정은 join-control-plane이 보여 줍니다.",
};
