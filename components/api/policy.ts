/**
 * policy/v1 PodDisruptionBudget (k8s.io/api/policy/v1): how many pods of a selection must stay up
 * through voluntary disruptions. The disruption controller writes its status; this simulation has no
 * such controller, so a budget keeps the status the apiserver gave it at create.
 */
import type { KubeObject, LabelSelector } from './types.js';

/** intstr.IntOrString: a count (`2`) or a percentage of the selected pods (`"50%"`). */
export type IntOrString = number | string;

export interface PodDisruptionBudget extends KubeObject {
  spec: {
    selector?: LabelSelector;
    /** At least this many (or this percentage) of the selected pods stay available. */
    minAvailable?: IntOrString;
    /** At most this many (or this percentage) may be unavailable. Not together with minAvailable. */
    maxUnavailable?: IntOrString;
  };
  status?: {
    observedGeneration?: number;
    disruptionsAllowed: number;
    currentHealthy: number;
    desiredHealthy: number;
    expectedPods: number;
  };
}
