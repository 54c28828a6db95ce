/**
 * Which kubeconfig kubectl uses: `--kubeconfig`, else `$KUBECONFIG` (its first path), else the admin
 * kubeconfig named in the nearest `.cluster/cluster.json` above the working directory (written by
 * `npm run cluster`).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseKubeconfig, type KubeconfigData } from '../../pki/kubeconfig.js';
import { KubeSimError } from '../../pki/errors.js';

export class KubectlConfigError extends KubeSimError<'KUBECONFIG_NOT_FOUND'> {
  constructor(message: string) {
    super('KUBECONFIG_NOT_FOUND', message);
  }
}

const exists = async (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false);

/** The nearest `<dir>/.cluster/cluster.json` from `cwd` upwards. */
export async function findClusterJson(cwd: string): Promise<string | undefined> {
  let dir = path.resolve(cwd);
  for (;;) {
    const candidate = path.join(dir, '.cluster', 'cluster.json');
    if (await exists(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export async function resolveKubeconfigPath(flag: string | undefined, env: Readonly<Record<string, string | undefined>>, cwd: string): Promise<string> {
  if (flag) return path.resolve(cwd, flag);
  const fromEnv = env.KUBECONFIG?.split(path.delimiter).find((p) => p !== '');
  if (fromEnv) return path.resolve(cwd, fromEnv);
  const clusterJson = await findClusterJson(cwd);
  if (clusterJson) {
    const parsed = JSON.parse(await fs.readFile(clusterJson, 'utf8')) as { kubeconfigs?: { admin?: string } };
    const admin = parsed.kubeconfigs?.admin;
    if (!admin) throw new KubectlConfigError(`${clusterJson} names no admin kubeconfig (kubeconfigs.admin)`);
    return path.resolve(path.dirname(clusterJson), admin);
  }
  throw new KubectlConfigError('no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, or start a cluster with `npm run cluster` (it writes .cluster/cluster.json)');
}

export async function loadKubeconfig(file: string): Promise<KubeconfigData> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    // clientcmd's wording for a missing explicit file.
    throw new KubectlConfigError(`stat ${file}: no such file or directory`);
  }
  return parseKubeconfig(text, file);
}
