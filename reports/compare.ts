/**
 * Baseline comparison for a CI gate: two RunReports, metric by metric, with a tolerance and the
 * direction that counts as worse (latency up, throughput down, loss up). Pure functions: the CLI
 * reads the files and picks the exit code (1 on a regression).
 */
import Table from 'cli-table3';
import { WsbenchError } from '../common/errors.js';
import type { RunReport } from '../model/run-report.js';
import { formatInt, formatNum, formatPercent } from './console.js';
import { distributionNotes, onDistributions } from './compare-distributions.js';

/** Which way is better for a metric. */
export type Better = 'lower' | 'higher';

export interface CompareOptions {
  /** Largest tolerated change in the worse direction, percent of the baseline. Default 10. */
  maxRegressionPct?: number;
  /**
   * Per-metric tolerances, percent. A key names a compared value by its report path
   * (`metrics.broadcast_latency_ms.p99`), a prefix of it at a dot (`metrics.broadcast_latency_ms`:
   * all its percentiles), either without the section (`broadcast_latency_ms.p99`,
   * `deliveries_per_sec`, `lost`), or the last segment alone (`p99`: every p99). The most specific
   * key wins.
   */
  metricTolerances?: Record<string, number>;
}

export const COMPARE_DEFAULTS = { maxRegressionPct: 10 } as const;

export type DeltaStatus = 'regression' | 'improvement' | 'ok' | 'missing';

/** One compared value. */
export interface MetricDelta {
  /** Path of the value in the report, e.g. `metrics.broadcast_latency_ms.p99`, `accounting.lost`. */
  metric: string;
  unit: string;
  better: Better;
  baseline: number | null;
  current: number | null;
  /** (current − baseline) / baseline × 100; null when the baseline is 0 or a side is missing. */
  changePct: number | null;
  /** Tolerance applied, percent. */
  tolerancePct: number;
  status: DeltaStatus;
  /** Why, in words: `+35.2% > 10%`, `0 → 20: any increase from 0 is a regression`, `not measured in current`. */
  reason: string;
}

export interface ReportRef {
  runId: string;
  scenario: string;
  verdict: RunReport['verdict'];
  startedAt: string;
}

export interface Comparison {
  baseline: ReportRef;
  current: ReportRef;
  maxRegressionPct: number;
  deltas: MetricDelta[];
  summary: { compared: number; regressions: number; improvements: number; ok: number; missing: number };
  /** Differences that make the comparison less meaningful (options, topology, machine). */
  warnings: string[];
  /** True when any delta is a regression: the gate fails (exit 1). */
  regressed: boolean;
}

/** The percentiles compared for every latency metric both reports measured. */
export const COMPARED_PERCENTILES = ['p50', 'p90', 'p99', 'p999', 'max'] as const;

/** Accounting counts compared (lower is better), beside deliveryRatio (higher is better). */
const ACCOUNTING_COUNTS = ['lost', 'duplicated', 'reordered'] as const;

/**
 * Parses a tolerance: `10%`, `10`, `2.5%` → 10, 10, 2.5. Throws WSB_INVALID_OPTION naming `flag`
 * when it is not a finite number ≥ 0.
 */
export function parsePercent(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%?\s*$/.exec(text);
  if (!m) {
    throw new WsbenchError('WSB_INVALID_OPTION', `${flag}: "${text}" is not a percentage`, { hint: `e.g. ${flag} 10% (a number ≥ 0, the % is optional)` });
  }
  return Number(m[1]);
}

/** Parses one `--metric name=pct%` value into [name, pct]. Throws WSB_INVALID_OPTION. */
export function parseMetricTolerance(text: string): [string, number] {
  const m = /^\s*([A-Za-z0-9_.-]+)\s*=\s*(.+)$/.exec(text);
  if (!m) {
    throw new WsbenchError('WSB_INVALID_OPTION', `--metric "${text}" is not of the form <name>=<pct>%`, {
      hint: 'e.g. --metric broadcast_latency_ms.p99=20% or --metric deliveries_per_sec=5%',
    });
  }
  return [m[1], parsePercent(m[2], `--metric ${m[1]}`)];
}

const SECTIONS = ['metrics', 'counters', 'accounting'];

/** How specific `key` is for `path` (higher wins), or 0 when it does not name it. */
function matchScore(key: string, path: string): number {
  const rest = path.split('.').slice(1).join('.');
  const segments = key.split('.').length;
  if (path === key) return 1000;
  if (path.startsWith(`${key}.`)) return 100 + segments;
  if (rest === key) return 900;
  if (rest.startsWith(`${key}.`)) return 50 + segments;
  if (!key.includes('.') && path.endsWith(`.${key}`)) return 10;
  return 0;
}

function toleranceFor(path: string, opts: Required<CompareOptions>): number {
  let best = 0;
  let pct = opts.maxRegressionPct;
  for (const [key, value] of Object.entries(opts.metricTolerances)) {
    const s = matchScore(key, path);
    if (s > best) {
      best = s;
      pct = value;
    }
  }
  return pct;
}

function fmtPct(p: number): string {
  const a = Math.abs(p);
  // A tiny change keeps one significant digit (a delivery ratio from 100% to 99.999% is −0.001%, not −0.00%).
  const s = a >= 100 ? p.toFixed(0) : a >= 10 ? p.toFixed(1) : a >= 0.01 || a === 0 ? p.toFixed(2) : String(Number(p.toPrecision(1)));
  return `${p > 0 ? '+' : ''}${s}%`;
}

/** Judges one value pair. */
export function judge(
  metric: string,
  unit: string,
  better: Better,
  baseline: number | null,
  current: number | null,
  tolerancePct: number,
): MetricDelta {
  const base = { metric, unit, better, baseline, current, tolerancePct };
  if (baseline === null || current === null) {
    const reason = baseline === null && current === null ? 'not measured in either' : baseline === null ? 'not measured in the baseline' : 'not measured in current';
    return { ...base, changePct: null, status: 'missing', reason };
  }
  const worse = better === 'lower' ? current > baseline : current < baseline;
  if (baseline === 0) {
    // No percentage of zero: any move from 0 in the worse direction is a regression (0 → 3 lost
    // deliveries is not "within 10%"), any move in the better direction an improvement.
    if (current === 0) return { ...base, changePct: 0, status: 'ok', reason: 'unchanged (0)' };
    return worse
      ? { ...base, changePct: null, status: 'regression', reason: `0 → ${current}: any ${better === 'lower' ? 'increase' : 'decrease'} from 0 is a regression` }
      : { ...base, changePct: null, status: 'improvement', reason: `0 → ${current}` };
  }
  const changePct = ((current - baseline) / Math.abs(baseline)) * 100;
  const worsePct = better === 'lower' ? changePct : -changePct;
  if (worsePct > tolerancePct) return { ...base, changePct, status: 'regression', reason: `${fmtPct(changePct)} ${better === 'lower' ? '>' : '<'} ${better === 'lower' ? '' : '-'}${tolerancePct}%` };
  if (-worsePct > tolerancePct) return { ...base, changePct, status: 'improvement', reason: fmtPct(changePct) };
  return { ...base, changePct, status: 'ok', reason: changePct === 0 ? 'unchanged' : `${fmtPct(changePct)}, within ±${tolerancePct}%` };
}

function measuredMetric(r: RunReport, name: string): boolean {
  const m = r.metrics[name];
  return m !== undefined && m.count > 0;
}

function numAt(obj: unknown, path: string): number | null {
  let cur: unknown = obj;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, k)) return null;
    cur = (cur as Record<string, unknown>)[k];
  }
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : null;
}

interface Candidate {
  metric: string;
  unit: string;
  better: Better;
  baseline: number | null;
  current: number | null;
}

/** Every value the comparison considers, in display order, with both sides (null: not measured there). */
function candidates(b: RunReport, c: RunReport): Candidate[] {
  const out: Candidate[] = [];
  const names = [...new Set([...Object.keys(b.metrics), ...Object.keys(c.metrics)])];
  for (const name of names) {
    const inB = measuredMetric(b, name);
    const inC = measuredMetric(c, name);
    const unit = (b.metrics[name] ?? c.metrics[name])?.unit ?? '';
    for (const p of COMPARED_PERCENTILES) {
      out.push({
        metric: `metrics.${name}.${p}`,
        unit,
        better: 'lower',
        baseline: inB ? b.metrics[name][p] : null,
        current: inC ? c.metrics[name][p] : null,
      });
    }
  }
  out.push({ metric: 'counters.deliveries_per_sec', unit: 'deliveries/s', better: 'higher', baseline: b.counters.deliveries_per_sec ?? null, current: c.counters.deliveries_per_sec ?? null });
  // Accounting with nothing expected measured nothing (lost = 0 would pass vacuously).
  const accB = b.accounting.expected > 0;
  const accC = c.accounting.expected > 0;
  out.push({ metric: 'accounting.deliveryRatio', unit: 'ratio', better: 'higher', baseline: accB ? b.accounting.deliveryRatio : null, current: accC ? c.accounting.deliveryRatio : null });
  for (const k of ACCOUNTING_COUNTS) {
    out.push({ metric: `accounting.${k}`, unit: 'deliveries', better: 'lower', baseline: accB ? b.accounting[k] : null, current: accC ? c.accounting[k] : null });
  }
  // Loss classes and late deliveries (scenarios with faults), when either report has them.
  const lossKeys = new Set([...Object.keys(b.accounting.losses ?? {}), ...Object.keys(c.accounting.losses ?? {})]);
  for (const k of lossKeys) {
    const path = `accounting.losses.${k}`;
    const vb = numAt(b, path);
    const vc = numAt(c, path);
    if (vb === null && vc === null) continue;
    out.push({ metric: path, unit: 'deliveries', better: 'lower', baseline: accB ? vb : null, current: accC ? vc : null });
  }
  // Drop rows absent from both sides (e.g. no deliveries_per_sec counter in either scenario).
  return out.filter((x) => x.baseline !== null || x.current !== null);
}

function ref(r: RunReport): ReportRef {
  return { runId: r.runId, scenario: r.scenario.name, verdict: r.verdict, startedAt: r.startedAt };
}

function differences(b: Record<string, unknown>, c: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(b), ...Object.keys(c)])];
  return keys.filter((k) => JSON.stringify(b[k]) !== JSON.stringify(c[k])).map((k) => `${k} ${JSON.stringify(b[k]) ?? '(unset)'} → ${JSON.stringify(c[k]) ?? '(unset)'}`);
}

function warningsOf(b: RunReport, c: RunReport): string[] {
  const w: string[] = [];
  const opts = differences(b.options, c.options);
  if (opts.length) w.push(`scenario options differ: ${opts.join(', ')}`);
  const pick = (r: RunReport) => ({ driver: r.topology.driver, server: r.topology.server, nodes: r.topology.nodes, lbPolicy: r.topology.lbPolicy });
  const topo = differences(pick(b), pick(c));
  if (topo.length) w.push(`topology differs: ${topo.join(', ')}`);
  const env = differences(
    { hostname: b.environment.hostname, cpus: b.environment.cpus, cpuModel: b.environment.cpuModel },
    { hostname: c.environment.hostname, cpus: c.environment.cpus, cpuModel: c.environment.cpuModel },
  );
  if (env.length) w.push(`different machine (${env.join(', ')}): latency and throughput also measure the machine`);
  if (b.tool.version !== c.tool.version) w.push(`wsbench version differs: ${b.tool.version} → ${c.tool.version}`);
  if (b.generator.bottleneck) w.push('the baseline run was GENERATOR-BOUND: its figures describe the load generator');
  if (c.generator.bottleneck) w.push('the current run was GENERATOR-BOUND: its figures describe the load generator');
  if (b.verdict !== 'pass') w.push(`the baseline run's verdict is ${b.verdict}`);
  return w;
}

/**
 * Compares `current` against `baseline`. Throws WsbenchError `WSB_COMPARE_INVALID` (exit 2) when
 * the reports are of different scenarios or either run did not finish (verdict error or
 * interrupted), and `WSB_INVALID_OPTION` when a per-metric tolerance names no compared value.
 */
export function compareReports(baseline: RunReport, current: RunReport, options: CompareOptions = {}): Comparison {
  const opts: Required<CompareOptions> = {
    maxRegressionPct: options.maxRegressionPct ?? COMPARE_DEFAULTS.maxRegressionPct,
    metricTolerances: options.metricTolerances ?? {},
  };
  if (baseline.scenario.name !== current.scenario.name) {
    throw new WsbenchError('WSB_COMPARE_INVALID', `the baseline is a ${baseline.scenario.name} run and the current report a ${current.scenario.name} run`, {
      hint: 'compare two reports of the same scenario (regenerate the baseline with `wsbench run <scenario> --out <dir>`)',
    });
  }
  for (const [r, which] of [
    [baseline, 'baseline'],
    [current, 'current'],
  ] as const) {
    if (r.verdict === 'error' || r.verdict === 'interrupted') {
      throw new WsbenchError('WSB_COMPARE_INVALID', `the ${which} run did not finish (verdict ${r.verdict}${r.error ? `, ${r.error.code}` : ''}): its figures are partial`, {
        hint: which === 'baseline' ? 'use the report of a complete run as the baseline' : 'fix the run first (see its report and logs), then compare',
      });
    }
  }
  const cands = onDistributions(candidates(baseline, current), baseline, current);
  for (const key of Object.keys(opts.metricTolerances)) {
    if (!cands.some((c) => matchScore(key, c.metric) > 0)) {
      const names = [...new Set(cands.map((c) => c.metric.replace(/\.(p50|p90|p99|p999|max)$/, '')))];
      throw new WsbenchError('WSB_INVALID_OPTION', `--metric ${key}: no compared value is called that`, {
        hint: `name a value or a group: ${names.join(', ')} (or a percentile: ${COMPARED_PERCENTILES.join(', ')})`,
      });
    }
  }
  const deltas = cands.map((c) => judge(c.metric, c.unit, c.better, c.baseline, c.current, toleranceFor(c.metric, opts)));
  const count = (s: DeltaStatus) => deltas.filter((d) => d.status === s).length;
  const summary = { compared: deltas.length - count('missing'), regressions: count('regression'), improvements: count('improvement'), ok: count('ok'), missing: count('missing') };
  return {
    baseline: ref(baseline),
    current: ref(current),
    maxRegressionPct: opts.maxRegressionPct,
    deltas,
    summary,
    warnings: [...warningsOf(baseline, current), ...distributionNotes(baseline, current)],
    regressed: summary.regressions > 0,
  };
}

function fmtValue(v: number | null, unit: string): string {
  if (v === null) return '—';
  if (unit === 'ratio') return formatPercent(v);
  const n = Number.isInteger(v) ? formatInt(v) : formatNum(v, Math.abs(v) < 10 ? 3 : 2);
  return unit === 'ms' ? `${n} ms` : n;
}

const STATUS_TEXT: Record<DeltaStatus, string> = { regression: 'REGRESSION', improvement: 'improved', ok: 'ok', missing: 'missing' };

/** The comparison as console text: a header, the table, warnings, and a one-line result. */
export function renderComparison(cmp: Comparison, opts: { color?: boolean } = {}): string {
  const color = opts.color ?? false;
  const paint = (s: string, code: number) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const t = new Table({
    head: ['metric', 'better', 'baseline', 'current', 'change', 'tolerance', 'result'],
    style: color ? { head: ['cyan'], border: ['grey'], compact: true } : { head: [], border: [], compact: true },
    colAligns: ['left', 'left', 'right', 'right', 'right', 'right', 'left'],
  });
  for (const d of cmp.deltas) {
    const change = d.changePct !== null ? fmtPct(d.changePct) : d.status === 'missing' ? '—' : d.baseline === 0 && d.current !== 0 ? 'from 0' : '—';
    const status = STATUS_TEXT[d.status];
    t.push([
      d.metric,
      d.better,
      fmtValue(d.baseline, d.unit),
      fmtValue(d.current, d.unit),
      change,
      `${d.tolerancePct}%`,
      d.status === 'regression' ? paint(status, 31) : d.status === 'improvement' ? paint(status, 32) : d.status === 'missing' ? paint(`${status} (${d.reason})`, 33) : status,
    ]);
  }
  const lines = [
    `baseline: ${cmp.baseline.runId} (${cmp.baseline.scenario}, ${cmp.baseline.startedAt}, verdict ${cmp.baseline.verdict})`,
    `current:  ${cmp.current.runId} (${cmp.current.scenario}, ${cmp.current.startedAt}, verdict ${cmp.current.verdict})`,
    t.toString(),
    ...cmp.warnings.map((w) => `warning: ${w}`),
  ];
  const s = cmp.summary;
  const tail = `${s.improvements} improved, ${s.ok} within tolerance${s.missing ? `, ${s.missing} missing on one side` : ''}`;
  if (cmp.regressed) {
    const which = cmp.deltas.filter((d) => d.status === 'regression').map((d) => `${d.metric} (${d.reason})`);
    lines.push(`compare: ${paint('REGRESSION', 31)} — ${s.regressions} of ${s.compared} values regressed: ${which.join(', ')}; ${tail}`);
  } else {
    lines.push(`compare: ${paint('OK', 32)} — no regression beyond tolerance in ${s.compared} values; ${tail}`);
  }
  return lines.join('\n');
}
