/**
 * `npm run kubectl -- get pods -A`: the simulation's kubectl on the command line. The kubeconfig is
 * `--kubeconfig`, else $KUBECONFIG, else the admin kubeconfig of the cluster `npm run cluster` started
 * (its `.cluster/cluster.json`).
 */
import { runKubectl } from '../components/kubectl/index.js';
import { tolerateClosedStdout } from './stdio.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// `get -w` streams until the server ends the watch or Ctrl-C.
tolerateClosedStdout();
const abort = new AbortController();
const argv = process.argv.slice(2);
if (argv.some((a) => a === '-w' || a === '--watch' || a.startsWith('--watch='))) process.once('SIGINT', () => abort.abort());
const result = await runKubectl(argv, {
  env: process.env, cwd: process.env.INIT_CWD ?? process.cwd(), stdin: readStdin,
  write: (text) => process.stdout.write(text), signal: abort.signal,
});
process.stdout.write(result.stdout);
process.stderr.write(result.stderr);
process.exitCode = result.code;
