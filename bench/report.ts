/**
 * `npm run bench -- report [--nodes N] [--running K]`: the report of a big cluster (200 nodes by default)
 * rendered in headless chromium. The PKI of N nodes is made (ECDSA P-256 keys, so in seconds), a cluster
 * runs the control plane and K of the nodes (2 by default), and every node's kubelet and kube-proxy
 * identity dials the apiserver over real mutual TLS, in steps of 20 nodes; the run's report is written and
 * loaded in a fresh browser context `--runs` times: the time from navigation to the end of the load event,
 * and the CPU time of the renderer's main thread (DevTools Protocol metrics), with the page's size and what
 * it shows. The goal: under 3 s (PASS or FAIL on the median load). `--keep DIR` keeps the report in DIR.
 * Needs /usr/bin/chromium (apt-get install -y chromium).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { caPem, issuePki, kubeletClientName } from '../pki/store.js';
import { writeReport } from '../report/index.js';
import { Cluster, identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { silentLogger } from '../sim/logger.js';
import { runScenario, type Scenario } from '../sim/scenario.js';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/**
 * Every node's kubelet and kube-proxy identity dials the apiserver (a real mutual-TLS connection and the
 * read each makes first); `running` of the nodes also run a real kubelet and kube-proxy. A cluster of 200
 * running kubelets did not start within 15 minutes on this shared 2-core machine, so the rest are probes.
 */
export const bigCluster = (nodes: readonly string[]): Scenario => ({
  name: `nodes-${nodes.length}`, title: `A cluster of ${nodes.length} nodes`, summary: 'Every node\'s kubelet and kube-proxy identity reads from the apiserver over mutual TLS.', needsCluster: true,
  async run(ctx) {
    const ca = caPem(ctx.pki, 'ca');
    for (const [i, batch] of chunks(nodes, 20).entries()) {
      await ctx.step(`nodes ${i * 20 + 1}-${i * 20 + batch.length} read their Node and the Services`, 'Each kubelet reads its own Node; each kube-proxy lists Services.', async () => {
        await Promise.all(batch.flatMap((n) => [
          probe(ctx.trace, { client: `kubelet (${n})`, server: 'kube-apiserver', url: ctx.cluster.apiserverUrl, serverCa: ca, method: 'GET', path: `/api/v1/nodes/${n}`, identity: identityOf(ctx.pki, kubeletClientName(n)) }),
          probe(ctx.trace, { client: `kube-proxy (${n})`, server: 'kube-apiserver', url: ctx.cluster.apiserverUrl, serverCa: ca, method: 'GET', path: '/api/v1/services', identity: identityOf(ctx.pki, 'kube-proxy.conf') }),
        ]));
      });
    }
  },
});

const chunks = <T>(xs: readonly T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

/** The goal of issue 16: the report of a 200-node cluster renders in under 3 s in headless chromium. */
export const GOAL_MS = 3000;

interface Load { wall: number; paint: number; cpu: number; script: number; layout: number; style: number; process: number; drawn: string }

/**
 * One load of the page in a fresh context: the wall time from navigation to the end of the load event (what
 * a reader waits, and what a busy machine stretches), and the CPU time the renderer's main thread spent on it
 * (Chrome DevTools Protocol Performance metrics in thread time: the work itself, steadier under load).
 */
export async function loadOnce(browser: Browser, url: string): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    await page.goto(url, { waitUntil: 'load' });
    const { metrics } = await cdp.send('Performance.getMetrics');
    const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
    // A string, so that no helper of the bundler is needed in the page.
    const nav = await page.evaluate(`(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      const n = (sel) => [...document.querySelectorAll(sel)].reduce((k, e) => k + Number(e.getAttribute('data-n') || 1), 0);
      return { load: nav.loadEventEnd, paint: paint ? paint.startTime : NaN,
        drawn: document.querySelectorAll('tr.cert').length + ' certificates, ' + n('svg.graph .arrow') + ' arrows (' + document.querySelectorAll('svg.graph .arrow').length + ' drawn), '
          + n('svg.seq .entry') + ' timeline entries (' + document.querySelectorAll('svg.seq .entry').length + ' drawn), ' + document.getElementsByTagName('*').length + ' elements' };
    })()`) as { load: number; paint: number; drawn: string };
    const ms = (k: string): number => (m[k] ?? NaN) * 1000;
    return { wall: nav.load, paint: nav.paint, cpu: ms('TaskDuration'), script: ms('ScriptDuration'), layout: ms('LayoutDuration'), style: ms('RecalcStyleDuration'), process: ms('ProcessTime'), drawn: nav.drawn };
  } finally {
    await context.close();
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchReport(nodes: number, runs: number, running = 2, keep?: string): Promise<void> {
  const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) { console.log(`report: ${chromiumPath} missing (apt-get install -y chromium), skipped`); return; }
  const dir = keep ?? mkdtempSync(path.join(os.tmpdir(), 'bench-report-'));
  try {
    let t = Date.now();
    const names = Array.from({ length: nodes }, (_, i) => `node-${i + 1}`);
    const pki = await issuePki({ nodes: names, keyAlgorithm: 'ecdsa-p256' });
    console.log(`report: PKI of ${nodes} nodes in ${Date.now() - t} ms`);
    t = Date.now();
    const result = await runScenario(bigCluster(names), {
      pki, write: () => undefined, quiet: true,
      startCluster: (p, trace) => new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral', nodes: names.slice(0, running) }).start(),
    });
    console.log(`report: the run took ${Date.now() - t} ms (${result.ok ? 'ok' : 'FAILED'}), ${result.events.length} trace events`);
    t = Date.now();
    const [file] = await writeReport(result, { dir });
    const html = readFileSync(file!, 'utf8');
    const data = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)?.[1]?.length ?? 0;
    console.log(`report: written in ${Date.now() - t} ms, ${(statSync(file!).size / 1e6).toFixed(2)} MB (the details' data ${(data / 1e6).toFixed(2)} MB)${keep ? `: ${file}` : ''}`);
    const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ARGS });
    try {
      const loads: Load[] = [];
      for (let i = 0; i < runs; i++) {
        const l = await loadOnce(browser, pathToFileURL(file!).href);
        loads.push(l);
        console.log(`report: load ${l.wall.toFixed(0)} ms (first paint ${l.paint.toFixed(0)} ms); renderer main thread CPU ${l.cpu.toFixed(0)} ms `
          + `(script ${l.script.toFixed(0)}, layout ${l.layout.toFixed(0)}, style ${l.style.toFixed(0)}), renderer process CPU ${l.process.toFixed(0)} ms; ${l.drawn}`);
      }
      const wall = median(loads.map((l) => l.wall));
      const cpu = median(loads.map((l) => l.cpu));
      const load = os.loadavg()[0]!.toFixed(1);
      console.log(`report: ${nodes} nodes, median over ${runs} loads: load event ${wall.toFixed(0)} ms, main-thread CPU ${cpu.toFixed(0)} ms (load average ${load}, ${os.cpus().length} cores)`);
      console.log(`report: ${wall < GOAL_MS ? 'PASS' : 'FAIL'}: renders in ${(wall / 1000).toFixed(2)} s, goal under ${GOAL_MS / 1000} s${wall < GOAL_MS || cpu >= GOAL_MS ? '' : ` (the CPU it took, ${(cpu / 1000).toFixed(2)} s, is under the goal: the machine was busy)`}`);
    } finally {
      await browser.close();
    }
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
