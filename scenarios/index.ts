/** Every scenario `npm run scenario -- NAME` can play; `--list` prints them in this order. */
import type { Scenario } from '../sim/scenario.js';
import { expiry } from './expiry.js';
import { joinControlPlane } from './join-control-plane.js';
import { joinNode } from './join-node.js';
import { kubeletServingCsr } from './kubelet-serving-csr.js';
import { matrix } from './matrix.js';
import { rotateKubelet } from './rotate-kubelet.js';
import { rotateCa } from './rotate-ca.js';
import { pkiTour, tour } from './tour.js';

export const SCENARIOS: readonly Scenario[] = [tour, pkiTour, expiry, rotateCa, joinControlPlane, joinNode, rotateKubelet, kubeletServingCsr, matrix];
