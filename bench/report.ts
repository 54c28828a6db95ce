/**
 * `npm run bench -- report [--nodes N] [--running K]`: the report of a big cluster (200 nodes by default)
 * rendered in headless chromium. The PKI of N nodes is made (ECDSA P-256 keys, so in seconds), a cluster
 * runs the control plane and K of the nodes (2 by default), and every node's kubelet and kube-proxy
 * identity dials the apiserver over real mutual TLS, in steps of 20 nodes; the run's report is written and
 * loaded, and the time from navigation to the load event is measured, with the page's size and counts.
 * The goal: under 3 s. Needs /usr/bin/chromium (apt-get install -y chromium).
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
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

export async function benchReport(nodes: number, runs: number, running = 2): Promise<void> {
  const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) { console.log(`report: ${chromiumPath} missing (apt-get install -y chromium), skipped`); return; }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-report-'));
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
