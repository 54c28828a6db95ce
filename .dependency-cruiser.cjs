/**
 * The floors (README "How the code is laid out"), enforced by dependency-cruiser: each floor imports
 * only the floors below it, no component imports another, and nothing imports in a circle.
 *
 *   pki/  <  components/api/  <  components/client/  <  components/<component>/  <  sim/  <  scenarios/  <  report/  <  cli/ (entry points)
 *
 * Type-only imports count (tsPreCompilationDeps): a type is a dependency too.
 */
const COMPONENTS = '(etcd|kube-apiserver|kubelet|kube-scheduler|kube-controller-manager|kube-proxy|kubectl|metrics-server)';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other, directly or through others.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'pki-is-the-ground-floor',
      severity: 'error',
      comment: 'pki/ builds certificates and kubeconfigs; it knows nothing of components, the sim or the CLIs.',
      from: { path: '^pki/' },
      to: { path: '^(components|sim|scenarios|report|cli|bench|test)/' },
    },
    {
      name: 'api-imports-only-pki',
      severity: 'error',
      comment: 'components/api/ (k8s.io/api + apimachinery) stands on pki/ only.',
      from: { path: '^components/api/' },
      to: { path: '^(components/(?!api/)|sim/|scenarios/|report/|cli/|bench/|test/)' },
    },
    {
      name: 'client-imports-only-api-and-pki',
      severity: 'error',
      comment: 'components/client/ (client-go) stands on components/api/ and pki/.',
      from: { path: '^components/client/' },
      to: { path: '^(components/(?!api/|client/)|sim/|scenarios/|report/|cli/|bench/|test/)' },
    },
    {
      name: 'components-stand-on-client-api-pki',
      severity: 'error',
      comment: 'A component imports the floors below it and itself: never another component, the sim, scenarios or CLIs.',
      from: { path: `^components/${COMPONENTS}/` },
      to: { path: '^(sim|scenarios|report|cli|bench|test)/' },
    },
    {
      name: 'no-component-imports-another',
      severity: 'error',
      comment: 'Components talk over TLS, not through imports: shared code belongs in components/api or components/client.',
      from: { path: `^components/${COMPONENTS}/` },
      to: { path: `^components/${COMPONENTS}/`, pathNot: '^components/$1/' },
    },
    {
      name: 'only-floors-under-components',
      severity: 'error',
      comment: 'Everything under components/ lives in api/, client/ or a component folder.',
      from: {},
      to: { path: `^components/(?!api/|client/|${COMPONENTS}/)` },
    },
    {
      name: 'sim-below-scenarios-and-cli',
      severity: 'error',
      comment: 'sim/ (cluster, scenario runner, narration) consumes the components; scenarios and CLIs stand on it.',
      from: { path: '^sim/' },
      to: { path: '^(scenarios|report|cli|bench|test)/' },
    },
    {
      name: 'scenarios-below-cli',
      severity: 'error',
      from: { path: '^scenarios/' },
      to: { path: '^(report|cli|bench|test)/' },
    },
    {
      name: 'report-below-cli',
      severity: 'error',
      comment: 'report/ draws a run of a scenario (the trace, the steps, the PKI, the matrix) as HTML; only the CLI and benchmarks stand on it.',
      from: { path: '^report/' },
      to: { path: '^(cli|bench|test)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^node_modules' },
    tsPreCompilationDeps: true,
    // TypeScript 7 (the project's compiler) has no JavaScript API for dependency-cruiser to parse with;
    // swc parses TypeScript, type-only imports included.
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
