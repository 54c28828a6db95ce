/**
 * `npm run scenario -- NAME --report DIR [--golden] [--mermaid FILE]`: a run of a scenario as one
 * self-contained HTML page (DIR/index.html) and, optionally, its graph and timeline as Mermaid text.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Matrix } from '../scenarios/matrix.js';
import type { RunResult } from '../sim/scenario.js';
import { renderPage } from './html.js';
import { mermaid } from './mermaid.js';
import { buildModel, type ReportModel } from './model.js';

export { buildModel, mermaid, renderPage };
export type { ReportModel };

export interface ReportOptions {
  readonly dir?: string;
  readonly mermaidFile?: string;
  readonly golden?: Matrix;
  /** Fold alike components of at least this many nodes into one box (default FOLD_AT, report/fold.ts). */
  readonly foldAt?: number;
}

/** Writes what `options` asks for; returns the paths written. */
export async function writeReport(result: RunResult, options: ReportOptions): Promise<string[]> {
  const model = buildModel(result);
  const written: string[] = [];
  if (options.dir !== undefined) {
    await fs.mkdir(options.dir, { recursive: true });
    const file = path.join(options.dir, 'index.html');
    await fs.writeFile(file, renderPage(model, { ...(options.golden ? { golden: options.golden } : {}), ...(options.foldAt ? { foldAt: options.foldAt } : {}), generated: new Date() }));
    written.push(file);
  }
  if (options.mermaidFile !== undefined) {
    await fs.mkdir(path.dirname(path.resolve(options.mermaidFile)), { recursive: true });
    await fs.writeFile(options.mermaidFile, mermaid(model, options.foldAt));
    written.push(options.mermaidFile);
  }
  return written;
}
