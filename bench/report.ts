/**
 * `npm run bench -- report [--nodes N]`: the report of a big cluster (200 nodes by default) rendered in
 * headless chromium. A real cluster of N nodes is started (ECDSA P-256 keys, so the PKI is made in
 * seconds), every node registers (a kubelet and a kube-proxy each, over real mutual TLS), one step lists
 * the nodes as kubectl; the run's report is written and loaded, and the time from navigation to the
 * load event (everything laid out and painted once) is measured, with the page's size and its counts.
 * The goal: under 3 s. Needs /usr/bin/chromium (apt-get install -y chromium).
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { KubeObject } from '../components/api/types.js';
import { issuePki } from '../pki/store.js';
import { writeReport } from '../report/index.js';
import { Cluster } from '../sim/cluster.js';
import { silentLogger } from '../sim/logger.js';
import { runScenario, type Scenario } from '../sim/scenario.js';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

const bigCluster = (nodes: number): Scenario => ({
  name: `nodes-${nodes}`, title: `A cluster of ${nodes} nodes`, summary: 'Every node registers; kubectl lists them.', needsCluster: true,
  async run(ctx) {
    await ctx.step('kubectl lists the nodes', 'Every kubelet has registered its Node over mutual TLS.', async () => {
      const kubectl = ctx.cluster.client('admin.conf', 'kubectl');
      for (let i = 0; i < 600; i++) {
        const list = await kubectl.list<KubeObject>('/api/v1/nodes');
        if (list.items.length >= nodes) { ctx.expect(`${nodes} nodes registered`, true); return; }
        await new Promise((r) => setTimeout(r, 500));
      }
      ctx.expect(`${nodes} nodes registered`, false);
    });
  },
});

export async function benchReport(nodes: number, runs: number): Promise<void> {
  const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) { console.log(`report: ${chromiumPath} missing (apt-get install -y chromium), skipped`); return; }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-report-'));
  try {
    let t = Date.now();
    const pki = await issuePki({ nodes: Array.from({ length: nodes }, (_, i) => `node-${i + 1}`), keyAlgorithm: 'ecdsa-p256' });
    console.log(`report: PKI of ${nodes} nodes in ${Date.now() - t} ms`);
    t = Date.now();
    const result = await runScenario(bigCluster(nodes), {
      pki, write: () => undefined, quiet: true,
      startCluster: (p, trace) => new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral' }).start(),
    });
    console.log(`report: the run took ${Date.now() - t} ms (${result.ok ? 'ok' : 'FAILED'}), ${result.events.length} trace events`);
    t = Date.now();
    const [file] = await writeReport(result, { dir });
    console.log(`report: written in ${Date.now() - t} ms, ${(statSync(file!).size / 1e6).toFixed(2)} MB`);
    const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ARGS });
    try {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        await page.goto(pathToFileURL(file!).href, { waitUntil: 'load' });
        // Navigation start to the end of the load event, and to the first paint, as the browser measured them.
        const m = await page.evaluate(() => {
          const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
          const paint = performance.getEntriesByName('first-contentful-paint')[0];
          return { load: nav.loadEventEnd, paint: paint?.startTime ?? NaN, arrows: document.querySelectorAll('svg.graph .arrow').length, entries: document.querySelectorAll('svg.seq .entry').length, certs: document.querySelectorAll('tr.cert').length };
        });
        times.push(m.load);
        console.log(`report: load ${m.load.toFixed(0)} ms, first paint ${m.paint.toFixed(0)} ms (${m.certs} certificates, ${m.arrows} arrows, ${m.entries} timeline entries)`);
        await page.close();
      }
      const sorted = [...times].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      console.log(`report: ${nodes} nodes, median load ${median.toFixed(0)} ms over ${runs} loads (goal < 3000 ms): ${median < 3000 ? 'met' : 'NOT met'}`);
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
