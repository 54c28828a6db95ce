/** Every scenario `npm run scenario -- NAME` can play; `--list` prints them in this order. */
import type { Scenario } from '../sim/scenario.js';
import { exec } from './exec.js';
import { expiry } from './expiry.js';
import { joinControlPlane } from './join-control-plane.js';
import { joinControlPlaneLate } from './join-control-plane-late.js';
import { joinNode } from './join-node.js';
import { kubeletDeadEnd } from './kubelet-dead-end.js';
import { kubeletServingCsr } from './kubelet-serving-csr.js';
import { matrix } from './matrix.js';
import { aggregation } from './aggregation.js';
import { refuseFrontProxyWrongCa, refuseKubeletSelfSigned, refuseRemoteUserSpoof, refuseRequestheaderName } from './refuse-aggregation.js';
import { refuseClientCertAsServer } from './refuse-client-cert-as-server.js';
import { refuseExpiredClient } from './refuse-expired-client.js';
import { refuseForeignCa } from './refuse-foreign-ca.js';
import { refuseKubeletNoClientCert } from './refuse-kubelet-no-client-cert.js';
import { refuseKubeletSecret } from './refuse-kubelet-secret.js';
import { refuseKubeletToEtcd } from './refuse-kubelet-to-etcd.js';
import { refuseNodeStatusOther } from './refuse-node-status-other.js';
import { refuseProxyCreatePod } from './refuse-proxy-create-pod.js';
import { refuseRbacEscalation } from './refuse-rbac-escalation.js';
import { refuseSanMismatch } from './refuse-san-mismatch.js';
import { refuseSchedulerDeleteNode } from './refuse-scheduler-delete-node.js';
import { refuseServerCertAsClient } from './refuse-server-cert-as-client.js';
import { rogueKubelet } from './rogue-kubelet.js';
import { rotateKubelet } from './rotate-kubelet.js';
import { rotateCa } from './rotate-ca.js';
import { pkiTour, tour } from './tour.js';

export const SCENARIOS: readonly Scenario[] = [tour, pkiTour, expiry, rotateCa, joinControlPlane, joinControlPlaneLate, joinNode, rotateKubelet, kubeletServingCsr, kubeletDeadEnd, matrix, aggregation, exec,
  refuseForeignCa, refuseKubeletToEtcd, refuseSanMismatch, refuseExpiredClient, refuseServerCertAsClient, refuseClientCertAsServer,
  refuseSchedulerDeleteNode, refuseProxyCreatePod, refuseNodeStatusOther, refuseKubeletSecret, refuseKubeletNoClientCert, rogueKubelet, refuseRbacEscalation,
  refuseFrontProxyWrongCa, refuseRequestheaderName, refuseRemoteUserSpoof, refuseKubeletSelfSigned];

/** The refusal scenarios of issue 4, each asserting the layer and the reason of one refusal. */
export const REFUSALS: readonly Scenario[] = SCENARIOS.filter((s) => s.name.startsWith('refuse-') || s.name === 'rogue-kubelet');
