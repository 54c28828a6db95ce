/**
 * The subset of Kubernetes API objects the simulation serves, typed as they appear on the wire (JSON).
 * Field names follow k8s.io/api; only the fields the components use are declared.
 */

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface ResourceList {
  cpu?: string;
  memory?: string;
  pods?: string;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: ContainerPort[];
  resources?: { requests?: ResourceList; limits?: ResourceList };
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } } }[];
}

export interface Volume {
  name: string;
  secret?: { secretName: string };
  configMap?: { name: string };
}

export interface PodSpec {
  containers: Container[];
  nodeName?: string;
  schedulerName?: string;
  restartPolicy?: string;
  volumes?: Volume[];
  nodeSelector?: Record<string, string>;
}

export interface PodCondition {
  type: 'PodScheduled' | 'Initialized' | 'ContainersReady' | 'Ready' | 'PodReadyToStartContainers' | 'DisruptionTarget';
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  image: string;
  imageID?: string;
  containerID?: string;
  started?: boolean;
  state: { running?: { startedAt: string }; waiting?: { reason: string }; terminated?: { exitCode: number; reason?: string } };
}

export interface PodStatus {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  conditions?: PodCondition[];
  hostIP?: string;
  hostIPs?: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  containerStatuses?: ContainerStatus[];
  qosClass?: 'Guaranteed' | 'Burstable' | 'BestEffort';
}

export interface Pod extends KubeObject {
  spec: PodSpec;
  status?: PodStatus;
}

export interface NodeCondition {
  type: 'Ready' | 'MemoryPressure' | 'DiskPressure' | 'PIDPressure' | 'NetworkUnavailable';
  status: 'True' | 'False' | 'Unknown';
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface NodeStatus {
  capacity?: ResourceList;
  allocatable?: ResourceList;
  conditions?: NodeCondition[];
  addresses?: { type: 'InternalIP' | 'Hostname' | 'ExternalIP'; address: string }[];
  daemonEndpoints?: { kubeletEndpoint: { Port: number } };
  nodeInfo?: { machineID?: string; systemUUID?: string; bootID?: string; kubeletVersion: string; kubeProxyVersion?: string; osImage?: string; containerRuntimeVersion?: string; operatingSystem?: string; architecture?: string; kernelVersion?: string };
}

export interface Node extends KubeObject {
  spec: { podCIDR?: string; podCIDRs?: string[]; unschedulable?: boolean; taints?: { key: string; value?: string; effect: string }[] };
  status?: NodeStatus;
}

export interface ServicePort {
  name?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface Service extends KubeObject {
  /** ports is absent on an ExternalName Service (a DNS alias: no ClusterIP, no endpoints, no proxy rules). */
  spec: {
    selector?: Record<string, string>; ports?: ServicePort[]; clusterIP?: string; clusterIPs?: string[];
    type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName'; externalName?: string;
  };
}

export interface EndpointAddress {
  ip: string;
  nodeName?: string;
  targetRef?: { kind: 'Pod'; namespace: string; name: string; uid?: string };
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: { name?: string; port: number; protocol?: string }[];
}

export interface Endpoints extends KubeObject {
  subsets?: EndpointSubset[];
}

/** discovery.k8s.io/v1 EndpointConditions: unset `ready` means ready (consumers must treat nil as true). */
export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

/** discovery.k8s.io/v1 Endpoint. */
export interface SliceEndpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  targetRef?: { kind: 'Pod'; namespace: string; name: string; uid?: string };
  nodeName?: string;
  zone?: string;
}

/** discovery.k8s.io/v1 EndpointPort; the controller always sets name (`""` for an unnamed service port). */
export interface SliceEndpointPort {
  name?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port?: number;
  appProtocol?: string;
}

/** discovery.k8s.io/v1 EndpointSlice: no spec/status, the fields sit at the top level. */
export interface EndpointSlice extends KubeObject {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: SliceEndpoint[] | null;
  ports?: SliceEndpointPort[] | null;
}

export interface PodTemplate {
  metadata?: ObjectMeta;
  spec: PodSpec;
}

/** apps/v1 ReplicaSetCondition: ReplicaFailure is the one the controller writes. */
export interface ReplicaSetCondition { type: 'ReplicaFailure'; status: 'True' | 'False' | 'Unknown'; lastTransitionTime?: string; reason?: string; message?: string }

export interface ReplicaSet extends KubeObject {
  spec: { replicas?: number; selector: LabelSelector; template: PodTemplate; minReadySeconds?: number };
  status?: {
    replicas: number; readyReplicas?: number; availableReplicas?: number; fullyLabeledReplicas?: number; observedGeneration?: number;
    conditions?: ReplicaSetCondition[];
  };
}

export interface DeploymentCondition {
  type: 'Available' | 'Progressing' | 'ReplicaFailure';
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime: string;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

export interface DeploymentStatus {
  observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number; unavailableReplicas?: number;
  conditions?: DeploymentCondition[]; collisionCount?: number;
}

export interface Deployment extends KubeObject {
  spec: {
    replicas?: number; selector: LabelSelector; template: PodTemplate; strategy?: { type?: string }; progressDeadlineSeconds?: number;
    minReadySeconds?: number; revisionHistoryLimit?: number; paused?: boolean;
  };
  status?: DeploymentStatus;
}

export interface Lease extends KubeObject {
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string };
}

export interface Binding extends KubeObject {
  target: { apiVersion?: string; kind: 'Node'; name: string };
}

export interface KubeEvent extends KubeObject {
  involvedObject: { kind: string; namespace?: string; name: string; uid?: string; apiVersion?: string; resourceVersion?: string; fieldPath?: string };
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  source?: { component: string; host?: string };
  /** ReportingController (JSON reportingComponent) and ReportingInstance: the recorder sets them from source.component and source.host. */
  reportingComponent?: string;
  reportingInstance?: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  count?: number;
}

export interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface Status {
  apiVersion: 'v1';
  kind: 'Status';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message: string;
  reason: 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Forbidden' | 'Unauthorized' | 'BadRequest' | 'Invalid' | 'MethodNotAllowed' | 'InternalError' | 'Gone' | 'UnsupportedMediaType' | 'ServiceUnavailable' | 'Expired' | 'Timeout' | 'RequestEntityTooLarge' | 'TooManyRequests' | '';
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message: string; field?: string }[]; retryAfterSeconds?: number };
  code: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

// ---------------------------------------------------------------------------------------------------
// Fields read by the Node authorizer's graph and the NodeRestriction admission plugin (merged into the
// declarations above), and the rbac.authorization.k8s.io/v1 objects the RBAC authorizer evaluates.

export interface PodSpec {
  serviceAccountName?: string;
  /** Deprecated alias of serviceAccountName, still honoured by the node graph. */
  serviceAccount?: string;
  initContainers?: Container[];
  imagePullSecrets?: { name: string }[];
}

export interface Container {
  envFrom?: { prefix?: string; configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }[];
}

export interface VolumeProjection {
  secret?: { name: string };
  configMap?: { name: string };
  serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string };
  clusterTrustBundle?: { name?: string; signerName?: string; path: string };
}

export interface Volume {
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  projected?: { sources: VolumeProjection[] };
  /** Generic ephemeral volume: the PVC is named <pod>-<volume>. */
  ephemeral?: { volumeClaimTemplate?: unknown };
}

export interface PersistentVolumeClaim extends KubeObject {
  spec: { volumeName?: string; accessModes?: string[]; storageClassName?: string; resources?: { requests?: { storage?: string } } };
  status?: { phase?: 'Pending' | 'Bound' | 'Lost'; capacity?: { storage?: string } };
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface RbacSubject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  /** rbac.authorization.k8s.io for User and Group (defaulted by the API server), empty for ServiceAccount. */
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: 'rbac.authorization.k8s.io';
  kind: 'ClusterRole' | 'Role';
  name: string;
}

export interface ClusterRole extends KubeObject {
  /** null for an aggregated role until the clusterrole-aggregation controller fills it. */
  rules: PolicyRule[] | null;
  aggregationRule?: { clusterRoleSelectors: LabelSelector[] };
}

export interface Role extends KubeObject {
  rules: PolicyRule[] | null;
}

export interface ClusterRoleBinding extends KubeObject {
  roleRef: RoleRef;
  subjects?: RbacSubject[];
}

export interface RoleBinding extends KubeObject {
  roleRef: RoleRef;
  subjects?: RbacSubject[];
}

/** authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`): the server fills status.userInfo. */
export interface SelfSubjectReview extends KubeObject {
  status?: { userInfo?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } };
}
