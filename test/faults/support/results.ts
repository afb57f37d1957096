/**
 * Counting by sequence number, and the table the fault suite prints at the end of a run
 * (scenario, sent, received, lost, duplicated, time to recover) for docs/faults.md.
 */

export interface SequenceCount {
  sent: number;
  /** Distinct sequence numbers found. */
  received: number;
  /** Sequence numbers sent but not found. */
  lost: number[];
  /** Records beyond the first of each sequence number. */
  duplicated: number;
}

/** Compares sequence numbers 0..sent-1 with those found (e.g. read back from the topic). */
export function countSequences(sent: number, found: number[]): SequenceCount {
  const seen = new Map<number, number>();
  for (const n of found) seen.set(n, (seen.get(n) ?? 0) + 1);
  const lost: number[] = [];
  for (let i = 0; i < sent; i++) if (!seen.has(i)) lost.push(i);
  let duplicated = 0;
  for (const times of seen.values()) duplicated += times - 1;
  return { sent, received: [...seen.keys()].filter((n) => n >= 0 && n < sent).length, lost, duplicated };
}

/** `{"seq": 12, ...}` → 12; anything else → -1. */
export function seqOf(value: string): number {
  try {
    const parsed = JSON.parse(value) as { seq?: unknown };
    return typeof parsed.seq === 'number' ? parsed.seq : -1;
  } catch {
    return -1;
  }
}

export interface ResultRow {
  scenario: string;
  sent: number | string;
  received: number | string;
  lost: number | string;
  duplicated: number | string;
  recoverMs: number | string;
  notes?: string;
}

const rows: ResultRow[] = [];

export function recordResult(row: ResultRow): void {
  rows.push(row);
  console.log(`      [faults] ${row.scenario}: sent ${row.sent}, received ${row.received}, lost ${row.lost}, duplicated ${row.duplicated}, recovered in ${formatMs(row.recoverMs)}${row.notes ? ` (${row.notes})` : ''}`);
}

function formatMs(value: number | string): string {
  return typeof value === 'number' ? `${(value / 1000).toFixed(1)} s` : value;
}

/** The table in Markdown, as docs/faults.md shows it. */
export function resultTable(): string {
  const lines = [
    '| scenario | messages sent | received | lost | duplicated | time to recover | notes |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.scenario} | ${r.sent} | ${r.received} | ${r.lost} | ${r.duplicated} | ${formatMs(r.recoverMs)} | ${r.notes ?? ''} |`),
  ];
  return lines.join('\n');
}

after(function () {
  if (rows.length === 0) return;
  console.log(`\n    Fault suite results:\n${resultTable().split('\n').map((l) => `    ${l}`).join('\n')}\n`);
});
