/**
 * English, the source: the scenarios about what extends the apiserver and who may act through it (the
 * aggregation layer and its refusals, kubectl exec, RBAC's escalation check): titles, summaries, step
 * titles, lessons, narration and expectations. Keys are `scenario.<name>.*`.
 */
export const enScenariosExtensions = {
  // the layer that decided a request, in the refusals' verdict lines (scenarios/refusals.ts); the trace keeps the token
  "verdict.layer.authentication": "authentication",
  "verdict.layer.authorization": "authorization",
  "verdict.layer.admission": "admission",
  "verdict.layer.validation": "validation",
  "verdict.layer.storage": "storage",
  "verdict.layer.handler": "handler",

  // scenarios/aggregation.ts
  "scenario.aggregation.title": "The aggregation layer: kubectl top through the apiserver to metrics-server and the kubelets",
  "scenario.aggregation.summary": "kubeadm makes a third CA, front-proxy-ca, and one certificate from it, front-proxy-client: the apiserver\n" +
    "presents it when it proxies a request to an extension apiserver such as metrics-server, and tells the\n" +
    "extension who the caller is in X-Remote-User/X-Remote-Group headers. The extension believes those headers\n" +
    "only from a certificate of that CA with an allowed name; everyone else is authenticated as usual.",
  "scenario.aggregation.publish.title": "The apiserver publishes how to authenticate its requests",
  "scenario.aggregation.publish.lesson": "kubeadm gives the apiserver --requestheader-client-ca-file=front-proxy-ca.crt,\n" +
    "--requestheader-allowed-names=front-proxy-client and the X-Remote-* header names, and the apiserver writes\n" +
    "them (with --client-ca-file) into kube-system/extension-apiserver-authentication for extensions to read.",
  "scenario.aggregation.publish.sayKeys": "keys: {{keys}}",
  "scenario.aggregation.publish.expectClientCa": "client-ca-file is the Kubernetes CA",
  "scenario.aggregation.publish.expectRequestheaderCa": "requestheader-client-ca-file is the front-proxy CA",
  "scenario.aggregation.publish.expectAllowedNames": "requestheader-allowed-names is [\"front-proxy-client\"]",
  "scenario.aggregation.publish.expectHeaders": "the headers are X-Remote-User, X-Remote-Group, X-Remote-Extra-",
  "scenario.aggregation.install.title": "metrics-server is installed as its manifest does",
  "scenario.aggregation.install.lesson": "A ServiceAccount, RBAC (system:aggregated-metrics-reader, system:metrics-server, the auth-delegator and\n" +
    "auth-reader bindings), a Service and the APIService v1beta1.metrics.k8s.io. metrics-server makes its own\n" +
    "self-signed serving certificate at start; the APIService carries its CA as caBundle. The aggregator then\n" +
    "checks the Service, its endpoints and GET /apis/metrics.k8s.io/v1beta1 before it calls it Available.",
  "scenario.aggregation.install.expectAvailable": "the APIService is Available: all checks passed",
  "scenario.aggregation.top.title": "kubectl top nodes: two hops, two sets of certificates",
  "scenario.aggregation.top.lesson": "Hop 1, kubectl → kube-apiserver: admin.conf's certificate against the Kubernetes CA, authorized by RBAC for\n" +
    "list nodes.metrics.k8s.io. Hop 2, kube-apiserver → metrics-server: front-proxy-client (front-proxy CA) as\n" +
    "the client, metrics-server's serving certificate checked against the caBundle for metrics-server.kube-system.svc,\n" +
    "and the caller in X-Remote-User: kubernetes-admin, X-Remote-Group: kubeadm:cluster-admins. metrics-server then\n" +
    "asks the apiserver (SubjectAccessReview) whether kubernetes-admin may list nodes.metrics.k8s.io.",
  "scenario.aggregation.top.expectNodeMetrics": "NodeMetrics for every node",
  "scenario.aggregation.top.expectHop2Cert": "hop 2 presents front-proxy-client, from front-proxy-ca",
  "scenario.aggregation.top.expectHop2Verified": "hop 2 verified metrics-server's self-signed certificate against the caBundle",
  "scenario.aggregation.top.expectHeaders": "metrics-server took the user from the headers of a front-proxy certificate",
  "scenario.aggregation.scrape.title": "metrics-server scrapes each kubelet as its service account",
  "scenario.aggregation.scrape.lesson": "GET https://<node>:10250/metrics/resource with a bearer token, no client certificate: the kubelet sends the\n" +
    "token to the apiserver (TokenReview: system:serviceaccount:kube-system:metrics-server) and asks whether it may\n" +
    "get nodes/metrics (SubjectAccessReview; system:metrics-server grants it). The kubelet's serving certificate is\n" +
    "checked against the cluster CA, which signed it here.",
  "scenario.aggregation.scrape.expectAllowed": "every kubelet allowed system:serviceaccount:kube-system:metrics-server to get nodes/metrics",
  "scenario.aggregation.scrape.expectNoFailure": "no scrape failed",
  "scenario.aggregation.topPods.title": "kubectl top pods -A",
  "scenario.aggregation.topPods.lesson": "PodMetrics: each container's CPU rate between two scrapes and its working set.",
  "scenario.aggregation.topPods.expectPodMetrics": "PodMetrics for the pod",

  // scenarios/exec.ts
  "scenario.exec.title": "kubectl exec: two hops, two identities, and who may run commands in a pod",
  "scenario.exec.summary": "kubectl exec opens a stream to a container: kubectl asks the apiserver (WebSocket, v5.channel.k8s.io), the\n" +
    "apiserver authorizes pods/exec and opens its own stream to the pod's kubelet, presenting\n" +
    "apiserver-kubelet-client; the kubelet authenticates that certificate and authorizes nodes/proxy with a\n" +
    "SubjectAccessReview. The kubelet API runs commands in any pod of its node, so nobody else gets through.",
  "scenario.exec.pod.title": "A pod on {{node}}",
  "scenario.exec.pod.lesson": "A pod bound to the node, Running once its kubelet has started it.",
  "scenario.exec.pod.expectRunning": "pod {{pod}} is Running on {{node}}",
  "scenario.exec.run.title": "kubectl exec {{pod}} -- hostname",
  "scenario.exec.run.lesson": "Hop 1: kubectl presents admin.conf (CN=kubernetes-admin, O=kubeadm:cluster-admins) and verifies the apiserver\n" +
    "against the Kubernetes CA. A WebSocket upgrade is a GET, so 1.32 authorizes `get` on pods/exec (the\n" +
    "AuthorizePodWebsocketUpgradeCreatePermission gate adds `create` from 1.35; SPDY, a POST, is `create`).\n" +
    "Hop 2: the apiserver dials the kubelet on 10250 with apiserver-kubelet-client (CN=kube-apiserver-kubelet-client,\n" +
    "O=kubeadm:cluster-admins), and the kubelet authorizes `create` on nodes/proxy by a SubjectAccessReview.",
  "scenario.exec.run.say": "stdout: {{stdout}}; status: {{status}}; protocol {{protocol}}",
  "scenario.exec.run.expectStdout": "the container answers its hostname (the pod's name) on stdout",
  "scenario.exec.run.expectSuccess": "the exec ends with a Success Status on the error channel",
  "scenario.exec.run.expectHop1": "hop 1 TLS: kubectl presented kubernetes-admin and verified the apiserver against the Kubernetes CA",
  "scenario.exec.run.expectApiserver": "the apiserver authorized kubernetes-admin for get on pods/exec and switched protocols (101)",
  "scenario.exec.run.expectHop2": "hop 2 TLS: the apiserver presented apiserver-kubelet-client to the kubelet",
  "scenario.exec.run.expectKubelet": "the kubelet authorized kube-apiserver-kubelet-client for create on nodes/proxy (SubjectAccessReview) and switched protocols",
  "scenario.exec.noRights.title": "Refused at the apiserver: a user with no rights on pods/exec",
  "scenario.exec.noRights.lesson": "A certificate from the cluster CA for user \"dev\" authenticates, but no Role grants it pods/exec: RBAC\n" +
    "says no, the apiserver answers 403 and never dials the kubelet.",
  "scenario.exec.noRights.say": "kubectl exec as dev: HTTP {{status}}: {{message}}",
  "scenario.exec.noRights.expect403": "the upgrade is refused with 403 Forbidden",
  "scenario.exec.noRights.expectMessage": "the message is RBAC's",
  "scenario.exec.noRights.expectAuthorization": "the apiserver decided it at authorization",
  "scenario.exec.noRights.expectKubeletNothing": "the kubelet saw nothing",
  "scenario.exec.otherNode.title": "Refused at the kubelet: {{other}}'s certificate straight to {{node}}'s kubelet",
  "scenario.exec.otherNode.lesson": "The kubelet trusts every certificate of the Kubernetes CA, so system:node:{{other}} authenticates; then it asks the\napiserver whether that user may create nodes/proxy on this node. The Node authorizer and RBAC give a node no\nsuch right (only the apiserver's identity has it), so the kubelet answers 403 before any stream opens.",
  "scenario.exec.otherNode.expectAddress": "{{node}}'s kubelet has an address",

  // scenarios/refuse-rbac-escalation.ts
  "scenario.refuse-rbac-escalation.title": "Refused: a namespace admin granting itself cluster-admin (403, escalation), and a cluster-scoped resource under a namespace (404)",
  "scenario.refuse-rbac-escalation.summary": "The admin ClusterRole bound in one namespace lets jane write Roles and RoleBindings there: a way up, if RBAC\nlet it. It does not, twice: a binding may only hand on permissions its author already holds (the escalation\ncheck), and a namespace's rules reach only namespaced resources (a cluster-scoped one has no path under /namespaces/).",
  "scenario.refuse-rbac-escalation.admin.title": "{{user}}, admin of namespace {{ns}}",
  "scenario.refuse-rbac-escalation.admin.lesson": "The cluster admin creates {{ns}} and RoleBinding {{ns}}/{{user}}-admin to the ClusterRole admin; {{user}}'s client\ncertificate (CN={{user}}, no O) comes from the cluster CA. In {{ns}} {{user}} may do what admin allows, and hand\non what it holds: binding edit (a subset of admin) to bob is allowed.",
  "scenario.refuse-rbac-escalation.admin.whoLists": "{{user}} lists pods in {{ns}}",
  "scenario.refuse-rbac-escalation.admin.whoBinds": "{{user}} binds edit to bob in {{ns}}",
  "scenario.refuse-rbac-escalation.escalate.title": "{{user}} binds cluster-admin to herself in {{ns}}",
  "scenario.refuse-rbac-escalation.escalate.lesson": "Creating a RoleBinding is in admin, so the authorizer allows the request. RBAC's escalation check then\ncompares the rules of the role bound (cluster-admin: every verb on every resource, every non-resource URL)\nwith what {{user}} holds in {{ns}}, and refuses: 403, listing the rules {{user}} lacks as Go prints a PolicyRule.",
  "scenario.refuse-rbac-escalation.escalate.who": "{{user}} binds cluster-admin",
  "scenario.refuse-rbac-escalation.escalate.expectNotStored": "no RoleBinding {{ns}}/{{user}}-cluster-admin was stored (GET: {{status}})",
  "scenario.refuse-rbac-escalation.clusterScoped.title": "A Role in {{ns}} naming clusterrolebindings",
  "scenario.refuse-rbac-escalation.clusterScoped.lesson": "The cluster admin, asked to let {{user}} read the cluster's bindings, writes Role {{ns}}/rbac-reader (get, list on\nclusterrolebindings) and binds it to {{user}}. The authorizer matches it for a request in {{ns}}, but\nclusterrolebindings are cluster-scoped: under /namespaces/ there is no such path (404), and at the cluster\nscope no rule of a namespace applies (403).",
  "scenario.refuse-rbac-escalation.clusterScoped.whoNamespaced": "{{user}} lists clusterrolebindings in {{ns}}",
  "scenario.refuse-rbac-escalation.clusterScoped.expect404": "the answer is 404 NotFound: \"the server could not find the requested resource\"",
  "scenario.refuse-rbac-escalation.clusterScoped.whoCluster": "{{user}} lists clusterrolebindings",

  // scenarios/refuse-aggregation.ts: refuse-front-proxy-wrong-ca
  "scenario.refuse-front-proxy-wrong-ca.title": "front-proxy-client from the wrong CA: metrics-server refuses the identity headers (401)",
  "scenario.refuse-front-proxy-wrong-ca.summary": "A front-proxy-client certificate signed by a CA that is also called \"front-proxy-ca\" but is not the one in\n" +
    "requestheader-client-ca-file (a regenerated CA, a second control plane made apart): the handshake completes, then\n" +
    "neither the request-header nor the x509 authenticator verifies it, and metrics-server answers 401 (metrics-server#474).",
  "scenario.refuse-front-proxy-wrong-ca.wrongCa.title": "front-proxy-client from another \"front-proxy-ca\", with X-Remote-User: kubernetes-admin",
  "scenario.refuse-front-proxy-wrong-ca.wrongCa.lesson": "What the aggregator would send if --proxy-client-cert-file came from a CA the extension does not trust.",
  "scenario.refuse-front-proxy-wrong-ca.wrongCa.expectCandidate": "metrics-server names the candidate CA it tried",

  // scenarios/refuse-aggregation.ts: refuse-requestheader-name
  "scenario.refuse-requestheader-name.title": "A front-proxy-ca certificate whose name is not in requestheader-allowed-names (401)",
  "scenario.refuse-requestheader-name.summary": "The request-header CA is trusted only for the names in requestheader-allowed-names (kubeadm: front-proxy-client).\n" +
    "Any other certificate of that CA is refused by the request-header authenticator, and the x509 authenticator\n" +
    "does not know the CA: 401, whatever the headers say.",
  "scenario.refuse-requestheader-name.impostor.title": "CN=aggregator-impostor from front-proxy-ca, claiming system:admin",
  "scenario.refuse-requestheader-name.impostor.lesson": "The right CA, the wrong name.",
  "scenario.refuse-requestheader-name.allowed.title": "The same CA with the allowed name: front-proxy-client",
  "scenario.refuse-requestheader-name.allowed.lesson": "Its headers are believed: this is the aggregator's own certificate.",
  "scenario.refuse-requestheader-name.allowed.say": "front-proxy-client: HTTP {{status}} as {{user}} ({{reason}})",
  "scenario.refuse-requestheader-name.allowed.expect": "front-proxy-client's headers are taken: allowed as kubernetes-admin",

  // scenarios/refuse-aggregation.ts: refuse-remote-user-spoof
  "scenario.refuse-remote-user-spoof.title": "X-Remote-User: system:admin with a Kubernetes-CA certificate straight to the extension (403 as itself)",
  "scenario.refuse-remote-user-spoof.summary": "A client that can reach metrics-server directly sends X-Remote-User: system:admin and X-Remote-Group:\n" +
    "system:masters with its own certificate from the Kubernetes CA. Only front-proxy-ca certificates with an allowed\n" +
    "name may assert identity headers: the headers are ignored, the x509 authenticator makes it \"mallory\", and the\n" +
    "SubjectAccessReview for mallory is a 403. (Were the request-header CA the same as the client CA, this is where\n" +
    "anyone with a client certificate would become anyone: kubernetes/website#12890.)",
  "scenario.refuse-remote-user-spoof.mallory.title": "mallory (Kubernetes CA) claims system:admin in the headers",
  "scenario.refuse-remote-user-spoof.mallory.lesson": "The certificate verifies; the headers do not count.",

  // scenarios/refuse-aggregation.ts: refuse-kubelet-self-signed
  "scenario.refuse-kubelet-self-signed.title": "metrics-server against self-signed kubelet serving certificates; the fix; --kubelet-insecure-tls",
  "scenario.refuse-kubelet-self-signed.summary": "kubeadm's default kubelet serving certificate is self-signed (<node>-ca@<time>), so metrics-server, which checks\n" +
    "it against the cluster CA, cannot scrape that node and `kubectl top` has nothing for it (metrics-server#196,\n" +
    "kubeadm#1223). CA-signed serving certificates (serverTLSBootstrap or, here, the PKI's) fix it. --kubelet-insecure-tls\n" +
    "also makes the error go away, by checking nothing: whoever answers at the node's address gets the token.",
  "scenario.refuse-kubelet-self-signed.selfSigned.title": "{{node}}'s kubelet serves kubeadm's self-signed pair",
  "scenario.refuse-kubelet-self-signed.selfSigned.lesson": "A throw-away CA \"<node>-ca@<unix>\" signs \"<node>@<unix>\"; nobody else trusts it.",
  "scenario.refuse-kubelet-self-signed.selfSigned.expect": "the serving certificate is self-signed",
  "scenario.refuse-kubelet-self-signed.scrape.title": "metrics-server scrapes it",
  "scenario.refuse-kubelet-self-signed.scrape.lesson": "It checks the kubelet's certificate against the cluster CA: the handshake fails, and it logs why.",
  "scenario.refuse-kubelet-self-signed.scrape.expectFailed": "the scrape failed with x509: certificate signed by unknown authority",
  "scenario.refuse-kubelet-self-signed.scrape.expectNothing": "kubectl top nodes has nothing for {{node}}",
  "scenario.refuse-kubelet-self-signed.fix.title": "The fix: a serving certificate from the cluster CA",
  "scenario.refuse-kubelet-self-signed.fix.lesson": "What serverTLSBootstrap and an approved kubelet-serving CSR give (here: the PKI's kubelet.crt).",
  "scenario.refuse-kubelet-self-signed.fix.expect": "the scrape works",
  "scenario.refuse-kubelet-self-signed.insecure.title": "The shortcut: --kubelet-insecure-tls, against the self-signed pair again",
  "scenario.refuse-kubelet-self-signed.insecure.lesson": "No error, because nothing is checked: the same finding as CIS 1.2.5 for the apiserver without\n" +
    "--kubelet-certificate-authority; here the service-account token goes to whoever serves the node's address.",
  "scenario.refuse-kubelet-self-signed.insecure.expect": "the scrape \"works\" without verifying the kubelet",
  "scenario.refuse-kubelet-self-signed.insecure.say": "CIS-style finding: metrics-server runs with --kubelet-insecure-tls: kubelet serving certificates are not verified.",
} as const;
