/**
 * The reports in a real browser: Debian's chromium driven by playwright-core (no browser download).
 * The tour's, the matrix's and rotate-ca's reports load from disk with no console error and no network
 * request; they show as many CAs, certificates, arrows and timeline entries as the trace holds; an
 * arrow opens its details on click, and the keyboard reaches them; no two labels overlap at 1280x800.
 * Screenshots go to test-results/report/ (or REPORT_SCREENSHOTS).
 * `npm run test:browser` runs this file; `npm test` skips it, saying so, when chromium is missing
 * (under CI=true it fails instead).
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { issuePki, type Pki } from '../../pki/store.js';
import { writeReport } from '../../report/index.js';
import { readGolden, type Matrix } from '../../scenarios/matrix.js';
import { SCENARIOS } from '../../scenarios/index.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { runScenario, type RunResult } from '../../sim/scenario.js';
import { expectedCounts } from './expected.js';
import { translator, type Lang } from '../../sim/i18n/index.js';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const SHOTS = process.env.REPORT_SCREENSHOTS ?? path.resolve(import.meta.dirname, '../../test-results/report');

async function play(name: string, pki: Pki, lang: Lang = 'en'): Promise<RunResult> {
  const lines: string[] = [];
  const result = await runScenario(SCENARIOS.find((s) => s.name === name)!, {
    pki, write: (l) => lines.push(l), lang,
    startCluster: (p, trace) => new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral' }).start(),
  });
  expect(result.ok, lines.join('\n')).to.equal(true);
  return result;
}

interface Loaded { page: Page; errors: string[]; requests: string[] }

async function load(browser: Browser, file: string): Promise<Loaded> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => { if (r.url() !== pathToFileURL(file).href) requests.push(r.url()); });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, errors, requests };
}

/** Pairs of SVG labels (within one drawing) whose boxes overlap, as the browser lays them out. */
async function overlappingLabels(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const svg of document.querySelectorAll('svg.graph, svg.seq')) {
      const boxes = [...svg.querySelectorAll('text.lbl')].map((t) => ({ t: t.textContent ?? '', r: t.getBoundingClientRect() }));
      boxes.sort((a, b) => a.r.top - b.r.top);
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length && boxes[j]!.r.top < boxes[i]!.r.bottom; j++) {
          const a = boxes[i]!.r;
          const b = boxes[j]!.r;
          const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
          const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
          if (w > 0.5 && h > 0.5) out.push(`"${boxes[i]!.t}" / "${boxes[j]!.t}"`);
        }
      }
    }
    return out;
  });
}

/** CAs, certificates, arrows and timeline entries as the page shows them; a folded arrow or row counts for its data-n. */
async function shownCounts(page: Page): Promise<{ cas: number; certs: number; arrows: number; entries: number }> {
  const sum = async (sel: string): Promise<number> => (await page.locator(sel).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-n') ?? '1')))).reduce((a, b) => a + b, 0);
  return {
    cas: await page.locator('.ca[data-ca-id]').count(), certs: await page.locator('tr.cert').count(),
    arrows: await sum('svg.graph .arrow'), entries: await sum('svg.seq .entry'),
  };
}

describe('the HTML report in chromium', function () {
  this.timeout(300_000);
  let browser: Browser | undefined;
  let pki: Pki;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'report-test-'));
  const runs = new Map<string, RunResult>();

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      const why = `chromium is not installed at ${CHROMIUM} (apt-get install -y chromium): the report's browser tests need it`;
      if (process.env.CI === 'true') throw new Error(why);
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    pki = await issuePki();
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const report = async (name: string, golden?: Matrix, foldAt?: number): Promise<{ file: string; result: RunResult }> => {
    let result = runs.get(name);
    if (!result) { result = await play(name, pki); runs.set(name, result); }
    const out = path.join(dir, `${name}${golden ? '-golden' : ''}${foldAt ? `-fold${foldAt}` : ''}`);
    await writeReport(result, { dir: out, ...(golden ? { golden } : {}), ...(foldAt ? { foldAt } : {}) });
    return { file: path.join(out, 'index.html'), result };
  };

  for (const name of ['tour', 'matrix', 'rotate-ca']) {
    it(`${name}: loads offline with no console error, counts match the trace, an arrow opens its details, no labels overlap`, async () => {
      const { file, result } = await report(name);
      const { page, errors, requests } = await load(browser!, file);
      try {
        expect(errors, 'console errors').to.deep.equal([]);
        expect(requests, 'network requests').to.deep.equal([]);
        const want = expectedCounts(result);
        expect(await shownCounts(page)).to.deep.equal(want);
        expect(await page.locator('svg .folded').count(), 'a few nodes are drawn one by one').to.equal(0);
        expect(want.cas).to.be.greaterThanOrEqual(name === 'rotate-ca' ? 4 : 3);
        expect(await page.locator('.ca.branch-etcd').count(), 'the etcd CA has its own branch').to.equal(1);
        expect(await overlappingLabels(page), 'overlapping labels').to.deep.equal([]);
        await page.screenshot({ path: path.join(SHOTS, `${name}-top.png`) });
        await page.locator('#graph').scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.join(SHOTS, `${name}-graph.png`) });
        // A refused arrow if there is one (its details carry a reason), else the first.
        const refused = page.locator('svg.graph .arrow.o-refused text.lbl');
        await ((await refused.count()) > 0 ? refused.first() : page.locator('svg.graph .arrow text.lbl').first()).click();
        const details = page.locator('#details');
        await details.waitFor({ state: 'visible' });
        const text = await details.innerText();
        expect(text).to.include('Verdict:').and.include('Client certificate, checked by').and.include('Server certificate, checked by');
        if ((await refused.count()) > 0) expect(text).to.match(/refused by .*\n[\s\S]*In Go's words[\s\S]*x509: |handshake was refused/);
        await page.screenshot({ path: path.join(SHOTS, `${name}-details.png`) });
        await page.keyboard.press('Escape');
        await details.waitFor({ state: 'hidden' });
        await page.locator('#timeline').scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.join(SHOTS, `${name}-timeline.png`) });
      } finally {
        await page.close();
      }
    });
  }

  it('the keyboard reaches an arrow, opens its details and comes back', async () => {
    const { file } = await report('tour');
    const { page } = await load(browser!, file);
    try {
      let reached = '';
      for (let i = 0; i < 400 && !reached.startsWith('arrow-'); i++) {
        await page.keyboard.press('Tab');
        reached = await page.evaluate(() => document.activeElement?.getAttribute('data-detail') ?? '');
      }
      expect(reached, 'Tab reached an arrow of the graph').to.match(/^arrow-/);
      await page.keyboard.press('Enter');
      await page.locator('#details').waitFor({ state: 'visible' });
      expect(await page.evaluate(() => document.activeElement?.id)).to.equal('details');
      expect(await page.locator('#details').innerText()).to.include('Verdict:');
      await page.keyboard.press('Escape');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-detail'))).to.equal(reached);
    } finally {
      await page.close();
    }
  });

  it('tour with alike nodes folded: one box per kind of node component, counts still the trace\'s, every member one click away', async () => {
    // The tour's nodes fold from 2 alike (a big cluster's from FOLD_AT): the same drawing a 200-node report gets.
    const { file, result } = await report('tour', undefined, 2);
    const { page, errors } = await load(browser!, file);
    try {
      expect(errors, 'console errors').to.deep.equal([]);
      expect(await shownCounts(page)).to.deep.equal(expectedCounts(result));
      const boxes = page.locator('svg.graph .box.folded');
      expect(await boxes.count(), 'kubelet and kube-proxy boxes folded').to.be.greaterThanOrEqual(2);
      expect(await boxes.first().innerHTML()).to.match(/node-1 … node-2\) ×2/);
      expect(await overlappingLabels(page), 'overlapping labels').to.deep.equal([]);
      // A folded arrow lists the arrows it stands for; each opens its own details, and Escape returns to the folded arrow.
      const folded = page.locator('svg.graph .arrow.folded').first();
      const n = Number(await folded.getAttribute('data-n'));
      await folded.locator('text.lbl').click();
      const members = page.locator('#details ul.members button');
      expect(await members.count()).to.equal(n);
      await members.last().click();
      const text = await page.locator('#details').innerText();
      expect(text).to.include('Verdict:').and.include('Client certificate, checked by').and.match(/\(node-2\)/);
      await page.keyboard.press('Escape');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-detail'))).to.equal(await folded.getAttribute('data-detail'));
      // Folded certificates: the rows are in the page, hidden until their button shows them.
      const toggle = page.locator('button.toggle').first();
      const rows = page.locator(`#${await toggle.getAttribute('data-toggle')} tr.cert`);
      expect(await rows.count()).to.be.greaterThanOrEqual(2);
      expect(await rows.first().isVisible()).to.equal(false);
      await toggle.focus();
      await page.keyboard.press('Enter');
      expect(await rows.first().isVisible()).to.equal(true);
      expect(await toggle.getAttribute('aria-expanded')).to.equal('true');
      await rows.first().click();
      expect(await page.locator('#details').innerText()).to.include('Certificate CN=system:node:');
      await page.screenshot({ path: path.join(SHOTS, 'tour-folded.png') });
    } finally {
      await page.close();
    }
  });

  it('in Korean (--lang ko): <html lang="ko">, Korean headings, legend and details, the same counts, no console error', async () => {
    const result = await play('refuse-foreign-ca', pki, 'ko');
    const out = path.join(dir, 'refuse-foreign-ca-ko');
    await writeReport(result, { dir: out });
    const { page, errors, requests } = await load(browser!, path.join(out, 'index.html'));
    try {
      const ko = translator('ko');
      expect(await page.locator('html').getAttribute('lang')).to.equal('ko');
      expect(await page.locator('h1').innerText()).to.equal(ko('scenario.refuse-foreign-ca.title'));
      expect(await page.locator('#trust-h').innerText()).to.equal(ko('report.trust.heading'));
      expect(await page.locator('#graph-h').innerText()).to.equal(ko('report.graph.heading'));
      expect(await page.locator('#timeline-h').innerText()).to.equal(ko('report.timeline.heading'));
      expect(await page.locator('#legend-h').innerText()).to.equal('범례');
      expect(await page.locator('nav a').allInnerTexts()).to.deep.equal(['신뢰 트리', '컴포넌트 그래프', '타임라인']);
      expect(await page.locator('.legend').first().innerText()).to.include('핸드셰이크 거부').and.include('401 Unauthorized (인증되지 않음)');
      const want = expectedCounts(result);
      expect({
        cas: await page.locator('.ca[data-ca-id]').count(), certs: await page.locator('tr.cert').count(),
        arrows: await page.locator('svg.graph .arrow').count(), entries: await page.locator('svg.seq .entry').count(),
      }).to.deep.equal(want);
      await page.locator('svg.graph .arrow.o-unauthenticated text.lbl').first().click();
      const details = page.locator('#details');
      await details.waitFor({ state: 'visible' });
      const text = await details.innerText();
      expect(text).to.include('판정:').and.include('클라이언트 인증서:').and.include('x509: certificate signed by unknown authority');
      expect(await page.locator('#details-close').innerText()).to.equal('닫기 (Esc)');
      expect(errors, 'console errors').to.deep.equal([]);
      expect(requests, 'network requests').to.deep.equal([]);
      await page.screenshot({ path: path.join(SHOTS, 'refuse-foreign-ca-ko-details.png') });
    } finally {
      await page.close();
    }
  });

  it('matrix with a golden copy: the cells that differ from it, and only those, are outlined', async () => {
    const golden = readGolden();
    const { file: same } = await report('matrix', golden);
    const a = await load(browser!, same);
    try {
      expect(await a.page.locator('td.cell').count()).to.equal(golden.cells.length);
      expect(await a.page.locator('td.cell.differs').count(), 'the run equals the golden copy').to.equal(0);
    } finally {
      await a.page.close();
    }
    // A golden copy in which kube-apiserver-etcd-client was refused by etcd: that cell differs.
    const changed: Matrix = { ...golden, cells: golden.cells.map((c) => (c.client === 'apiserver-etcd-client' && c.server === 'etcd' ? { ...c, decision: 'handshake refused', reason: 'x509: certificate signed by unknown authority' } : c)) };
    const { file } = await report('matrix', changed);
    const b = await load(browser!, file);
    try {
      const differs = b.page.locator('td.cell.differs');
      expect(await differs.count()).to.equal(1);
      await differs.first().focus();
      await b.page.keyboard.press('Enter');
      const text = await b.page.locator('#details').innerText();
      expect(text).to.include('apiserver-etcd-client → etcd').and.include('Differs from the golden copy').and.include('x509: certificate signed by unknown authority');
      await b.page.locator('#matrix').scrollIntoViewIfNeeded();
      await b.page.screenshot({ path: path.join(SHOTS, 'matrix-golden-diff.png') });
    } finally {
      await b.page.close();
    }
  });
});
