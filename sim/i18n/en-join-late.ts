/** English, the source: scenarios/join-control-plane-late.ts (kubeadm#2656, kubeadm-certs past its two hours). */
export const enJoinLate = {
  "scenario.join-control-plane-late.title": "A control-plane join after kubeadm-certs expired: the token cleaner and the garbage collector remove it, upload-certs brings it back",
  "scenario.join-control-plane-late.summary": "kubeadm#2656: the kubeadm-certs Secret lives as long as the bootstrap token that owns it (2 hours; here a few seconds).\nA join after that gets a real 404 and kubeadm's words; `kubeadm init phase upload-certs --upload-certs` fixes it.",
  "joinLate.tokenCreate.title": "kubeadm token create: the token cp-2 joins with",
  "joinLate.tokenCreate.lesson": "A control-plane node joins as a worker does, with a bootstrap token (24 hours by default): it authenticates as\nsystem:bootstrap:<id>, group system:bootstrappers:kubeadm:default-node-token, and Role kubeadm:kubeadm-certs lets\nthat group get the Secret kube-system/kubeadm-certs, and nothing else in kube-system.",
  "joinLate.upload.title": "kubeadm init phase upload-certs --upload-certs, its token living {{seconds}} s instead of 2 hours",
  "joinLate.upload.lesson": "kubeadm first creates a short-lived bootstrap token (no usages, no groups: it authenticates nobody; it is only\n\"a proxy for managing TTL\"), then kubeadm-certs with an ownerReference to that token's Secret, naming it by uid.\nkubeadm sets nothing else to expire: the Secret's life is its owner's.",
  "joinLate.expire.title": "The token expires: the token cleaner deletes it, the garbage collector deletes kubeadm-certs",
  "joinLate.expire.lesson": "kubeadm runs the controller-manager with --controllers=*,bootstrapsigner,tokencleaner. The token cleaner\n(service account token-cleaner, Role system:controller:token-cleaner: Secrets in kube-system only) looks at each\ntoken again when its expiration comes and deletes it, on the condition that its uid is still the same. The\ngarbage collector sees the owner gone, confirms with a GET (404), and deletes kubeadm-certs (background propagation).",
  "joinLate.joinFails.title": "kubeadm join --control-plane on cp-2, after the Secret has gone",
  "joinLate.joinFails.lesson": "download-certs, the first part of the control-plane-prepare phase, reads the Secret with the join token. RBAC\nstill allows it (the Role names the Secret, which may come back), so the apiserver answers 404 Not Found, and\nkubeadm stops before writing anything, saying how to fix it.",
  "joinLate.uploadAgain.title": "kubeadm init phase upload-certs --upload-certs, again",
  "joinLate.uploadAgain.lesson": "On a control-plane node: a new certificate key (unless --certificate-key is given), a new owning token for\n2 hours, the Secret created anew; the Role and RoleBinding are updated in place.",
  "joinLate.joinWorks.title": "kubeadm join --control-plane with the new key: cp-2 gets the CAs",
  "joinLate.joinWorks.lesson": "The key printed the first time decrypts nothing now (AES-GCM's tag check fails). With the new key, cp-2\ndecrypts the CAs and the service-account key and issues its own leaves, as join-control-plane shows in full.",
} as const;
