/** English, the source: every scenario's title, summary, step titles and lessons but the tour's (en-tour.ts). */
export const enScenarios = {
  // the refusals' shared verdict (scenarios/refusals.ts)
  "verdict.client": "client",
  "verdict.server": "server",
  "verdict.tlsRefused": "TLS handshake refused by the {{side}}",
  "verdict.allowed": "allowed",
  "verdict.as": " as {{user}}",
  "verdict.layerTls": "the TLS handshake, refused by the {{side}}",
  "verdict.layerNone": "no layer: allowed",
  "verdict.decidedAt": "{{who}}: decided at {{layer}}",
  "verdict.code": "{{who}}: OpenSSL's code is {{code}}",
  "verdict.reason": "{{who}}: the reason is {{reason}}",
  "verdict.user": "{{who}}: the server authenticated {{user}}",
  // scenarios/refuse-foreign-ca.ts
  "scenario.refuse-foreign-ca.title": "Refused: a client certificate from a foreign CA (401 from the apiserver)",
  "scenario.refuse-foreign-ca.summary": "The same names as admin.conf (CN=kubernetes-admin, O=kubeadm:cluster-admins), signed by a CA named\n" +
    "\"kubernetes\" that is not this cluster's. Names prove nothing: only the signature chain to --client-ca-file does.",
  "refuseForeignCa.adminConfReal.title": "admin.conf, the real one",
  "refuseForeignCa.adminConfReal.lesson": "For contrast: the certificate kubeadm signed with ca.key. The apiserver verifies the chain to\n" +
    "--client-ca-file (pki/ca.crt), takes the user from the CN and the groups from the O values.",
  "refuseForeignCa.sameNamesFrom.title": "The same names from a foreign CA",
  "refuseForeignCa.sameNamesFrom.lesson": "The apiserver asks for a client certificate but does not make the handshake depend on it: the TLS\n" +
    "connection completes, OpenSSL records UNABLE_TO_VERIFY_LEAF_SIGNATURE, and the x509 authenticator\n" +
    "turns that into an error, so the request is 401 Unauthorized (never system:anonymous: a bad credential\n" +
    "does not fall back to anonymous). kubectl prints \"error: You must be logged in to the server\n" +
    "(Unauthorized)\"; the apiserver logs \"Unable to authenticate the request\" with\n" +
    "\"verifying certificate SN=..., SKID=..., AKID=... failed: x509: certificate signed by unknown authority\".",
  // scenarios/refuse-kubelet-to-etcd.ts
  "scenario.refuse-kubelet-to-etcd.title": "Refused: a kubelet's certificate at etcd (handshake refused by etcd)",
  "scenario.refuse-kubelet-to-etcd.summary": "etcd runs with --client-cert-auth and --trusted-ca-file=etcd/ca.crt. It has no users or RBAC of its own\n" +
    "here: the etcd CA is the access control, so a certificate from the Kubernetes CA never gets a request in.",
  "refuseKubeletToEtcd.apiserverReadsRegistry.title": "The apiserver reads /registry/ with apiserver-etcd-client",
  "refuseKubeletToEtcd.apiserverReadsRegistry.lesson": "The one client etcd is there for: its certificate is signed by the etcd CA, so the handshake completes\n" +
    "and the range request is served.",
  "refuseKubeletToEtcd.kubeletDialsEtcd.title": "{{node}}'s kubelet dials etcd",
  "refuseKubeletToEtcd.kubeletDialsEtcd.lesson": "The kubelet's client certificate (CN=system:node:{{node}}, O=system:nodes) is valid and signed, but by the\nKubernetes CA, which etcd does not trust. etcd refuses the handshake: no HTTP request is ever read. Real\netcd logs \"rejected connection from ... (error \"tls: failed to verify client certificate: x509: certificate\nsigned by unknown authority\")\"; the client (TLS 1.3 finishes its side first) sees the connection reset,\nand etcdctl ends with \"context deadline exceeded\".",
  // scenarios/refuse-proxy-create-pod.ts
  "scenario.refuse-proxy-create-pod.title": "Refused: kube-proxy creating a pod (403 from RBAC)",
  "scenario.refuse-proxy-create-pod.summary": "kube-proxy.conf authenticates as system:kube-proxy, which kubeadm's ClusterRoleBinding binds (as a user) to\n" +
    "system:node-proxier: list and watch services, endpoints and endpointslices, read nodes, create events.",
  "refuseProxyCreatePod.kubeProxyLists.title": "kube-proxy lists services",
  "refuseProxyCreatePod.kubeProxyLists.lesson": "What kube-proxy needs to program a node's rules: allowed by system:node-proxier.",
  "refuseProxyCreatePod.kubeProxyCreates.title": "kube-proxy creates a pod",
  "refuseProxyCreatePod.kubeProxyCreates.lesson": "Every node runs kube-proxy, so its credentials are on every node: RBAC keeps them narrow. Creating a pod\n" +
    "is not in system:node-proxier, so the apiserver answers 403 before the body is even looked at.",
  // scenarios/refuse-scheduler-delete-node.ts
  "scenario.refuse-scheduler-delete-node.title": "Refused: the scheduler deleting a Node (403 from RBAC)",
  "scenario.refuse-scheduler-delete-node.summary": "scheduler.conf authenticates as system:kube-scheduler. The bootstrap ClusterRole system:kube-scheduler\n" +
    "lets it read nodes, bind pods and delete pods (preemption), but not delete nodes.",
  "refuseSchedulerDeleteNode.schedulerReadsNode.title": "The scheduler reads a Node",
  "refuseSchedulerDeleteNode.schedulerReadsNode.lesson": "get on nodes is in system:kube-scheduler: RBAC allows it and says which binding did.",
  "refuseSchedulerDeleteNode.schedulerDeletesNode.title": "The scheduler deletes the Node",
  "refuseSchedulerDeleteNode.schedulerDeletesNode.lesson": "Authentication succeeds (a valid certificate); authorization fails: neither the Node authorizer (not a\n" +
    "node) nor RBAC (no rule with verb delete on nodes) allows it. The 403 names the user, verb, resource,\n" +
    "API group and scope, exactly as kube-apiserver words it.",
  // scenarios/refuse-kubelet-no-client-cert.ts
  "scenario.refuse-kubelet-no-client-cert.title": "Refused: the apiserver calling a kubelet without its client certificate (401 from the kubelet)",
  "scenario.refuse-kubelet-no-client-cert.summary": "The kubelet API (port 10250) runs logs, exec and port-forward, so kubeadm turns anonymous auth off\n" +
    "(authentication.anonymous.enabled: false) and trusts client certificates from the Kubernetes CA\n" +
    "(clientCAFile). The apiserver proves itself with apiserver-kubelet-client, or not at all.",
  "refuseKubeletNoClientCert.kubectlLogsThrough.title": "kubectl logs through the cluster's apiserver",
  "refuseKubeletNoClientCert.kubectlLogsThrough.lesson": "The apiserver presents apiserver-kubelet-client (CN=kube-apiserver-kubelet-client, O=kubeadm:cluster-admins);\n" +
    "the kubelet verifies it against its client CA and asks the apiserver (SubjectAccessReview) whether that\n" +
    "user may get nodes/proxy: yes, as cluster-admin.",
  "refuseKubeletNoClientCert.kubectlLogsThrough2.title": "kubectl logs through an apiserver without --kubelet-client-certificate",
  "refuseKubeletNoClientCert.kubectlLogsThrough2.lesson": "A second apiserver on the same etcd, started without the kubelet client certificate. The kubelet asks for\n" +
    "a certificate, gets none, and with anonymous auth off answers 401 Unauthorized before any\n" +
    "SubjectAccessReview; the apiserver passes that on to kubectl.",
  // scenarios/kubelet-serving-csr.ts
  "scenario.kubelet-serving-csr.title": "serverTLSBootstrap: the kubelet-serving CSR stays Pending, logs fail until kubectl certificate approve",
  "scenario.kubelet-serving-csr.summary": "kubernetes.io/kubelet-serving is never auto-approved; the apiserver's logs call fails (tls handshake) until an admin approves the CSR.",
  "kubeletServingCsr.nodeJoinsServertlsbootstrap.title": "A node joins with serverTLSBootstrap: true",
  "kubeletServingCsr.nodeJoinsServertlsbootstrap.lesson": "Its client certificate comes by the usual bootstrap; for serving it posts a kubelet-serving CSR and, until that is\n" +
    "signed, has no certificate to present on :10250.",
  "kubeletServingCsr.kubectlLogsFails.title": "kubectl logs fails: the kubelet has no serving certificate",
  "kubeletServingCsr.kubectlLogsFails.lesson": "The apiserver dials the kubelet for the log (apiserver-kubelet-client); the kubelet has nothing to present and the\n" +
    "handshake ends with an alert. (Go's kubelet answers \"remote error: tls: internal error\"; OpenSSL sends handshake_failure.)",
  "kubeletServingCsr.kubectlCertificateApprove.title": "kubectl certificate approve",
  "kubeletServingCsr.kubectlCertificateApprove.lesson": "The admin approves (update on certificatesigningrequests/approval and `approve` on signers/kubernetes.io/kubelet-serving);\n" +
    "csrsigning signs it with ca.key; the kubelet installs the certificate on its running server.",
  "kubeletServingCsr.kubectlLogsWorks.title": "kubectl logs works",
  "kubeletServingCsr.kubectlLogsWorks.lesson": "Same kubelet process, same port: the apiserver (which verifies kubelets against the Kubernetes CA here) accepts the\n" +
    "new certificate.",
} as const;
