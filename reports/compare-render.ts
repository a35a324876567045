/**
 * `wsbench compare` as console text: the two runs, the gate's checks (verdict, workload), a table
 * whose every row says why it passed or failed, warnings, and a one-line result.
 */
import Table from 'cli-table3';
import type { Comparison, DeltaStatus } from './compare.js';
import { formatInt, formatNum, formatPercent } from './console.js';

function fmtValue(v: number | null, unit: string): string {
  if (v === null) return '—';
  if (unit === 'ratio') return formatPercent(v);
  const n = Number.isInteger(v) ? formatInt(v) : formatNum(v, Math.abs(v) < 10 ? 3 : 2);
  return unit === 'ms' ? `${n} ms` : n;
}

const STATUS_TEXT: Record<DeltaStatus, string> = { regression: 'REGRESSION', improvement: 'improved', ok: 'ok', missing: 'missing' };

/** The comparison as console text. */
export function renderComparison(cmp: Comparison, opts: { color?: boolean } = {}): string {
  const color = opts.color ?? false;
  const paint = (s: string, code: number) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const t = new Table({
    head: ['metric', 'better', 'baseline', 'current', 'change', 'tolerance', 'result (why)'],
    style: color ? { head: ['cyan'], border: ['grey'], compact: true } : { head: [], border: [], compact: true },
    colAligns: ['left', 'left', 'right', 'right', 'right', 'right', 'left'],
  });
  for (const d of cmp.deltas) {
    const status = STATUS_TEXT[d.status];
    const code = d.status === 'regression' ? 31 : d.status === 'improvement' ? 32 : d.status === 'missing' ? 33 : 0;
    t.push([d.metric, d.better, fmtValue(d.baseline, d.unit), fmtValue(d.current, d.unit), d.change, d.tolerance, `${code ? paint(status, code) : status} (${d.reason})`]);
  }
  const lines = [
    `baseline: ${cmp.baseline.runId} (${cmp.baseline.scenario}, ${cmp.baseline.startedAt}, verdict ${cmp.baseline.verdict})`,
    `current:  ${cmp.current.runId} (${cmp.current.scenario}, ${cmp.current.startedAt}, verdict ${cmp.current.verdict})`,
    ...cmp.checks.map((c) => `check ${c.check}: ${c.ok ? 'ok' : paint('FAIL', 31)} — ${c.detail}`),
    t.toString(),
    ...cmp.warnings.map((w) => `warning: ${w}`),
  ];
  const s = cmp.summary;
  const tail = `${s.improvements} improved, ${s.ok} within tolerance${s.missing ? `, ${s.missing} missing on one side` : ''}`;
  if (cmp.failed) {
    const parts: string[] = [];
    if (cmp.regressed) {
      const which = cmp.deltas.filter((d) => d.status === 'regression').map((d) => `${d.metric} (${d.reason})`);
      parts.push(`${s.regressions} of ${s.compared + s.missing} values regressed: ${which.join(', ')}`);
    }
    for (const c of cmp.checks) if (!c.ok) parts.push(c.detail);
    lines.push(`compare: ${paint(cmp.regressed ? 'REGRESSION' : 'FAIL', 31)} — ${parts.join('; ')}; ${tail}`);
  } else {
    lines.push(`compare: ${paint('OK', 32)} — no regression beyond tolerance in ${s.compared} values; ${tail}`);
  }
  return lines.join('\n');
}
