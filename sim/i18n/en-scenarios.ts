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
  // scenarios/refuse-server-cert-as-client.ts
  "scenario.refuse-server-cert-as-client.title": "Refused: a serving certificate used as a client certificate (401, incompatible key usage)",
  "scenario.refuse-server-cert-as-client.summary": "A kubelet has two certificates with the same names (CN=system:node:<node>, O=system:nodes) from the same\n" +
    "CA: kubelet.conf's for clientAuth, /var/lib/kubelet/pki/kubelet.crt for serverAuth. The extended key usage\n" +
    "says which side of a handshake a certificate may stand on, and both OpenSSL and Go check it.",
  "refuseServerCertAsClient.nodeSKubelet.title": "{{node}}'s kubelet with its client certificate",
  "refuseServerCertAsClient.nodeSKubelet.lesson": "kubelet.conf carries the clientAuth certificate: the apiserver authenticates system:node:<node> and the\n" +
    "Node authorizer lets it read its own Node.",
  "refuseServerCertAsClient.nodeSKubelet2.title": "{{node}}'s kubelet with its serving certificate",
  "refuseServerCertAsClient.nodeSKubelet2.lesson": "Same names, same CA, but the extended key usage lists serverAuth only. OpenSSL, verifying a client\n" +
    "certificate, requires clientAuth and reports INVALID_PURPOSE; the apiserver completes the handshake and\n" +
    "its x509 authenticator answers 401 (\"x509: certificate specifies an incompatible key usage\").",
  "refuseServerCertAsClient.apiserverSServing.title": "The apiserver's serving certificate at a kubelet",
  "refuseServerCertAsClient.apiserverSServing.lesson": "The same at a kubelet: pki/apiserver.crt (serverAuth) is not apiserver-kubelet-client (clientAuth). The\n" +
    "kubelet's x509 authenticator refuses it with 401 before any SubjectAccessReview.",
  // scenarios/refuse-client-cert-as-server.ts
  "scenario.refuse-client-cert-as-server.title": "Refused: a kubelet serving with its client certificate (the apiserver refuses the server)",
  "scenario.refuse-client-cert-as-server.summary": "A kubelet whose --tls-cert-file points at its client certificate: same names and CA, but clientAuth only.\n" +
    "The apiserver dials it for `kubectl logs`, checks the serving certificate, and refuses it.",
  "refuseClientCertAsServer.podNode.title": "A pod on {{node}}",
  "refuseClientCertAsServer.podNode.lesson": "kubectl logs goes kubectl → apiserver → kubelet. The apiserver verifies the kubelet's serving certificate\n" +
    "against the Kubernetes CA (--kubelet-certificate-authority): a serverAuth certificate naming the node IP.",
  "refuseClientCertAsServer.nodeSKubelet.title": "{{node}}'s kubelet serves kubelet.conf's client certificate",
  "refuseClientCertAsServer.nodeSKubelet.lesson": "Its key usage says clientAuth only. OpenSSL on the apiserver's side checks the serving certificate for the\n" +
    "serverAuth purpose and reports INVALID_PURPOSE; Go prints \"x509: certificate specifies an incompatible key\n" +
    "usage\". The apiserver never sends the request: kubectl gets a 500 whose message names the URL and reason.",
  "refuseClientCertAsServer.backServingCertificate.title": "Back to the serving certificate",
  "refuseClientCertAsServer.backServingCertificate.lesson": "With kubelet.crt (serverAuth) installed again, new connections verify and the log comes back.",
  // scenarios/refuse-node-status-other.ts
  "scenario.refuse-node-status-other.title": "Refused: node-1's kubelet updating node-2's status (403 from NodeRestriction)",
  "scenario.refuse-node-status-other.summary": "Every kubelet is in group system:nodes. The Node authorizer allows node status updates by any node (the\n" +
    "verb and resource are in its rules); the NodeRestriction admission plugin then checks whose Node it is.",
  "refuseNodeStatusOther.patchesOwnStatus.title": "{{a}} patches its own status",
  "refuseNodeStatusOther.patchesOwnStatus.lesson": "What the kubelet does every few seconds: PATCH nodes/<own name>/status.",
  "refuseNodeStatusOther.marksBNotready.title": "{{a}} marks {{b}} NotReady",
  "refuseNodeStatusOther.marksBNotready.lesson": "A compromised {{a}} tries to take {{b}} out of service. Authentication: system:node:{{a}}, fine. Authorization:\nthe Node authorizer allows update/patch of nodes/status for a node identity. Admission: NodeRestriction\ncompares the node in the user name with the object and refuses: a 403 at the admission layer.",
  // scenarios/refuse-kubelet-secret.ts
  "scenario.refuse-kubelet-secret.title": "Refused: a kubelet reading a Secret no pod of its node uses (403 from the Node authorizer)",
  "scenario.refuse-kubelet-secret.summary": "The Node authorizer keeps a graph of pods, the node each is bound to, and the secrets, configmaps and\n" +
    "volumes each uses. A kubelet may read a secret only along a path secret → pod → its node.",
  "refuseKubeletSecret.secretThatNo.title": "A Secret that no pod uses",
  "refuseKubeletSecret.secretThatNo.lesson": "kubectl creates default/db-password. {{node}}'s kubelet asks for it: RBAC gives system:nodes nothing (the\nsystem:node role is bound to nobody), and the Node authorizer finds no path from the secret to the node.",
  "refuseKubeletSecret.podNodeMounts.title": "A pod on {{node}} mounts the Secret",
  "refuseKubeletSecret.podNodeMounts.lesson": "Once a pod bound to the node mounts it, the graph has secret → pod → node and the same request is allowed:\n" +
    "the kubelet needs it to start that pod. Delete the pod and the path is gone again.",
  // scenarios/refuse-san-mismatch.ts
  "scenario.refuse-san-mismatch.title": "Refused: the apiserver dialled on an address its certificate does not name (the client refuses)",
  "scenario.refuse-san-mismatch.summary": "kubeadm's apiserver certificate names the node, the kubernetes.default names, the first Service IP and the\n" +
    "advertise address. A client that dials anything else, here 127.0.0.1 through a TCP load balancer, refuses\n" +
    "the server: the server is never asked anything.",
  "refuseSanMismatch.sansPkiApiserver.title": "The SANs of pki/apiserver.crt",
  "refuseSanMismatch.sansPkiApiserver.lesson": "A TLS client checks that the name or IP it dialled is among the certificate's SANs (for an IP, only the IP\n" +
    "SANs count). That is why kubeadm takes --apiserver-cert-extra-sans and why a kubeconfig must name an\n" +
    "address the certificate lists.",
  "refuseSanMismatch.kubectlServerHttps.title": "kubectl with --server https://{{advertiseAddress}}:<port> (a name in the certificate)",
  "refuseSanMismatch.kubectlServerHttps.lesson": "The advertise address is in the certificate: the handshake verifies both ways and the request is served.",
  "refuseSanMismatch.kubectlServerHttps2.title": "kubectl with --server https://{{host}}:<port>, through a TCP load balancer",
  "refuseSanMismatch.kubectlServerHttps2.lesson": "The same apiserver, the same certificate, reached on {{host}}. OpenSSL reports ERR_TLS_CERT_ALTNAME_INVALID on\nthe client; kubectl prints \"Unable to connect to the server: x509: certificate is valid for ..., not ...\".\nThe fix is a certificate that names the address (kubeadm: --apiserver-cert-extra-sans, then renew), not\ninsecure-skip-tls-verify.",
  // scenarios/rogue-kubelet.ts
  "scenario.rogue-kubelet.title": "A rogue kubelet: accepted without --kubelet-certificate-authority, refused with it",
  "scenario.rogue-kubelet.summary": "Whoever answers at a node's address on port 10250 receives the apiserver's requests for logs, exec and\n" +
    "port-forward, and the apiserver-kubelet-client certificate's handshake. kubeadm does not set\n" +
    "--kubelet-certificate-authority, so by default the apiserver does not check who that is (CIS benchmark 1.2.5).",
  "rogueKubelet.podNode.title": "A pod on {{node}}",
  "rogueKubelet.podNode.lesson": "Its log is what the apiserver will ask the kubelet for.",
  "rogueKubelet.nodeSAddress.title": "{{node}}'s address now serves a certificate from a foreign CA",
  "rogueKubelet.nodeSAddress.lesson": "The same names and SANs as the real kubelet.crt (CN=system:node:<node>, the node IP), signed by \"rogue-ca\",\n" +
    "a CA nobody in the cluster trusts: what an attacker on that address could present.",
  "rogueKubelet.clusterSApiserver.title": "The cluster's apiserver, with --kubelet-certificate-authority=ca.crt",
  "rogueKubelet.clusterSApiserver.lesson": "As the seed document and \"Kubernetes The Hard Way\" configure it: the apiserver verifies the kubelet's\n" +
    "certificate against the Kubernetes CA and refuses the rogue in the handshake (UNABLE_TO_VERIFY_LEAF_SIGNATURE):\n" +
    "kubectl gets a 500 naming \"x509: certificate signed by unknown authority\", and nothing is sent.",
  "rogueKubelet.apiserverKubeadmSets.title": "An apiserver as kubeadm sets it up: no --kubelet-certificate-authority",
  "rogueKubelet.apiserverKubeadmSets.lesson": "A second apiserver on the same etcd, without the flag. It does not verify the serving certificate at all,\n" +
    "completes the handshake with the rogue, presents apiserver-kubelet-client and sends the request: the rogue\n" +
    "sees the request and what it returns is shown to kubectl as the pod's log. (Here the \"rogue\" is the real\n" +
    "kubelet with a swapped certificate, so the log is real; an attacker would answer whatever it liked.)",
  "rogueKubelet.realServingCertificate.title": "The real serving certificate again",
  "rogueKubelet.realServingCertificate.lesson": "Put back, so the cluster is as it was.",
  // scenarios/refuse-expired-client.ts
  "scenario.refuse-expired-client.title": "Refused: an expired and a not-yet-valid client certificate (401 from the apiserver)",
  "scenario.refuse-expired-client.summary": "Two certificates with admin.conf's names, signed by the real Kubernetes CA; only the dates are wrong.\n" +
    "kubeadm's leaves live one year (notBefore backdated five minutes), so this is the most common refusal in real\n" +
    "clusters: \"x509: certificate has expired or is not yet valid\".",
  "refuseExpiredClient.expired.title": "A client certificate expired yesterday",
  "refuseExpiredClient.expired.lesson": "notAfter is yesterday: the chain is right, the time is not. OpenSSL reports CERT_HAS_EXPIRED; the\n" +
    "apiserver answers 401 and logs \"verifying certificate ... failed: x509: certificate has expired or is not\n" +
    "yet valid: current time ... is after ...\". kubeadm certs check-expiration shows it; kubeadm certs renew fixes it.",
  "refuseExpiredClient.notYetValid.title": "A client certificate valid from tomorrow",
  "refuseExpiredClient.notYetValid.lesson": "notBefore is tomorrow (a signer whose clock runs ahead, or a node whose clock runs behind): OpenSSL\n" +
    "reports CERT_NOT_YET_VALID and Go prints the same words, \"... is before ...\". kubeadm backdates\n" +
    "notBefore by five minutes against exactly this.",
} as const;
