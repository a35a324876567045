/**
 * The console's section for repeated runs (`--repeat N`): each run's value of every target, the
 * judged value (median / worst), how many runs and which judgement. Pure function of the report.
 */
import Table from 'cli-table3';
import type { RunReport, TargetResult } from '../model/run-report.js';
import { formatInt, formatNum, formatPercent } from './console.js';

function cell(v: number | null, unit: string): string {
  if (v === null) return 'not measured';
  if (unit === 'ratio') return formatPercent(v);
  if (unit === 'ms') return `${formatNum(v, 2)} ms`;
  return Number.isInteger(v) ? formatInt(v) : formatNum(v, 2);
}

function status(s: TargetResult['status'] | RunReport['verdict']): string {
  return s === 'pass' ? 'PASS' : s === 'fail' ? 'FAIL' : s.toUpperCase();
}

/** `runs: 3 on one cluster, judged on the median` and a table: target × run, then the judged value. Empty for a single run. */
export function repeatsSection(r: RunReport, color = false): string[] {
  const rep = r.repeat;
  if (!rep) return [];
  const judged = rep.judge === 'median' ? 'median' : 'worst';
  const head = ['target', ...rep.runs.map((x) => `run ${x.run}`), judged];
  const t = new Table({
    head,
    style: color ? { head: ['cyan'], border: ['grey'], compact: true } : { head: [], border: [], compact: true },
    colAligns: head.map((_, i) => (i === 0 ? 'left' : 'right')),
  });
  for (const target of r.targets) {
    const unit = target.unit === 'deliveries' ? '' : target.unit;
    t.push([target.id, ...rep.runs.map((x) => cell(x.targets.find((y) => y.id === target.id)?.actual ?? null, unit)), `${cell(target.actual, unit)} ${status(target.status)}`]);
  }
  t.push(['run verdict', ...rep.runs.map((x) => status(x.verdict)), status(r.verdict)]);
  const how = rep.judge === 'every' ? 'every run must pass' : `targets judged on the ${rep.judge === 'median' ? 'median of each value' : "worst run's value"}`;
  const stalls = rep.runs.filter((x) => x.secondsOverTarget?.length).map((x) => `run ${x.run}: ${x.secondsOverTarget!.length} s over the latency target (at +${x.secondsOverTarget!.join(', +')} s)`);
  return [
    `runs: ${rep.runs.length} of ${rep.count} on ${rep.freshCluster ? 'a fresh cluster each' : 'one cluster'}; ${how}; the figures above are run ${rep.judgedRun ?? '—'}'s`,
    t.toString(),
    ...stalls,
  ];
}
