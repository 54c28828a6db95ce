/** English, the source: the tour (scenarios/tour.ts), step by step in the seed document's order. */
export const enTour = {
  'scenario.tour.title': "The tour: Kubernetes' PKI and every control-plane flow over mutual TLS",
  'scenario.tour.summary': 'Follows the seed document: the two roots, server and client certificates, then each component\n' +
    'talking to the next, each connection with its certificates, the CAs that checked them, and the verdict.',
  'scenario.pki.title': "The PKI alone: kubeadm's two roots and every certificate they sign",
  'scenario.pki.summary': 'The first half of the tour, without starting the cluster.',

  'tour.root.title': 'The root: the Kubernetes CA',
  'tour.root.lesson': 'Every component talks HTTPS, and the apiserver must know who each client is, so servers and clients\n' +
    'both hold certificates signed by a CA: Kubernetes builds its own PKI. On the first control-plane node\n' +
    'kubeadm makes ca.key and ca.crt in /etc/kubernetes/pki; ca.crt is handed to every node that joins.',
  'tour.root.say': 'pki/ca.crt: CN={{cn}}, CA:TRUE, valid to {{validTo}}',
  'tour.root.expect': 'the Kubernetes CA is self-signed and a CA',

  'tour.etcdCa.title': 'The second root: the etcd CA',
  'tour.etcdCa.lesson': 'etcd gets a CA of its own, /etc/kubernetes/pki/etcd/ca.{crt,key}, handed to each control-plane node\n' +
    'that joins. Because etcd trusts only this CA, nothing signed by the Kubernetes CA can reach etcd.\n' +
    '(kubeadm also makes front-proxy-ca for the aggregation layer, and sa.key/sa.pub for service-account tokens.)',
  'tour.etcdCa.expect': 'the etcd CA is a different key from the Kubernetes CA',

  'tour.serving.title': 'Server certificates: kube-apiserver, kubelet, etcd',
  'tour.serving.lesson': 'Each server makes its own key and a CSR; the apiserver and the kubelets are signed by the Kubernetes\n' +
    'CA, etcd by the etcd CA. The SANs list the names and IPs clients dial.',
  'tour.serving.say': '{{name}}: {{cert}}; SANs {{sans}}',
  'tour.serving.expect': '{{name}} is signed by {{ca}} and is for serverAuth',

  'tour.clients.title': 'Client certificates: kubectl, scheduler, controller-manager, kube-proxy, kubelet',
  'tour.clients.lesson': 'Every client of the apiserver gets its own key and certificate from the Kubernetes CA. The apiserver\n' +
    'reads the user from the CN and the groups from the O values. The kubelet is both a server (above) and\n' +
    'a client (here).',
  'tour.clients.expect': '{{name}} is signed by the Kubernetes CA for clientAuth',

  'tour.apiserverClients.title': "The apiserver's two client certificates",
  'tour.apiserverClients.lesson': 'The apiserver is a client too: of the kubelets (apiserver-kubelet-client, Kubernetes CA) and of etcd\n' +
    '(apiserver-etcd-client, etcd CA).',
  'tour.apiserverClients.expectK8s': '{{name}} is signed by the Kubernetes CA',
  'tour.apiserverClients.expectEtcd': '{{name}} is signed by the etcd CA',

  'tour.startup.title': 'Start-up',
  'tour.startup.lesson': 'etcd, then kube-apiserver, kube-controller-manager, kube-scheduler, and on every node a kubelet and a\n' +
    'kube-proxy: each a real TLS server or client on its own loopback address, with its own certificate.',
  'tour.startup.expect': 'nodes {{nodes}} registered and Ready',

  'tour.etcd.title': 'kube-apiserver → etcd',
  'tour.etcd.lesson': 'The apiserver is the only component that reaches etcd. It stores the cluster state as key-value\n' +
    'pairs under /registry/, presenting apiserver-etcd-client (etcd CA); etcd checks it against the etcd CA.\n' +
    'Here etcdctl (with etcd/healthcheck-client, also from the etcd CA) reads what the apiserver wrote.',
  'tour.etcd.say': 'etcd holds /registry/namespaces/tour = {{value}}…',
  'tour.etcd.nothing': '(nothing)',
  'tour.etcd.expect': 'the Namespace created through the apiserver is in etcd under /registry/namespaces/tour',

  'tour.kubelet.title': 'kubelet → kube-apiserver',
  'tour.kubelet.lesson': 'Each kubelet, as system:node:<node> in group system:nodes, registered its Node, renews its Lease in\n' +
    'kube-node-lease, and watches the pods bound to its node. The Node authorizer lets it touch only its own:\n' +
    'its pod list and watch must name its node (fieldSelector spec.nodeName=<node>), or they are refused.',
  'tour.kubelet.say': 'leases: {{leases}}',
  'tour.kubelet.lease': '{{name}} (holder {{holder}})',
  'tour.kubelet.expectLease': 'every kubelet holds its Lease',
  'tour.kubelet.expectAuth': 'the apiserver authenticated the kubelets by their client certificates and allowed them',

  'tour.toKubelet.title': 'kube-apiserver → kubelet',
  'tour.toKubelet.lesson': 'The apiserver also calls the kubelets, on port 10250, for node and pod state (and logs, exec,\n' +
    'port-forward). It presents apiserver-kubelet-client (Kubernetes CA, O=kubeadm:cluster-admins); the\n' +
    'kubelet checks it against its client CA, then asks the apiserver (SubjectAccessReview) whether that\n' +
    "user may get nodes/proxy. The apiserver verifies the kubelet's serving certificate against the\n" +
    'Kubernetes CA (--kubelet-certificate-authority). kubectl reaches it as nodes/<node>/proxy/<path>.',
  'tour.toKubelet.saySpec': 'kubectl get --raw /api/v1/nodes/{{node}}/proxy/spec: {{cores}} cores, {{gib}} GiB',
  'tour.toKubelet.sayPods': 'kubectl get --raw /api/v1/nodes/{{node}}/proxy/pods: {{answer}}',
  'tour.toKubelet.podList': 'a PodList of {{n}} (kubectl sends the first pods next)',
  'tour.toKubelet.expectAnswer': 'the kubelet of {{node}} answered /spec and /pods through the apiserver',
  'tour.toKubelet.expectVerified': 'the kubelet verified apiserver-kubelet-client against the Kubernetes CA',
  'tour.toKubelet.expectReview': 'the kubelet asked the apiserver whether kube-apiserver-kubelet-client may get nodes/proxy',

  'tour.kubectl.title': 'kubectl → kube-apiserver',
  'tour.kubectl.lesson': 'kubectl turns the manifest (YAML) into JSON and sends it with admin.conf: CN=kubernetes-admin,\n' +
    'O=kubeadm:cluster-admins, a group kubeadm binds to cluster-admin. `kubectl auth whoami` (a\n' +
    'SelfSubjectReview) shows who the apiserver made of that certificate.',
  'tour.kubectl.expectWhoami': 'the apiserver sees admin.conf as kubernetes-admin in kubeadm:cluster-admins',
  'tour.kubectl.expectStored': 'the Deployment is stored',

  'tour.scheduler.title': 'kube-scheduler → kube-apiserver',
  'tour.scheduler.lesson': 'The scheduler (scheduler.conf, CN=system:kube-scheduler) watches pods with no node (spec.nodeName\n' +
    'empty): here the three pods of web, which the controller-manager (next) made from the Deployment.\n' +
    'For each it picks a Ready node with room (least allocated first) and POSTs a Binding to\n' +
    'pods/<name>/binding.',
  'tour.scheduler.expectBound': 'all 3 pods are bound to nodes of the cluster',
  'tour.scheduler.expectSpread': 'least-allocated scoring spreads them over more than one node',

  'tour.kcm.title': 'kube-controller-manager → kube-apiserver',
  'tour.kcm.lesson': 'The controller-manager compares desired and current state. As kubeadm runs it\n' +
    '(--use-service-account-credentials), it authenticates with controller-manager.conf only to get a\n' +
    'service-account token for each controller, and each controller then acts as its own service account:\n' +
    'the deployment controller creates a ReplicaSet, the replicaset controller creates the pods. A 409 on\n' +
    'the wire is an update that lost a race with another write (optimistic concurrency): the controller\n' +
    'reads the object again and retries.',
  'tour.kcm.say': 'replicaset.apps/{{rs}}; pods {{pods}}',
  'tour.kcm.expectReplicas': 'the ReplicaSet asks for 3 replicas',
  'tour.kcm.expectCreator': 'the pods were created by system:serviceaccount:kube-system:replicaset-controller',

  'tour.run.title': 'kubelet runs the pods and reports their status',
  'tour.run.lesson': 'Each kubelet sees the pods bound to it on its watch, "runs" them (simulated containers, an IP from\n' +
    "the node's pod range) and reports their status back through pods/<name>/status.",
  'tour.run.say': '{{pod}}: {{phase}} on {{node}}, IP {{ip}}',
  'tour.run.expect': 'all 3 pods Running with pod IPs',

  'tour.endpoints.title': 'kube-controller-manager: endpoints and EndpointSlices',
  'tour.endpoints.lesson': "Two controllers turn the Service's selector and its pods into addresses, each as its own service\n" +
    'account: the endpoints controller writes the Endpoints object web (the legacy API), and the\n' +
    'endpointslice controller writes an EndpointSlice web-<5 random characters>, labelled\n' +
    'kubernetes.io/service-name=web and owned by the Service, with each pod\'s ready/serving/terminating\n' +
    'conditions. The slice is what kube-proxy reads.',
  'tour.endpoints.sayEndpoint': '  {{addresses}} on {{node}} ({{pod}}): ready={{ready}}',
  'tour.endpoints.expectPort': 'the Endpoints list the 3 pods on port 80',
  'tour.endpoints.expectName': 'the slice is named web-<5 characters> and labelled with its service and its manager',
  'tour.endpoints.expectOwner': 'the slice is owned by the Service (controller, blockOwnerDeletion)',
  'tour.endpoints.expectWriter': 'the slice was written by system:serviceaccount:kube-system:endpointslice-controller',

  'tour.proxy.title': 'kube-proxy → kube-apiserver',
  'tour.proxy.lesson': "Each kube-proxy (kube-proxy.conf, CN=system:kube-proxy, bound to system:node-proxier) lists and watches\n" +
    'services and EndpointSlices (not Endpoints), gathers the ready endpoints of every slice labelled with\n' +
    "a service's name, and turns them into its node's netfilter rules (iptables mode, shown as iptables-save).",
  'tour.proxy.say': '{{node}} nat rules for default/web (ClusterIP {{ip}}):',
  'tour.proxy.expectService': 'a KUBE-SERVICES rule sends the ClusterIP to a KUBE-SVC chain',
  'tour.proxy.expectDnat': "three KUBE-SEP chains DNAT to the slice's ready endpoints",
  'tour.proxy.expectReads': 'kube-proxy read endpointslices, never endpoints',
  'tour.proxy.lessonIpvs': "Each kube-proxy (kube-proxy.conf, CN=system:kube-proxy, bound to system:node-proxier) lists and watches\n" +
    'services and EndpointSlices (not Endpoints) over the same mTLS as in iptables mode; in ipvs mode (--proxy-mode ipvs)\n' +
    'it makes an IPVS virtual server per ClusterIP:port with a real server per ready endpoint (Masq, weight 1), binds\n' +
    'the ClusterIP to the dummy interface kube-ipvs0, and keeps only a few iptables rules that match the KUBE-CLUSTER-IP ipset.',
  'tour.proxy.sayIpvs': '{{node}} in ipvs mode, default/web (ClusterIP {{ip}}):',
  'tour.proxy.expectVirtualServer': 'an rr virtual server on the ClusterIP:port, the ClusterIP on kube-ipvs0 and in KUBE-CLUSTER-IP',
  'tour.proxy.expectRealServers': "three real servers, Masq with weight 1: the slice's ready endpoints",
  'tour.proxy.expectNoChains': 'no KUBE-SVC/KUBE-SEP chains: the iptables rules match the ipset',

  'tour.logs.title': 'kube-apiserver → kubelet: kubectl logs',
  'tour.logs.lesson': 'kubectl logs is the same hop: kubectl asks the apiserver for pods/<pod>/log, and the apiserver calls\n' +
    "the pod's kubelet at /containerLogs/<namespace>/<pod>/<container> with apiserver-kubelet-client.",
  'tour.logs.say': 'kubectl logs {{pod}} (on {{node}}):',
  'tour.logs.expect': 'the log came back through the apiserver from the kubelet',

  'tour.refuseEtcd.title': 'Refused: a kubelet dialling etcd',
  'tour.refuseEtcd.lesson': 'The etcd CA is the access control: a certificate from the Kubernetes CA (here node-1\'s kubelet\n' +
    'client certificate) does not verify against the etcd CA, so etcd refuses the handshake itself.',
  'tour.refuseEtcd.say': 'the kubelet sees: {{outcome}}',
  'tour.refuseEtcd.expectRefused': 'etcd refused the handshake: x509: certificate signed by unknown authority',
  'tour.refuseEtcd.expectNoRequest': 'no request reached etcd',

  'tour.foreign.title': 'Refused: kubectl with a certificate from a foreign CA',
  'tour.foreign.lesson': 'A client certificate from a CA the apiserver does not trust completes the TLS handshake (the apiserver\n' +
    'asks for a certificate but lets its authenticators decide) and gets 401 Unauthorized, which kubectl\n' +
    'prints as "error: You must be logged in to the server (Unauthorized)". The foreign CA here is also\n' +
    'called "kubernetes" (another kubeadm cluster\'s CA would be): names are not trust, the CA\'s key is.',
  'tour.foreign.expect401': 'the apiserver answered 401',
  'tour.foreign.allowed': 'the request was allowed',
  'tour.foreign.say': 'the apiserver answers {{answer}}',
  'tour.foreign.expectUnauthorized': 'the apiserver answered 401 Unauthorized',
  'tour.foreign.expectWhy': 'the apiserver recorded why: x509: certificate signed by unknown authority',
} as const;
