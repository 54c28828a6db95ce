/**
 * `node cli/launch.mjs ENTRY [ARGS...]`: runs cli/ENTRY.ts (e.g. `main` for `npm run scenario`) from one
 * bundled ESM file, built on the first run and rebuilt when any source it was built from changes.
 *
 * Why: under tsx every one of the ~220 modules the CLI loads is resolved and loaded through tsx's module
 * hooks, which Node 20 runs on a separate thread (one round trip per module): about 1.5 s of CPU before the
 * tour starts, a third of a warm tour. One pre-built file loads in a fraction of that (README "Start-up").
 *
 * The bundle is an esbuild build of the same TypeScript (esbuild is the transpiler tsx itself runs, taken
 * from tsx's own dependencies), written to .cache/launch/ENTRY.mjs with the list of its inputs and their
 * mtimes; packages in node_modules stay external. Each module's `import.meta.url`/`dirname`/`filename` are
 * replaced by its own source location, so paths computed from them (the repository root, the golden
 * file, the node worker's entry) are what they are under tsx. Plain JavaScript, so no loader is needed.
 *
 * K8S_SIM_TSX=1 (or a bundle that cannot be built) runs the TypeScript through tsx instead, as before.
 * K8S_SIM_LAUNCH_VERBOSE=1 says on stderr whether the bundle was reused or built, and why.
 */
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '..');
/** Packages taken into the bundle (with what they import), the rest stays in node_modules. */
const INLINED = /^(yaml|ws|@dagrejs\/dagre)(\/|$)/;
/**
 * Where bundles go: .cache/launch in the repository, or K8S_SIM_LAUNCH_CACHE (tests use a temporary folder), which
 * must be inside the repository too: the bundle's packages resolve from node_modules above it.
 */
const CACHE = path.resolve(process.env.K8S_SIM_LAUNCH_CACHE || path.join(ROOT, '.cache', 'launch'));
if (path.relative(ROOT, CACHE).startsWith('..')) {
  process.stderr.write(`launch: K8S_SIM_LAUNCH_CACHE=${CACHE} is outside ${ROOT}; a bundle there could not find node_modules\n`);
  process.exit(2);
}

const [entryName, ...args] = process.argv.slice(2);
if (!entryName || !/^[a-z-]+$/.test(entryName)) {
  process.stderr.write('usage: node cli/launch.mjs ENTRY [ARGS...]   (ENTRY: main, pki, kubectl, node, probe: cli/ENTRY.ts)\n');
  process.exit(2);
}
const entry = path.join(ROOT, 'cli', `${entryName}.ts`);
// What the entry sees is what `tsx cli/ENTRY.ts ARGS` gives it.
process.argv = [process.argv[0], entry, ...args];

/** The esbuild that tsx depends on (tsx's package.json pins its range), or the project's own if it has one. */
function loadEsbuild() {
  const require = createRequire(import.meta.url);
  try {
    return createRequire(require.resolve('tsx/package.json'))('esbuild');
  } catch {
    return require('esbuild');
  }
}

const verbose = process.env.K8S_SIM_LAUNCH_VERBOSE === '1';
/** Tells (when verbose) why the bundle is or is not reused; returns undefined for the caller's `return`. */
const say = (why) => { if (verbose) process.stderr.write(`launch: cli/${entryName}.ts bundle: ${why}\n`); return undefined; };
const stat = (file) => { const s = statSync(file); return `${s.mtimeMs}:${s.size}`; };

/** The bundle if every input is unchanged since it was built, else undefined. */
function freshBundle(out, stampFile) {
  try {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
    if (stamp.node !== process.version) return say(`built by node ${stamp.node}`);
    if (stamp.launcher !== stat(import.meta.filename)) return say('cli/launch.mjs changed');
    for (const [f, v] of Object.entries(stamp.files)) {
      if (stat(path.join(ROOT, f)) !== v) return say(`${f} changed`);
    }
    statSync(out);
    say('reused');
    return out;
  } catch (err) {
    return say(err instanceof Error ? err.message.split('\n')[0] : String(err));
  }
}

async function build(out, stampFile) {
  const esbuild = loadEsbuild();
  // Each source's mtime and size as it was before esbuild read it: an edit during the build makes the next run rebuild.
  const seen = new Map();
  const importMeta = {
    name: 'import-meta-per-module',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (a) => {
        if (a.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        seen.set(a.path, stat(a.path));
        const src = readFileSync(a.path, 'utf8')
          .replaceAll('import.meta.dirname', JSON.stringify(path.dirname(a.path)))
          .replaceAll('import.meta.filename', JSON.stringify(a.path))
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(a.path).href));
        return { contents: src, loader: 'ts' };
      });
    },
  };
  // Packages load from node_modules as usual, except the plain-JavaScript ones the CLI loads at every start
  // (yaml's ~80 files, ws, dagre), taken into the bundle; pino (worker transports) and node-forge stay outside.
  const externals = {
    name: 'externals',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (a) => (INLINED.test(a.path) && a.kind !== 'require-call' ? undefined : { path: a.path, external: true }));
    },
  };
  const tmp = `${out}.${process.pid}.tmp`;
  const result = await esbuild.build({
    absWorkingDir: ROOT, entryPoints: [entry], outfile: tmp, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    metafile: true, logLevel: 'silent', plugins: [externals, importMeta],
    // Bundled CommonJS packages (ws) require Node's built-ins: give them a real require.
    banner: { js: `// Built by cli/launch.mjs from cli/${entryName}.ts; rebuilt when a source changes. Do not edit.\nimport { createRequire as __launchRequire } from 'node:module'; const require = __launchRequire(import.meta.url);` },
  });
  const files = {};
  for (const f of Object.keys(result.metafile.inputs)) {
    const abs = path.join(ROOT, f);
    files[f] = seen.get(abs) ?? stat(abs);
  }
  const stamp = { node: process.version, esbuild: esbuild.version, launcher: stat(import.meta.filename), files };
  // Written beside, then renamed: a run starting meanwhile sees the old pair or the new one.
  renameSync(tmp, out);
  writeFileSync(`${stampFile}.${process.pid}.tmp`, JSON.stringify(stamp));
  renameSync(`${stampFile}.${process.pid}.tmp`, stampFile);
  return out;
}

async function viaTsx() {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(entry).href);
}

if (process.env.K8S_SIM_TSX === '1') {
  await viaTsx();
} else {
  const out = path.join(CACHE, `${entryName}.mjs`);
  const stampFile = path.join(CACHE, `${entryName}.json`);
  let bundle = freshBundle(out, stampFile);
  if (!bundle) {
    try {
      mkdirSync(CACHE, { recursive: true });
      bundle = await build(out, stampFile);
      say('built');
    } catch (err) {
      process.stderr.write(`launch: could not bundle cli/${entryName}.ts (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); running it through tsx\n`);
    }
  }
  if (bundle) await import(pathToFileURL(bundle).href);
  else await viaTsx();
}
