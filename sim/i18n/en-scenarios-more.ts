/**
 * English, the source: the expectation sentences and explanatory lines of the older scenarios (the refusals,
 * rogue-kubelet, kubelet-serving-csr, join-control-plane-late, the tour) that were written in place. Each key
 * keeps the prefix its scenario's titles and lessons already use. What a tool prints stays in the scenario,
 * verbatim, marked `// verbatim: ...`.
 */
export const enScenariosMore = {
  // scenarios/join-control-plane-late.ts
  "joinLate.tokenCreate.say": "kubeadm token create: {{id}}.<secret> (Secret kube-system/{{secret}}, 24h)",
  "joinLate.upload.expectOwned": "kubeadm-certs is owned by the token Secret, by its uid (a controller reference)",
  "joinLate.upload.expectToken": "the owning token is a bootstrap token with kubeadm's description, and no usages or groups ({{keys}})",
  "joinLate.expire.sayDelete": "{{at}} DELETE {{path}} by {{user}}: {{status}}",
  "joinLate.expire.expectCleaner": "the token cleaner deleted {{token}} (as {{user}})",
  "joinLate.expire.expectNotBefore": "not before its expiration ({{expiration}})",
  "joinLate.expire.expectCollector": "the garbage collector deleted kubeadm-certs (as {{user}}), after its owner",
  "joinLate.expire.expectGone": "neither Secret is listed any more",
  "joinLate.joinFails.sayDownloaded": "the certificates were downloaded",
  "joinLate.joinFails.expectWords": "the join fails in kubeadm's words",
  "joinLate.joinFails.expect404": "the apiserver answered the join token's GET with a real 404 (authorized by Role kubeadm:kubeadm-certs, as {{user}})",
  "joinLate.joinFails.expectNothing": "nothing was written on cp-2",
  "joinLate.uploadAgain.expectNew": "a new key, and a new owning token with kubeadm's 2 hours",
  "joinLate.uploadAgain.expectOwned": "kubeadm-certs is owned by the new token",
  "joinLate.joinWorks.expectStale": "the old certificate key no longer decrypts the Secret (cipher: message authentication failed)",
  "joinLate.joinWorks.expectCa": "{{ca}} on cp-2 is the cluster's",
  "joinLate.joinWorks.expectSa": "sa.key on cp-2 is the cluster's",
  "joinLate.joinWorks.expectApiserver": "cp-2 issued its own apiserver certificate (cp-2, {{address}})",

  // scenarios/kubelet-serving-csr.ts
  "kubeletServingCsr.nodeJoinsServertlsbootstrap.expectLeft": "csrapproving leaves {{csr}} alone ({{reason}})",
  "kubeletServingCsr.nodeJoinsServertlsbootstrap.expectPending": "kubectl get csr shows {{csr}} Pending, requested by system:node:{{node}}",
  "kubeletServingCsr.kubectlLogsFails.expectFails": "kubectl logs fails with \"remote error: tls: handshake failure\"",
  "kubeletServingCsr.kubectlLogsFails.expectNoCert": "the kubelet refused the handshake with no certificate to present ({{reason}})",
  "kubeletServingCsr.kubectlCertificateApprove.sayCert": "serving certificate: {{subject}}; SANs {{sans}}; issuer {{issuer}}",
  "kubeletServingCsr.kubectlCertificateApprove.expectIssued": "the CSR is Approved,Issued",
  "kubeletServingCsr.kubectlCertificateApprove.expectNames": "the certificate names {{node}} and {{ip}}, issued by the Kubernetes CA",
  "kubeletServingCsr.kubectlLogsWorks.expectAnswers": "kubectl logs web answers",
  "kubeletServingCsr.kubectlLogsWorks.expect200": "GET pods/web/log: 200",

  // scenarios/refuse-kubelet-no-client-cert.ts
  "refuseKubeletNoClientCert.expectLogBack": "the log comes back",
  "refuseKubeletNoClientCert.expect401": "kubectl gets 401 Unauthorized relayed from the kubelet",
  "refuseKubeletNoClientCert.expectNoCert": "the kubelet completed the handshake and saw no client certificate",
  "refuseKubeletNoClientCert.expectAnonymousOff": "the kubelet answered 401: no client certificate, anonymous auth off",
  "refuseKubeletNoClientCert.expectNoSar": "the kubelet asked the apiserver nothing (no SubjectAccessReview)",

  // scenarios/refuse-scheduler-delete-node.ts
  "refuseSchedulerDeleteNode.expectStill": "{{node}} is still there",

  // scenarios/rogue-kubelet.ts
  "rogueKubelet.expectRunning": "payroll is Running on {{node}}",
  "rogueKubelet.expectRogueCa": "the serving certificate is signed by rogue-ca",
  "rogueKubelet.expect500": "kubectl gets 500 with \"{{reason}}\"",
  "rogueKubelet.expectRefused": "the apiserver refused the rogue kubelet: {{code}}",
  "rogueKubelet.expectNoRequest": "no request reached the rogue",
  "rogueKubelet.expectLog200": "the log came back from the rogue: 200",
  "rogueKubelet.expectTrustedNothing": "the apiserver trusted nothing ('none') and accepted a certificate issued by rogue-ca",
  "rogueKubelet.expectAdminCert": "the rogue received the request with the apiserver's cluster-admin client certificate",
  "rogueKubelet.expectAgain": "the verifying apiserver reads the log again",

  // scenarios/refuse-client-cert-as-server.ts
  "refuseClientCertAsServer.expectRunning": "logs-demo is Running on {{node}}",
  "refuseClientCertAsServer.expect500": "kubectl gets 500 with \"{{reason}}\"",
  "refuseClientCertAsServer.expectRefused": "the apiserver (the client) refused the handshake with {{code}}",
  "refuseClientCertAsServer.expectNoRequest": "no request reached the kubelet",
  "refuseClientCertAsServer.expectAgain": "the log comes back again",

  // scenarios/refuse-server-cert-as-client.ts
  "refuseServerCertAsClient.saySelfSigned": "This PKI has self-signed kubelet serving certificates (kubeadm's default): they fail the chain before the key usage is looked at.",

  // scenarios/refuse-kubelet-to-etcd.ts
  "refuseKubeletToEtcd.expectNoRequest": "etcd served no request to the kubelet",

  // scenarios/refuse-foreign-ca.ts
  "refuseForeignCa.sayLog": "the apiserver's log: {{line}}",
  "refuseForeignCa.expectRecord": "the apiserver's own record names the certificate and Go's reason",
  "refuseForeignCa.expectBody": "the body is the Status kubectl turns into \"{{message}}\"",

  // scenarios/refuse-san-mismatch.ts
  "refuseSanMismatch.saySans": "apiserver.crt SANs: {{sans}}",
  "refuseSanMismatch.expectNotNamed": "the certificate does not name {{host}}",

  // scenarios/refuse-expired-client.ts
  "refuseExpiredClient.expectRecord": "the apiserver's record ends with Go's reason",

  // scenarios/tour.ts
  "tour.startup.sayEndpoints": "apiserver {{apiserver}}, etcd {{etcd}}; kubelets {{kubelets}}",

  // who a refusal's verdict lines are about (scenarios/refusals.ts expectVerdict), where it is the project's words
  "refuseServerCertAsClient.whoKubeletServing": "kubelet.crt (serverAuth) as a client",
  "refuseServerCertAsClient.whoApiserverServing": "apiserver.crt as a client of the kubelet",
  "refuseProxyCreatePod.whoList": "list services",
  "refuseProxyCreatePod.whoCreate": "create pod",
  "refuseKubeletSecret.whoReads": "{{node}} reads db-password",
} as const;
