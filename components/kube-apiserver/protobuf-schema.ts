/**
 * Field tables of the Kubernetes protobuf messages the apiserver decodes, written from the generated.proto
 * files of k8s.io/api (core/v1, apps/v1, rbac/v1, certificates/v1, authentication/v1, authorization/v1,
 * policy/v1; a 1.35/1.36-era tree) and k8s.io/apimachinery (meta/v1, util/intstr, api/resource), with JSON
 * names and pointer-ness from the matching types.go. Field numbers are append-only, so newer clients only add
 * numbers. Message names are the proto's fully qualified names without the leading dot.
 */
export type Scalar = 'string' | 'int' | 'bool' | 'bytes';
/** Special encodings: IntOrString {type=1,intVal=2,strVal=3} → JSON number or string; Quantity {string=1} → string; Time {seconds=1,nanos=2} → RFC 3339 'YYYY-MM-DDTHH:MM:SSZ'; MicroTime likewise with microseconds. */
export type Special = 'intOrString' | 'quantity' | 'time' | 'microTime';
/** A map's values may be Special too: ResourceList (limits, requests, overhead) is map<string, Quantity>. */
export type FieldType = Scalar | Special | { readonly message: string } | { readonly map: Scalar | Special | { readonly message: string } };
export interface FieldSpec {
  readonly name: string;        // the JSON name (the Go struct's json tag), e.g. 'generateName'
  readonly type: FieldType;
  readonly repeated?: true;     // `repeated` in the proto (not maps)
  readonly keepZero?: true;     // the Go field is a pointer (*int32, *bool, *string, *int64): a present zero/false/'' must be kept in JSON
  /** An `int` field that is int64 in Go (otherwise int32): JSON decoding refuses what overflows it. */
  readonly int64?: true;
  /**
   * The Go field is an embedded struct tagged `json:",inline"` (e.g. ConfigMapKeySelector's
   * LocalObjectReference, Probe's ProbeHandler, Volume's VolumeSource): the message has its own proto
   * field number, but its fields belong directly to the enclosing JSON object. `name` is the proto name.
   */
  readonly inline?: true;
}

const CORE = 'k8s.io.api.core.v1.';
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1.';
const APPS = 'k8s.io.api.apps.v1.';
const RBAC = 'k8s.io.api.rbac.v1.';
const CERT = 'k8s.io.api.certificates.v1.';
const AUTHN = 'k8s.io.api.authentication.v1.';
const AUTHZ = 'k8s.io.api.authorization.v1.';
const POLICY = 'k8s.io.api.policy.v1.';

const core = (n: string) => ({ message: CORE + n });
const meta = (n: string) => ({ message: META + n });
const Q = { map: 'quantity' } as const;
const OBJECT_META = { name: 'metadata', type: meta('ObjectMeta') } as const;

export const MESSAGES: Readonly<Record<string, Readonly<Record<number, FieldSpec>>>> = {
  // ---- meta/v1 ----
  [META + 'TypeMeta']: {
    1: { name: 'kind', type: 'string' },
    2: { name: 'apiVersion', type: 'string' },
  },
  [META + 'ObjectMeta']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'generateName', type: 'string' },
    3: { name: 'namespace', type: 'string' },
    4: { name: 'selfLink', type: 'string' },
    5: { name: 'uid', type: 'string' },
    6: { name: 'resourceVersion', type: 'string' },
    7: { name: 'generation', type: 'int', int64: true },
    8: { name: 'creationTimestamp', type: 'time' },
    9: { name: 'deletionTimestamp', type: 'time' },
    10: { name: 'deletionGracePeriodSeconds', type: 'int', keepZero: true, int64: true },
    11: { name: 'labels', type: { map: 'string' } },
    12: { name: 'annotations', type: { map: 'string' } },
    13: { name: 'ownerReferences', type: meta('OwnerReference'), repeated: true },
    14: { name: 'finalizers', type: 'string', repeated: true },
    17: { name: 'managedFields', type: meta('ManagedFieldsEntry'), repeated: true },
  },
  [META + 'OwnerReference']: {
    5: { name: 'apiVersion', type: 'string' },
    1: { name: 'kind', type: 'string' },
    3: { name: 'name', type: 'string' },
    4: { name: 'uid', type: 'string' },
    6: { name: 'controller', type: 'bool', keepZero: true },
    7: { name: 'blockOwnerDeletion', type: 'bool', keepZero: true },
  },
  [META + 'LabelSelector']: {
    1: { name: 'matchLabels', type: { map: 'string' } },
    2: { name: 'matchExpressions', type: meta('LabelSelectorRequirement'), repeated: true },
  },
  [META + 'LabelSelectorRequirement']: {
    1: { name: 'key', type: 'string' },
    2: { name: 'operator', type: 'string' },
    3: { name: 'values', type: 'string', repeated: true },
  },
  [META + 'ManagedFieldsEntry']: {
    1: { name: 'manager', type: 'string' },
    2: { name: 'operation', type: 'string' },
    3: { name: 'apiVersion', type: 'string' },
    4: { name: 'time', type: 'time' },
    6: { name: 'fieldsType', type: 'string' },
    7: { name: 'fieldsV1', type: meta('FieldsV1') },
    8: { name: 'subresource', type: 'string' },
  },
  /** Go: a struct holding raw JSON (proto field `Raw`); its JSON form is that JSON, not {raw: ...}. */
  [META + 'FieldsV1']: {
    1: { name: 'raw', type: 'bytes' },
  },
  [META + 'Condition']: {
    1: { name: 'type', type: 'string' },
    2: { name: 'status', type: 'string' },
    3: { name: 'observedGeneration', type: 'int', int64: true },
    4: { name: 'lastTransitionTime', type: 'time' },
    5: { name: 'reason', type: 'string' },
    6: { name: 'message', type: 'string' },
  },
  [META + 'DeleteOptions']: {
    1: { name: 'gracePeriodSeconds', type: 'int', keepZero: true, int64: true },
    2: { name: 'preconditions', type: meta('Preconditions') },
    3: { name: 'orphanDependents', type: 'bool', keepZero: true },
    4: { name: 'propagationPolicy', type: 'string', keepZero: true },
    5: { name: 'dryRun', type: 'string', repeated: true },
    6: { name: 'ignoreStoreReadErrorWithClusterBreakingPotential', type: 'bool', keepZero: true },
  },
  [META + 'Preconditions']: {
    1: { name: 'uid', type: 'string', keepZero: true },
    2: { name: 'resourceVersion', type: 'string', keepZero: true },
  },

  // ---- core/v1: namespaces, config, identities ----
  [CORE + 'Namespace']: {
    1: OBJECT_META,
    2: { name: 'spec', type: core('NamespaceSpec') },
    3: { name: 'status', type: core('NamespaceStatus') },
  },
  [CORE + 'NamespaceSpec']: {
    1: { name: 'finalizers', type: 'string', repeated: true },
  },
  [CORE + 'NamespaceStatus']: {
    1: { name: 'phase', type: 'string' },
    2: { name: 'conditions', type: core('NamespaceCondition'), repeated: true },
  },
  [CORE + 'NamespaceCondition']: {
    1: { name: 'type', type: 'string' },
    2: { name: 'status', type: 'string' },
    4: { name: 'lastTransitionTime', type: 'time' },
    5: { name: 'reason', type: 'string' },
    6: { name: 'message', type: 'string' },
  },
  [CORE + 'ConfigMap']: {
    1: OBJECT_META,
    4: { name: 'immutable', type: 'bool', keepZero: true },
    2: { name: 'data', type: { map: 'string' } },
    3: { name: 'binaryData', type: { map: 'bytes' } },
  },
  [CORE + 'Secret']: {
    1: OBJECT_META,
    5: { name: 'immutable', type: 'bool', keepZero: true },
    2: { name: 'data', type: { map: 'bytes' } },
    4: { name: 'stringData', type: { map: 'string' } },
    3: { name: 'type', type: 'string' },
  },
  [CORE + 'ServiceAccount']: {
    1: OBJECT_META,
    2: { name: 'secrets', type: core('ObjectReference'), repeated: true },
    3: { name: 'imagePullSecrets', type: core('LocalObjectReference'), repeated: true },
    4: { name: 'automountServiceAccountToken', type: 'bool', keepZero: true },
  },
  [CORE + 'ObjectReference']: {
    1: { name: 'kind', type: 'string' },
    2: { name: 'namespace', type: 'string' },
    3: { name: 'name', type: 'string' },
    4: { name: 'uid', type: 'string' },
    5: { name: 'apiVersion', type: 'string' },
    6: { name: 'resourceVersion', type: 'string' },
    7: { name: 'fieldPath', type: 'string' },
  },
  [CORE + 'LocalObjectReference']: {
    1: { name: 'name', type: 'string' },
  },

  // ---- core/v1: services ----
  [CORE + 'Service']: {
    1: OBJECT_META,
    2: { name: 'spec', type: core('ServiceSpec') },
    3: { name: 'status', type: core('ServiceStatus') },
  },
  [CORE + 'ServiceSpec']: {
    1: { name: 'ports', type: core('ServicePort'), repeated: true },
    2: { name: 'selector', type: { map: 'string' } },
    3: { name: 'clusterIP', type: 'string' },
    18: { name: 'clusterIPs', type: 'string', repeated: true },
    4: { name: 'type', type: 'string' },
    5: { name: 'externalIPs', type: 'string', repeated: true },
    7: { name: 'sessionAffinity', type: 'string' },
    8: { name: 'loadBalancerIP', type: 'string' },
    9: { name: 'loadBalancerSourceRanges', type: 'string', repeated: true },
    10: { name: 'externalName', type: 'string' },
    11: { name: 'externalTrafficPolicy', type: 'string' },
    12: { name: 'healthCheckNodePort', type: 'int' },
    13: { name: 'publishNotReadyAddresses', type: 'bool' },
    14: { name: 'sessionAffinityConfig', type: core('SessionAffinityConfig') },
    19: { name: 'ipFamilies', type: 'string', repeated: true },
    17: { name: 'ipFamilyPolicy', type: 'string', keepZero: true },
    20: { name: 'allocateLoadBalancerNodePorts', type: 'bool', keepZero: true },
    21: { name: 'loadBalancerClass', type: 'string', keepZero: true },
    22: { name: 'internalTrafficPolicy', type: 'string', keepZero: true },
    23: { name: 'trafficDistribution', type: 'string', keepZero: true },
  },
  [CORE + 'ServicePort']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'protocol', type: 'string' },
    6: { name: 'appProtocol', type: 'string', keepZero: true },
    3: { name: 'port', type: 'int' },
    4: { name: 'targetPort', type: 'intOrString' },
    5: { name: 'nodePort', type: 'int' },
  },
  [CORE + 'ServiceStatus']: {
    1: { name: 'loadBalancer', type: core('LoadBalancerStatus') },
    2: { name: 'conditions', type: meta('Condition'), repeated: true },
  },
  [CORE + 'SessionAffinityConfig']: {
    1: { name: 'clientIP', type: core('ClientIPConfig') },
  },
  [CORE + 'ClientIPConfig']: {
    1: { name: 'timeoutSeconds', type: 'int', keepZero: true },
  },
  [CORE + 'LoadBalancerStatus']: {
    1: { name: 'ingress', type: core('LoadBalancerIngress'), repeated: true },
  },
  [CORE + 'LoadBalancerIngress']: {
    1: { name: 'ip', type: 'string' },
    2: { name: 'hostname', type: 'string' },
    3: { name: 'ipMode', type: 'string', keepZero: true },
    4: { name: 'ports', type: core('PortStatus'), repeated: true },
  },
  [CORE + 'PortStatus']: {
    1: { name: 'port', type: 'int' },
    2: { name: 'protocol', type: 'string' },
    3: { name: 'error', type: 'string', keepZero: true },
  },

  // ---- core/v1: pods ----
  [CORE + 'Pod']: {
    1: OBJECT_META,
    2: { name: 'spec', type: core('PodSpec') },
    3: { name: 'status', type: core('PodStatus') },
  },
  [CORE + 'PodTemplateSpec']: {
    1: OBJECT_META,
    2: { name: 'spec', type: core('PodSpec') },
  },
  [CORE + 'PodSpec']: {
    1: { name: 'volumes', type: core('Volume'), repeated: true },
    20: { name: 'initContainers', type: core('Container'), repeated: true },
    2: { name: 'containers', type: core('Container'), repeated: true },
    34: { name: 'ephemeralContainers', type: core('EphemeralContainer'), repeated: true },
    3: { name: 'restartPolicy', type: 'string' },
    4: { name: 'terminationGracePeriodSeconds', type: 'int', keepZero: true, int64: true },
    5: { name: 'activeDeadlineSeconds', type: 'int', keepZero: true, int64: true },
    6: { name: 'dnsPolicy', type: 'string' },
    7: { name: 'nodeSelector', type: { map: 'string' } },
    8: { name: 'serviceAccountName', type: 'string' },
    9: { name: 'serviceAccount', type: 'string' },
    21: { name: 'automountServiceAccountToken', type: 'bool', keepZero: true },
    10: { name: 'nodeName', type: 'string' },
    11: { name: 'hostNetwork', type: 'bool' },
    12: { name: 'hostPID', type: 'bool' },
    13: { name: 'hostIPC', type: 'bool' },
    27: { name: 'shareProcessNamespace', type: 'bool', keepZero: true },
    14: { name: 'securityContext', type: core('PodSecurityContext') },
    15: { name: 'imagePullSecrets', type: core('LocalObjectReference'), repeated: true },
    16: { name: 'hostname', type: 'string' },
    17: { name: 'subdomain', type: 'string' },
    18: { name: 'affinity', type: core('Affinity') },
    19: { name: 'schedulerName', type: 'string' },
    22: { name: 'tolerations', type: core('Toleration'), repeated: true },
    23: { name: 'hostAliases', type: core('HostAlias'), repeated: true },
    24: { name: 'priorityClassName', type: 'string' },
    25: { name: 'priority', type: 'int', keepZero: true },
    26: { name: 'dnsConfig', type: core('PodDNSConfig') },
    28: { name: 'readinessGates', type: core('PodReadinessGate'), repeated: true },
    29: { name: 'runtimeClassName', type: 'string', keepZero: true },
    30: { name: 'enableServiceLinks', type: 'bool', keepZero: true },
    31: { name: 'preemptionPolicy', type: 'string', keepZero: true },
    32: { name: 'overhead', type: Q },
    33: { name: 'topologySpreadConstraints', type: core('TopologySpreadConstraint'), repeated: true },
    35: { name: 'setHostnameAsFQDN', type: 'bool', keepZero: true },
    36: { name: 'os', type: core('PodOS') },
    37: { name: 'hostUsers', type: 'bool', keepZero: true },
    38: { name: 'schedulingGates', type: core('PodSchedulingGate'), repeated: true },
    39: { name: 'resourceClaims', type: core('PodResourceClaim'), repeated: true },
    40: { name: 'resources', type: core('ResourceRequirements') },
    41: { name: 'hostnameOverride', type: 'string', keepZero: true },
    42: { name: 'workloadRef', type: core('WorkloadReference') },
  },
  [CORE + 'PodCondition']: {
    1: { name: 'type', type: 'string' },
    7: { name: 'observedGeneration', type: 'int', int64: true },
    2: { name: 'status', type: 'string' },
    3: { name: 'lastProbeTime', type: 'time' },
    4: { name: 'lastTransitionTime', type: 'time' },
    5: { name: 'reason', type: 'string' },
    6: { name: 'message', type: 'string' },
  },
  [CORE + 'PodSecurityContext']: {
    1: { name: 'seLinuxOptions', type: core('SELinuxOptions') },
    8: { name: 'windowsOptions', type: core('WindowsSecurityContextOptions') },
    2: { name: 'runAsUser', type: 'int', keepZero: true, int64: true },
    6: { name: 'runAsGroup', type: 'int', keepZero: true, int64: true },
    3: { name: 'runAsNonRoot', type: 'bool', keepZero: true },
    4: { name: 'supplementalGroups', type: 'int', repeated: true, int64: true },
    12: { name: 'supplementalGroupsPolicy', type: 'string', keepZero: true },
    5: { name: 'fsGroup', type: 'int', keepZero: true, int64: true },
    7: { name: 'sysctls', type: core('Sysctl'), repeated: true },
    9: { name: 'fsGroupChangePolicy', type: 'string', keepZero: true },
    10: { name: 'seccompProfile', type: core('SeccompProfile') },
    11: { name: 'appArmorProfile', type: core('AppArmorProfile') },
    13: { name: 'seLinuxChangePolicy', type: 'string', keepZero: true },
  },
  [CORE + 'SecurityContext']: {
    1: { name: 'capabilities', type: core('Capabilities') },
    2: { name: 'privileged', type: 'bool', keepZero: true },
    3: { name: 'seLinuxOptions', type: core('SELinuxOptions') },
    10: { name: 'windowsOptions', type: core('WindowsSecurityContextOptions') },
    4: { name: 'runAsUser', type: 'int', keepZero: true, int64: true },
    8: { name: 'runAsGroup', type: 'int', keepZero: true, int64: true },
    5: { name: 'runAsNonRoot', type: 'bool', keepZero: true },
    6: { name: 'readOnlyRootFilesystem', type: 'bool', keepZero: true },
    7: { name: 'allowPrivilegeEscalation', type: 'bool', keepZero: true },
    9: { name: 'procMount', type: 'string', keepZero: true },
    11: { name: 'seccompProfile', type: core('SeccompProfile') },
    12: { name: 'appArmorProfile', type: core('AppArmorProfile') },
    13: { name: 'ulimits', type: core('Ulimit'), repeated: true },
  },
  [CORE + 'Capabilities']: {
    1: { name: 'add', type: 'string', repeated: true },
    2: { name: 'drop', type: 'string', repeated: true },
  },
  [CORE + 'SELinuxOptions']: {
    1: { name: 'user', type: 'string' },
    2: { name: 'role', type: 'string' },
    3: { name: 'type', type: 'string' },
    4: { name: 'level', type: 'string' },
  },
  [CORE + 'WindowsSecurityContextOptions']: {
    1: { name: 'gmsaCredentialSpecName', type: 'string', keepZero: true },
    2: { name: 'gmsaCredentialSpec', type: 'string', keepZero: true },
    3: { name: 'runAsUserName', type: 'string', keepZero: true },
    4: { name: 'hostProcess', type: 'bool', keepZero: true },
  },
  [CORE + 'SeccompProfile']: {
    1: { name: 'type', type: 'string' },
    2: { name: 'localhostProfile', type: 'string', keepZero: true },
  },
  [CORE + 'AppArmorProfile']: {
    1: { name: 'type', type: 'string' },
    2: { name: 'localhostProfile', type: 'string', keepZero: true },
  },
  [CORE + 'Ulimit']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'hard', type: 'int', int64: true },
    3: { name: 'soft', type: 'int', int64: true },
  },
  [CORE + 'Sysctl']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'value', type: 'string' },
  },
  [CORE + 'Toleration']: {
    1: { name: 'key', type: 'string' },
    2: { name: 'operator', type: 'string' },
    3: { name: 'value', type: 'string' },
    4: { name: 'effect', type: 'string' },
    5: { name: 'tolerationSeconds', type: 'int', keepZero: true, int64: true },
  },
  [CORE + 'HostAlias']: {
    1: { name: 'ip', type: 'string' },
    2: { name: 'hostnames', type: 'string', repeated: true },
  },
  [CORE + 'PodDNSConfig']: {
    1: { name: 'nameservers', type: 'string', repeated: true },
    2: { name: 'searches', type: 'string', repeated: true },
    3: { name: 'options', type: core('PodDNSConfigOption'), repeated: true },
  },
  [CORE + 'PodDNSConfigOption']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'value', type: 'string', keepZero: true },
  },
  [CORE + 'PodReadinessGate']: {
    1: { name: 'conditionType', type: 'string' },
  },
  [CORE + 'PodOS']: {
    1: { name: 'name', type: 'string' },
  },
  [CORE + 'PodSchedulingGate']: {
    1: { name: 'name', type: 'string' },
  },
  [CORE + 'PodResourceClaim']: {
    1: { name: 'name', type: 'string' },
    3: { name: 'resourceClaimName', type: 'string', keepZero: true },
    4: { name: 'resourceClaimTemplateName', type: 'string', keepZero: true },
  },
  [CORE + 'TopologySpreadConstraint']: {
    1: { name: 'maxSkew', type: 'int' },
    2: { name: 'topologyKey', type: 'string' },
    3: { name: 'whenUnsatisfiable', type: 'string' },
    4: { name: 'labelSelector', type: meta('LabelSelector') },
    5: { name: 'minDomains', type: 'int', keepZero: true },
    6: { name: 'nodeAffinityPolicy', type: 'string', keepZero: true },
    7: { name: 'nodeTaintsPolicy', type: 'string', keepZero: true },
    8: { name: 'matchLabelKeys', type: 'string', repeated: true },
  },
  [CORE + 'WorkloadReference']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'podGroup', type: 'string' },
    3: { name: 'podGroupReplicaKey', type: 'string' },
  },
  [CORE + 'Volume']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'volumeSource', type: core('VolumeSource'), inline: true },
  },

  // ---- core/v1: containers ----
  [CORE + 'Container']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'image', type: 'string' },
    3: { name: 'command', type: 'string', repeated: true },
    4: { name: 'args', type: 'string', repeated: true },
    5: { name: 'workingDir', type: 'string' },
    6: { name: 'ports', type: core('ContainerPort'), repeated: true },
    19: { name: 'envFrom', type: core('EnvFromSource'), repeated: true },
    7: { name: 'env', type: core('EnvVar'), repeated: true },
    8: { name: 'resources', type: core('ResourceRequirements') },
    23: { name: 'resizePolicy', type: core('ContainerResizePolicy'), repeated: true },
    24: { name: 'restartPolicy', type: 'string', keepZero: true },
    25: { name: 'restartPolicyRules', type: core('ContainerRestartRule'), repeated: true },
    9: { name: 'volumeMounts', type: core('VolumeMount'), repeated: true },
    21: { name: 'volumeDevices', type: core('VolumeDevice'), repeated: true },
    10: { name: 'livenessProbe', type: core('Probe') },
    11: { name: 'readinessProbe', type: core('Probe') },
    22: { name: 'startupProbe', type: core('Probe') },
    12: { name: 'lifecycle', type: core('Lifecycle') },
    13: { name: 'terminationMessagePath', type: 'string' },
    20: { name: 'terminationMessagePolicy', type: 'string' },
    14: { name: 'imagePullPolicy', type: 'string' },
    15: { name: 'securityContext', type: core('SecurityContext') },
    16: { name: 'stdin', type: 'bool' },
    17: { name: 'stdinOnce', type: 'bool' },
    18: { name: 'tty', type: 'bool' },
  },
  /** Its fields (EphemeralContainerCommon) are Container's, inlined in JSON. */
  [CORE + 'EphemeralContainer']: {
    1: { name: 'ephemeralContainerCommon', type: core('EphemeralContainerCommon'), inline: true },
    2: { name: 'targetContainerName', type: 'string' },
  },
  [CORE + 'ContainerPort']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'hostPort', type: 'int' },
    3: { name: 'containerPort', type: 'int' },
    4: { name: 'protocol', type: 'string' },
    5: { name: 'hostIP', type: 'string' },
  },
  [CORE + 'ContainerResizePolicy']: {
    1: { name: 'resourceName', type: 'string' },
    2: { name: 'restartPolicy', type: 'string' },
  },
  [CORE + 'ContainerRestartRule']: {
    1: { name: 'action', type: 'string' },
    2: { name: 'exitCodes', type: core('ContainerRestartRuleOnExitCodes') },
  },
  [CORE + 'ContainerRestartRuleOnExitCodes']: {
    1: { name: 'operator', type: 'string' },
    2: { name: 'values', type: 'int', repeated: true },
  },
  [CORE + 'EnvVar']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'value', type: 'string' },
    3: { name: 'valueFrom', type: core('EnvVarSource') },
  },
  [CORE + 'EnvVarSource']: {
    1: { name: 'fieldRef', type: core('ObjectFieldSelector') },
    2: { name: 'resourceFieldRef', type: core('ResourceFieldSelector') },
    3: { name: 'configMapKeyRef', type: core('ConfigMapKeySelector') },
    4: { name: 'secretKeyRef', type: core('SecretKeySelector') },
    5: { name: 'fileKeyRef', type: core('FileKeySelector') },
  },
  [CORE + 'EnvFromSource']: {
    1: { name: 'prefix', type: 'string' },
    2: { name: 'configMapRef', type: core('ConfigMapEnvSource') },
    3: { name: 'secretRef', type: core('SecretEnvSource') },
  },
  [CORE + 'ConfigMapKeySelector']: {
    1: { name: 'localObjectReference', type: core('LocalObjectReference'), inline: true },
    2: { name: 'key', type: 'string' },
    3: { name: 'optional', type: 'bool', keepZero: true },
  },
  [CORE + 'SecretKeySelector']: {
    1: { name: 'localObjectReference', type: core('LocalObjectReference'), inline: true },
    2: { name: 'key', type: 'string' },
    3: { name: 'optional', type: 'bool', keepZero: true },
  },
  [CORE + 'FileKeySelector']: {
    1: { name: 'volumeName', type: 'string' },
    2: { name: 'path', type: 'string' },
    3: { name: 'key', type: 'string' },
    4: { name: 'optional', type: 'bool', keepZero: true },
  },
  [CORE + 'ObjectFieldSelector']: {
    1: { name: 'apiVersion', type: 'string' },
    2: { name: 'fieldPath', type: 'string' },
  },
  [CORE + 'ResourceFieldSelector']: {
    1: { name: 'containerName', type: 'string' },
    2: { name: 'resource', type: 'string' },
    3: { name: 'divisor', type: 'quantity' },
  },
  [CORE + 'ConfigMapEnvSource']: {
    1: { name: 'localObjectReference', type: core('LocalObjectReference'), inline: true },
    2: { name: 'optional', type: 'bool', keepZero: true },
  },
  [CORE + 'SecretEnvSource']: {
    1: { name: 'localObjectReference', type: core('LocalObjectReference'), inline: true },
    2: { name: 'optional', type: 'bool', keepZero: true },
  },
  [CORE + 'ResourceRequirements']: {
    1: { name: 'limits', type: Q },
    2: { name: 'requests', type: Q },
    3: { name: 'claims', type: core('ResourceClaim'), repeated: true },
  },
  [CORE + 'ResourceClaim']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'request', type: 'string' },
  },
  [CORE + 'VolumeMount']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'readOnly', type: 'bool' },
    7: { name: 'recursiveReadOnly', type: 'string', keepZero: true },
    3: { name: 'mountPath', type: 'string' },
    4: { name: 'subPath', type: 'string' },
    5: { name: 'mountPropagation', type: 'string', keepZero: true },
    6: { name: 'subPathExpr', type: 'string' },
  },
  [CORE + 'VolumeDevice']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'devicePath', type: 'string' },
  },
  [CORE + 'Probe']: {
    1: { name: 'handler', type: core('ProbeHandler'), inline: true },
    2: { name: 'initialDelaySeconds', type: 'int' },
    3: { name: 'timeoutSeconds', type: 'int' },
    4: { name: 'periodSeconds', type: 'int' },
    5: { name: 'successThreshold', type: 'int' },
    6: { name: 'failureThreshold', type: 'int' },
    7: { name: 'terminationGracePeriodSeconds', type: 'int', keepZero: true, int64: true },
  },
  [CORE + 'ProbeHandler']: {
    1: { name: 'exec', type: core('ExecAction') },
    2: { name: 'httpGet', type: core('HTTPGetAction') },
    3: { name: 'tcpSocket', type: core('TCPSocketAction') },
    4: { name: 'grpc', type: core('GRPCAction') },
  },
  [CORE + 'ExecAction']: {
    1: { name: 'command', type: 'string', repeated: true },
  },
  [CORE + 'HTTPGetAction']: {
    1: { name: 'path', type: 'string' },
    2: { name: 'port', type: 'intOrString' },
    3: { name: 'host', type: 'string' },
    4: { name: 'scheme', type: 'string' },
    5: { name: 'httpHeaders', type: core('HTTPHeader'), repeated: true },
  },
  [CORE + 'HTTPHeader']: {
    1: { name: 'name', type: 'string' },
    2: { name: 'value', type: 'string' },
  },
  [CORE + 'TCPSocketAction']: {
    1: { name: 'port', type: 'intOrString' },
    2: { name: 'host', type: 'string' },
  },
  [CORE + 'GRPCAction']: {
    1: { name: 'port', type: 'int' },
    2: { name: 'service', type: 'string', keepZero: true },
  },
  [CORE + 'SleepAction']: {
    1: { name: 'seconds', type: 'int', int64: true },
  },
  [CORE + 'Lifecycle']: {
    1: { name: 'postStart', type: core('LifecycleHandler') },
    2: { name: 'preStop', type: core('LifecycleHandler') },
    3: { name: 'stopSignal', type: 'string', keepZero: true },
  },
  [CORE + 'LifecycleHandler']: {
    1: { name: 'exec', type: core('ExecAction') },
    2: { name: 'httpGet', type: core('HTTPGetAction') },
    3: { name: 'tcpSocket', type: core('TCPSocketAction') },
    4: { name: 'sleep', type: core('SleepAction') },
  },

  // ---- apps/v1 ----
  [APPS + 'Deployment']: {
    1: OBJECT_META,
    2: { name: 'spec', type: { message: APPS + 'DeploymentSpec' } },
    3: { name: 'status', type: { message: APPS + 'DeploymentStatus' } },
  },
  [APPS + 'DeploymentSpec']: {
    1: { name: 'replicas', type: 'int', keepZero: true },
    2: { name: 'selector', type: meta('LabelSelector') },
    3: { name: 'template', type: core('PodTemplateSpec') },
    4: { name: 'strategy', type: { message: APPS + 'DeploymentStrategy' } },
    5: { name: 'minReadySeconds', type: 'int' },
    6: { name: 'revisionHistoryLimit', type: 'int', keepZero: true },
    7: { name: 'paused', type: 'bool' },
    9: { name: 'progressDeadlineSeconds', type: 'int', keepZero: true },
    10: { name: 'podReplacementPolicy', type: 'string', keepZero: true },
  },
  [APPS + 'DeploymentStrategy']: {
    1: { name: 'type', type: 'string' },
    2: { name: 'rollingUpdate', type: { message: APPS + 'RollingUpdateDeployment' } },
  },
  [APPS + 'RollingUpdateDeployment']: {
    1: { name: 'maxUnavailable', type: 'intOrString', keepZero: true },
    2: { name: 'maxSurge', type: 'intOrString', keepZero: true },
  },
  [APPS + 'DeploymentStatus']: {
    1: { name: 'observedGeneration', type: 'int', int64: true },
    2: { name: 'replicas', type: 'int' },
    3: { name: 'updatedReplicas', type: 'int' },
    7: { name: 'readyReplicas', type: 'int' },
    4: { name: 'availableReplicas', type: 'int' },
    5: { name: 'unavailableReplicas', type: 'int' },
    9: { name: 'terminatingReplicas', type: 'int', keepZero: true },
    6: { name: 'conditions', type: { message: APPS + 'DeploymentCondition' }, repeated: true },
    8: { name: 'collisionCount', type: 'int', keepZero: true },
  },
  [APPS + 'DeploymentCondition']: {
    1: { name: 'type', type: 'string' },
    2: { name: 'status', type: 'string' },
    6: { name: 'lastUpdateTime', type: 'time' },
    7: { name: 'lastTransitionTime', type: 'time' },
    4: { name: 'reason', type: 'string' },
    5: { name: 'message', type: 'string' },
  },

  // ---- rbac/v1 ----
  [RBAC + 'Role']: {
    1: OBJECT_META,
    2: { name: 'rules', type: { message: RBAC + 'PolicyRule' }, repeated: true },
  },
  [RBAC + 'ClusterRole']: {
    1: OBJECT_META,
    2: { name: 'rules', type: { message: RBAC + 'PolicyRule' }, repeated: true },
    3: { name: 'aggregationRule', type: { message: RBAC + 'AggregationRule' } },
  },
  [RBAC + 'AggregationRule']: {
    1: { name: 'clusterRoleSelectors', type: meta('LabelSelector'), repeated: true },
  },
  [RBAC + 'PolicyRule']: {
    1: { name: 'verbs', type: 'string', repeated: true },
    2: { name: 'apiGroups', type: 'string', repeated: true },
    3: { name: 'resources', type: 'string', repeated: true },
    4: { name: 'resourceNames', type: 'string', repeated: true },
    5: { name: 'nonResourceURLs', type: 'string', repeated: true },
  },
  [RBAC + 'RoleBinding']: {
    1: OBJECT_META,
    2: { name: 'subjects', type: { message: RBAC + 'Subject' }, repeated: true },
    3: { name: 'roleRef', type: { message: RBAC + 'RoleRef' } },
  },
  [RBAC + 'ClusterRoleBinding']: {
    1: OBJECT_META,
    2: { name: 'subjects', type: { message: RBAC + 'Subject' }, repeated: true },
    3: { name: 'roleRef', type: { message: RBAC + 'RoleRef' } },
  },
  [RBAC + 'Subject']: {
    1: { name: 'kind', type: 'string' },
    2: { name: 'apiGroup', type: 'string' },
    3: { name: 'name', type: 'string' },
    4: { name: 'namespace', type: 'string' },
  },
  [RBAC + 'RoleRef']: {
    1: { name: 'apiGroup', type: 'string' },
    2: { name: 'kind', type: 'string' },
    3: { name: 'name', type: 'string' },
  },

  // ---- certificates/v1 ----
  [CERT + 'CertificateSigningRequest']: {
    1: OBJECT_META,
    2: { name: 'spec', type: { message: CERT + 'CertificateSigningRequestSpec' } },
    3: { name: 'status', type: { message: CERT + 'CertificateSigningRequestStatus' } },
  },
  [CERT + 'CertificateSigningRequestSpec']: {
    1: { name: 'request', type: 'bytes' },
    7: { name: 'signerName', type: 'string' },
    8: { name: 'expirationSeconds', type: 'int', keepZero: true },
    5: { name: 'usages', type: 'string', repeated: true },
    2: { name: 'username', type: 'string' },
    3: { name: 'uid', type: 'string' },
    4: { name: 'groups', type: 'string', repeated: true },
    6: { name: 'extra', type: { map: { message: CERT + 'ExtraValue' } } },
  },
  [CERT + 'CertificateSigningRequestStatus']: {
    1: { name: 'conditions', type: { message: CERT + 'CertificateSigningRequestCondition' }, repeated: true },
    2: { name: 'certificate', type: 'bytes' },
  },
  [CERT + 'CertificateSigningRequestCondition']: {
    1: { name: 'type', type: 'string' },
    6: { name: 'status', type: 'string' },
    2: { name: 'reason', type: 'string' },
    3: { name: 'message', type: 'string' },
    4: { name: 'lastUpdateTime', type: 'time' },
    5: { name: 'lastTransitionTime', type: 'time' },
  },
  /** Go: `type ExtraValue []string`, so its JSON form is a plain array of the `items`, not {items: [...]}. */
  [CERT + 'ExtraValue']: {
    1: { name: 'items', type: 'string', repeated: true },
  },

  // ---- authentication/v1 ----
  [AUTHN + 'TokenRequest']: {
    1: OBJECT_META,
    2: { name: 'spec', type: { message: AUTHN + 'TokenRequestSpec' } },
    3: { name: 'status', type: { message: AUTHN + 'TokenRequestStatus' } },
  },
  [AUTHN + 'TokenRequestSpec']: {
    1: { name: 'audiences', type: 'string', repeated: true },
    4: { name: 'expirationSeconds', type: 'int', keepZero: true, int64: true },
    3: { name: 'boundObjectRef', type: { message: AUTHN + 'BoundObjectReference' } },
  },
  /** Proto names are aPIVersion / uID; the JSON tags are apiVersion / uid. */
  [AUTHN + 'BoundObjectReference']: {
    1: { name: 'kind', type: 'string' },
    2: { name: 'apiVersion', type: 'string' },
    3: { name: 'name', type: 'string' },
    4: { name: 'uid', type: 'string' },
  },
  [AUTHN + 'TokenRequestStatus']: {
    1: { name: 'token', type: 'string' },
    2: { name: 'expirationTimestamp', type: 'time' },
  },
  [AUTHN + 'SelfSubjectReview']: {
    1: OBJECT_META,
    2: { name: 'status', type: { message: AUTHN + 'SelfSubjectReviewStatus' } },
  },
  [AUTHN + 'SelfSubjectReviewStatus']: {
    1: { name: 'userInfo', type: { message: AUTHN + 'UserInfo' } },
  },
  [AUTHN + 'UserInfo']: {
    1: { name: 'username', type: 'string' },
    2: { name: 'uid', type: 'string' },
    3: { name: 'groups', type: 'string', repeated: true },
    4: { name: 'extra', type: { map: { message: AUTHN + 'ExtraValue' } } },
  },
  /** Go: `type ExtraValue []string`, so its JSON form is a plain array of the `items`, not {items: [...]}. */
  [AUTHN + 'ExtraValue']: {
    1: { name: 'items', type: 'string', repeated: true },
  },

  // ---- authorization/v1 ----
  [AUTHZ + 'SelfSubjectAccessReview']: {
    1: OBJECT_META,
    2: { name: 'spec', type: { message: AUTHZ + 'SelfSubjectAccessReviewSpec' } },
    3: { name: 'status', type: { message: AUTHZ + 'SubjectAccessReviewStatus' } },
  },
  [AUTHZ + 'SubjectAccessReview']: {
    1: OBJECT_META,
    2: { name: 'spec', type: { message: AUTHZ + 'SubjectAccessReviewSpec' } },
    3: { name: 'status', type: { message: AUTHZ + 'SubjectAccessReviewStatus' } },
  },
  [AUTHZ + 'LocalSubjectAccessReview']: {
    1: OBJECT_META,
    2: { name: 'spec', type: { message: AUTHZ + 'SubjectAccessReviewSpec' } },
    3: { name: 'status', type: { message: AUTHZ + 'SubjectAccessReviewStatus' } },
  },
  [AUTHZ + 'SelfSubjectAccessReviewSpec']: {
    1: { name: 'resourceAttributes', type: { message: AUTHZ + 'ResourceAttributes' } },
    2: { name: 'nonResourceAttributes', type: { message: AUTHZ + 'NonResourceAttributes' } },
  },
  [AUTHZ + 'SubjectAccessReviewSpec']: {
    1: { name: 'resourceAttributes', type: { message: AUTHZ + 'ResourceAttributes' } },
    2: { name: 'nonResourceAttributes', type: { message: AUTHZ + 'NonResourceAttributes' } },
    3: { name: 'user', type: 'string' },
    4: { name: 'groups', type: 'string', repeated: true },
    5: { name: 'extra', type: { map: { message: AUTHZ + 'ExtraValue' } } },
    6: { name: 'uid', type: 'string' },
  },
  [AUTHZ + 'ResourceAttributes']: {
    1: { name: 'namespace', type: 'string' },
    2: { name: 'verb', type: 'string' },
    3: { name: 'group', type: 'string' },
    4: { name: 'version', type: 'string' },
    5: { name: 'resource', type: 'string' },
    6: { name: 'subresource', type: 'string' },
    7: { name: 'name', type: 'string' },
    8: { name: 'fieldSelector', type: { message: AUTHZ + 'FieldSelectorAttributes' } },
    9: { name: 'labelSelector', type: { message: AUTHZ + 'LabelSelectorAttributes' } },
  },
  [AUTHZ + 'NonResourceAttributes']: {
    1: { name: 'path', type: 'string' },
    2: { name: 'verb', type: 'string' },
  },
  [AUTHZ + 'FieldSelectorAttributes']: {
    1: { name: 'rawSelector', type: 'string' },
    2: { name: 'requirements', type: { message: AUTHZ + 'FieldSelectorRequirement' }, repeated: true },
  },
  [AUTHZ + 'FieldSelectorRequirement']: {
    1: { name: 'key', type: 'string' },
    2: { name: 'operator', type: 'string' },
    3: { name: 'values', type: 'string', repeated: true },
  },
  [AUTHZ + 'LabelSelectorAttributes']: {
    1: { name: 'rawSelector', type: 'string' },
    2: { name: 'requirements', type: meta('LabelSelectorRequirement'), repeated: true },
  },
  [AUTHZ + 'SubjectAccessReviewStatus']: {
    1: { name: 'allowed', type: 'bool' },
    4: { name: 'denied', type: 'bool' },
    2: { name: 'reason', type: 'string' },
    3: { name: 'evaluationError', type: 'string' },
  },
  /** `kubectl auth can-i --list` sends this one. */
  [AUTHZ + 'SelfSubjectRulesReview']: {
    1: OBJECT_META,
    2: { name: 'spec', type: { message: AUTHZ + 'SelfSubjectRulesReviewSpec' } },
    3: { name: 'status', type: { message: AUTHZ + 'SubjectRulesReviewStatus' } },
  },
  [AUTHZ + 'SelfSubjectRulesReviewSpec']: {
    1: { name: 'namespace', type: 'string' },
  },
  [AUTHZ + 'SubjectRulesReviewStatus']: {
    1: { name: 'resourceRules', type: { message: AUTHZ + 'ResourceRule' }, repeated: true },
    2: { name: 'nonResourceRules', type: { message: AUTHZ + 'NonResourceRule' }, repeated: true },
    3: { name: 'incomplete', type: 'bool' },
    4: { name: 'evaluationError', type: 'string' },
  },
  [AUTHZ + 'ResourceRule']: {
    1: { name: 'verbs', type: 'string', repeated: true },
    2: { name: 'apiGroups', type: 'string', repeated: true },
    3: { name: 'resources', type: 'string', repeated: true },
    4: { name: 'resourceNames', type: 'string', repeated: true },
  },
  [AUTHZ + 'NonResourceRule']: {
    1: { name: 'verbs', type: 'string', repeated: true },
    2: { name: 'nonResourceURLs', type: 'string', repeated: true },
  },
  /** Go: `type ExtraValue []string`, so its JSON form is a plain array of the `items`, not {items: [...]}. */
  [AUTHZ + 'ExtraValue']: {
    1: { name: 'items', type: 'string', repeated: true },
  },

  // ---- policy/v1 (kubectl drain evicts through pods/<name>/eviction) ----
  [POLICY + 'Eviction']: {
    1: OBJECT_META,
    2: { name: 'deleteOptions', type: meta('DeleteOptions') },
  },
};

/** apiVersion + kind → the top-level message, e.g. 'apps/v1 Deployment' → 'k8s.io.api.apps.v1.Deployment'. */
export const KINDS: Readonly<Record<string, string>> = {
  'v1 Namespace': CORE + 'Namespace',
  'v1 ConfigMap': CORE + 'ConfigMap',
  'v1 Secret': CORE + 'Secret',
  'v1 ServiceAccount': CORE + 'ServiceAccount',
  'v1 Service': CORE + 'Service',
  'v1 Pod': CORE + 'Pod',
  'apps/v1 Deployment': APPS + 'Deployment',
  'rbac.authorization.k8s.io/v1 Role': RBAC + 'Role',
  'rbac.authorization.k8s.io/v1 ClusterRole': RBAC + 'ClusterRole',
  'rbac.authorization.k8s.io/v1 RoleBinding': RBAC + 'RoleBinding',
  'rbac.authorization.k8s.io/v1 ClusterRoleBinding': RBAC + 'ClusterRoleBinding',
  'certificates.k8s.io/v1 CertificateSigningRequest': CERT + 'CertificateSigningRequest',
  'authentication.k8s.io/v1 TokenRequest': AUTHN + 'TokenRequest',
  'authentication.k8s.io/v1 SelfSubjectReview': AUTHN + 'SelfSubjectReview',
  'authorization.k8s.io/v1 SelfSubjectAccessReview': AUTHZ + 'SelfSubjectAccessReview',
  'authorization.k8s.io/v1 SubjectAccessReview': AUTHZ + 'SubjectAccessReview',
  'authorization.k8s.io/v1 LocalSubjectAccessReview': AUTHZ + 'LocalSubjectAccessReview',
  'authorization.k8s.io/v1 SelfSubjectRulesReview': AUTHZ + 'SelfSubjectRulesReview',
  'meta.k8s.io/v1 DeleteOptions': META + 'DeleteOptions',
  'policy/v1 Eviction': POLICY + 'Eviction',
};
