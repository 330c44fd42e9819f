/**
 * A tiny table printer for the benchmarks: each figure beside the baseline measured in the same
 * run, the ratio between them, and the goal it is held to. Shared by every bench/*.bench.ts.
 */

export interface Figure {
  value: number;
  /** How the value prints: 'B/s' and 'B' as KiB/MiB/GiB, 'ms' as milliseconds, else raw. */
  unit: 'B/s' | 'B' | 'ms' | 'entries/s' | string;
}

export interface Goal {
  /** The figure (or ratio, for a row with a baseline) must be at least this. */
  min?: number;
  /** The figure (or ratio) must stay below this. */
  max?: number;
}

export interface BenchRow {
  label: string;
  measured: Figure;
  baseline?: Figure & { label: string };
  goal?: Goal;
}

export interface RowVerdict {
  row: BenchRow;
  ratio: number | null;
  /** null when the row has no goal. */
  met: boolean | null;
}

/** Higher is better for rates: measured / baseline. */
export function ratioOf(row: BenchRow): number | null {
  if (!row.baseline || row.baseline.value === 0) return null;
  return row.measured.value / row.baseline.value;
}

export function judge(row: BenchRow): RowVerdict {
  const ratio = ratioOf(row);
  const subject = ratio ?? row.measured.value;
  let met: boolean | null = null;
  if (row.goal) {
    met = true;
    if (row.goal.min !== undefined && !(subject >= row.goal.min)) met = false;
    if (row.goal.max !== undefined && !(subject < row.goal.max)) met = false;
  }
  return { row, ratio, met };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatFigure(f: Figure): string {
  switch (f.unit) {
    case 'B/s':
      return `${formatBytes(f.value)}/s`;
    case 'B':
      return formatBytes(f.value);
    case 'ms':
      return `${f.value.toFixed(f.value < 10 ? 2 : 1)} ms`;
    default:
      return `${Math.round(f.value).toLocaleString('en-US')} ${f.unit}`;
  }
}

function formatGoal(row: BenchRow): string {
  const g = row.goal;
  if (!g) return '';
  const unit = row.baseline ? '×' : '';
  const show = (n: number) =>
    row.baseline ? n.toFixed(2) : formatFigure({ ...row.measured, value: n });
  const parts: string[] = [];
  if (g.min !== undefined) parts.push(`≥ ${show(g.min)}${unit}`);
  if (g.max !== undefined) parts.push(`< ${show(g.max)}${unit}`);
  return parts.join(', ');
}

/** The table as Markdown (readable in a terminal, pastable into the README). */
export function renderTable(rows: BenchRow[]): string {
  const header = ['measure', 'figure', 'baseline', 'ratio', 'goal', 'met'];
  const lines = rows.map((row) => {
    const v = judge(row);
    return [
      row.label,
      formatFigure(row.measured),
      row.baseline ? `${formatFigure(row.baseline)} (${row.baseline.label})` : '—',
      v.ratio === null ? '—' : `${v.ratio.toFixed(2)}×`,
      formatGoal(row),
      v.met === null ? '' : v.met ? 'yes' : 'NO',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    fmt(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...lines.map(fmt),
  ].join('\n');
}

/** Prints the table under a title; returns whether every goal was met. */
export function printTable(title: string, rows: BenchRow[]): boolean {
  process.stdout.write(`\n${title}\n\n${renderTable(rows)}\n\n`);
  return rows.every((r) => judge(r).met !== false);
}

/** Milliseconds since `start` (from process.hrtime.bigint()). */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}
