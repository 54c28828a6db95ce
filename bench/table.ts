/**
 * The one table `npm run bench` prints (`--json`: the same rows as JSON): each row a figure, ours, the
 * baseline measured in the same run, their ratio, the goal with pass/fail, and the command
 * that reruns just that row.
 */

export interface Row {
  /** What is measured, e.g. `full mTLS handshakes per server CPU-second`. */
  readonly figure: string;
  readonly unit: string;
  readonly ours: number;
  /** What the baseline is (`bare node:tls`), and its figure in the same unit. */
  readonly baselineLabel?: string;
  readonly baseline?: number;
  /** ours / baseline, the median of paired runs where there are several. */
  readonly ratio?: number;
  /** The goal as the issue words it (`>= 0.9x`, `<= 5 s`, `>= 500/s`); absent: no goal, for reference. */
  readonly goal?: string;
  readonly pass?: boolean;
  /** The command that reruns this row alone. */
  readonly command: string;
  /** Sizes, run counts, secondary figures. */
  readonly detail?: string;
}

const num = (x: number, unit: string): string => {
  if (Number.isNaN(x)) return 'error';
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  return `${x.toFixed(digits)} ${unit}`;
};

export function printTable(rows: readonly Row[], header: string): void {
  const cells = rows.map((r) => [
    r.figure,
    num(r.ours, r.unit),
    r.baseline === undefined ? '' : `${num(r.baseline, r.unit)} (${r.baselineLabel ?? 'baseline'})`,
    r.ratio === undefined ? '' : `${r.ratio.toFixed(3)}x`,
    r.goal ?? '',
    r.pass === undefined ? '' : r.pass ? 'pass' : 'FAIL',
    r.command,
  ]);
  const titles = ['figure', 'ours', 'baseline (same run)', 'ratio', 'goal', '', 'rerun with'];
  const widths = titles.map((t, i) => Math.max(t.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string => c.map((x, i) => (i === 1 || i === 3 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
  console.log(header);
  console.log(line(titles));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
  const details = rows.filter((r) => r.detail);
  if (details.length) {
    console.log('');
    for (const r of details) console.log(`  ${r.figure}: ${r.detail}`);
  }
}

export function jsonTable(rows: readonly Row[], meta: Record<string, unknown>): string {
  return `${JSON.stringify({ benchmark: 'table', ...meta, rows }, null, 2)}\n`;
}
