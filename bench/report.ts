/** The benchmark's results: tables of per-round values, rendered as Markdown and kept as JSON. */
import { ratio, summarize } from './lib/stats';

export interface Row {
  label: string;
  /** Per-round values by metric name (one value when measured once). */
  metrics: Record<string, number[]>;
  /** Row label whose values this row is compared to (ratio of medians), for `ratioMetric`. */
  vs?: string;
  note?: string;
}

export interface Table {
  id: string;
  title: string;
  /** Column headers by metric name, with the unit. */
  columns: Record<string, string>;
  /** The metric the ratio column compares. */
  ratioMetric?: string;
  rows: Row[];
  notes: string[];
}

export interface Target {
  name: string;
  measured: string;
  goal: string;
  met: boolean;
}

export function fmt(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const d = digits ?? (abs >= 1000 ? 0 : abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

export function cell(values: number[] | undefined): string {
  if (!values || values.length === 0) return '–';
  const s = summarize(values);
  if (s.n <= 1) return fmt(s.median);
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

export function rowRatio(table: Table, row: Row): string {
  if (!row.vs || !table.ratioMetric) return '';
  const base = table.rows.find((r) => r.label === row.vs);
  const a = row.metrics[table.ratioMetric];
  const b = base?.metrics[table.ratioMetric];
  if (!a || !b) return '';
  const r = ratio(a, b);
  if (!Number.isFinite(r.ofMedians)) return '';
  const range = Number.isFinite(r.pairedMin) && a.length > 1 ? ` (${fmt(r.pairedMin, 2)}–${fmt(r.pairedMax, 2)})` : '';
  return `${fmt(r.ofMedians, 2)}×${range} vs ${row.vs}`;
}

export function tableMarkdown(table: Table): string {
  const metricNames = Object.keys(table.columns);
  const hasRatio = table.rows.some((r) => r.vs);
  const hasNote = table.rows.some((r) => r.note);
  const header = ['', ...metricNames.map((m) => table.columns[m]), ...(hasRatio ? ['ratio'] : []), ...(hasNote ? ['note'] : [])];
  const lines = [
    `### ${table.title}`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
  ];
  for (const row of table.rows) {
    const cells = [row.label, ...metricNames.map((m) => cell(row.metrics[m])), ...(hasRatio ? [rowRatio(table, row)] : []), ...(hasNote ? [row.note ?? ''] : [])];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  if (table.notes.length) lines.push('', ...table.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

/** The median ratio of `label` to its `vs` row for the table's ratio metric. */
export function medianRatio(table: Table, label: string): number {
  const row = table.rows.find((r) => r.label === label);
  const base = table.rows.find((r) => r.label === row?.vs);
  if (!row || !base || !table.ratioMetric) return NaN;
  return ratio(row.metrics[table.ratioMetric] ?? [], base.metrics[table.ratioMetric] ?? []).ofMedians;
}
