/**
 * Per-node attribution tables (issue 15 part 6), shared by the console and the HTML renderers:
 * latency and loss by receiving node and by publishing node, for the whole measured window and for
 * every chaos window. The node whose p99 is highest is marked, so a paused or partitioned node
 * stands out.
 */
import Table from 'cli-table3';
import type { NodeAttribution, PerNodeReport, RunReport } from '../model/run-report.js';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** One table as plain text cells: its title column, head and rows. */
export interface PerNodeTable {
  head: string[];
  rows: string[][];
}

export const WORST_MARK = '◀ worst p99';

/** The node with the highest p99, when more than one node has timed deliveries. */
export function worstP99(rows: NodeAttribution[]): string | null {
  const timed = rows.filter((r) => r.latency_ms.count > 0);
  if (timed.length < 2) return null;
  return timed.reduce((a, b) => (b.latency_ms.p99 > a.latency_ms.p99 ? b : a)).node;
}

function sideTable(title: string, rows: NodeAttribution[]): PerNodeTable {
  const w = worstP99(rows);
  return {
    head: [title, 'timed', 'p50 ms', 'p99 ms', 'max ms', 'expected', 'lost', 'never sent', 'late', ''],
    rows: rows.map((r) => {
      const m = r.latency_ms;
      const v = (x: number) => (m.count > 0 ? ms(x) : '-');
      return [r.node, int(m.count), v(m.p50), v(m.p99), v(m.max), int(r.expected), int(r.lost), int(r.neverSent), int(r.late), r.node === w ? WORST_MARK : ''];
    }),
  };
}

function tables(label: string, p: PerNodeReport): PerNodeTable[] {
  const out: PerNodeTable[] = [];
  if (p.receiving.length) out.push(sideTable(`${label}receiving node`, p.receiving));
  if (p.publishing.length) out.push(sideTable(`${label}publishing node`, p.publishing));
  return out;
}

/** Every per-node table of a report: the run's, then each window's. Empty without `perNode`. */
export function perNodeTables(r: RunReport): PerNodeTable[] {
  const out: PerNodeTable[] = [];
  if (r.perNode) out.push(...tables('', r.perNode));
  for (const [name, w] of Object.entries(r.windows ?? {})) if (w.perNode) out.push(...tables(`[${name}] `, w.perNode));
  return out;
}

/** The console section: the tables as text. */
export function perNodeSection(r: RunReport, color: boolean): string[] {
  return perNodeTables(r).map((t) => {
    const table = new Table({
      head: t.head,
      style: color ? { head: ['cyan'], border: ['grey'], compact: true } : { head: [], border: [], compact: true },
      colAligns: ['left', ...t.head.slice(1).map(() => 'right' as const)],
    });
    for (const row of t.rows) table.push(row);
    return table.toString();
  });
}
