/** What most apiserver tests start from: a PKI of their own, a control plane on it, and an admin.conf client. */
import type { KubeClient } from '../../components/client/kube-client.js';
import { issuePki, type Pki } from '../../pki/store.js';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane.js';

export async function freshControlPlane(options: ControlPlaneOptions = {}): Promise<{ pki: Pki; cp: ControlPlane; admin: KubeClient }> {
  const pki = await issuePki();
  const cp = await startControlPlane(pki, options);
  return { pki, cp, admin: cp.client('admin.conf') };
}
