/**
 * Baseline comparison for a CI gate: two RunReports, value by value, each judged by its kind
 * (reports/compare-values.ts): latency relative with an absolute floor, delivery ratios in
 * percentage points, counts that were 0 must stay 0, the rest relative. The gate also fails when
 * the current run did not pass its own targets, when a value the baseline measured is missing
 * from the current report, and when the two runs had a different workload. Pure functions: the
 * CLI reads the files and picks the exit code (1 when the gate fails). Rules: docs/compare.md.
 */
import { WsbenchError } from '../common/errors.js';
import type { RunReport } from '../model/run-report.js';
import { candidates, COMPARED_PERCENTILES, type Better, type Candidate, type ValueKind } from './compare-values.js';
import { distributionNotes, onDistributions } from './compare-distributions.js';

export { COMPARED_PERCENTILES, type Better, type ValueKind } from './compare-values.js';
export { renderComparison } from './compare-render.js';

export interface CompareOptions {
  /** Largest tolerated change in the worse direction, percent of the baseline. Default 10. */
  maxRegressionPct?: number;
  /**
   * Per-value tolerances: percent, or percentage points for a ratio (delivery ratio). A key names
   * a compared value by its report path (`metrics.broadcast_latency_ms.p99`), a prefix of it at a
   * dot (`metrics.broadcast_latency_ms`: all its percentiles; `windows`: every window value),
   * either without the section (`broadcast_latency_ms.p99`, `deliveries_per_sec`, `lost`), or the
   * last segment alone (`p99`: every p99). The most specific key wins.
   */
  metricTolerances?: Record<string, number>;
  /**
   * How the user gave each key of `metricTolerances`, for the error naming one that matches no
   * value: `--metric <key>` (the default: WSB_INVALID_OPTION) or a config key such as
   * `wsbench.config.ts: compare.metrics.<key>` (WSB_CONFIG_INVALID).
   */
  metricToleranceSources?: Record<string, { name: string; from: 'flags' | 'config' }>;
  /** A latency change smaller than this (ms) is never a regression, whatever the percentage. Default 1. */
  latencyFloorMs?: number;
  /** Tolerance of ratios (delivery ratio), in percentage points. Default 0.1. */
  ratioTolerancePp?: number;
  /** A value the baseline has and the current report lacks is listed, not a failure. Default false. */
  allowMissing?: boolean;
  /** Different workload options (connections, rooms, rates, durations, nodes, server, …) only warn. Default false. */
  allowDifferentOptions?: boolean;
  /**
   * The scenario's option defaults: an option absent from one report (an older wsbench, or an
   * optional one left unset) counts as its default. Default none: absent differs from present.
   */
  optionDefaults?: Record<string, unknown>;
}

export const COMPARE_DEFAULTS = { maxRegressionPct: 10, latencyFloorMs: 1, ratioTolerancePp: 0.1 } as const;

/** `missing`: one side lacks the value and that does not fail the gate (new in current, or --allow-missing). */
export type DeltaStatus = 'regression' | 'improvement' | 'ok' | 'missing';

/** One compared value. */
export interface MetricDelta {
  /** Path of the value in the report, e.g. `metrics.broadcast_latency_ms.p99`, `windows.during-kill-node.accounting.lost`. */
  metric: string;
  unit: string;
  better: Better;
  kind: ValueKind;
  baseline: number | null;
  current: number | null;
  /** (current − baseline) / |baseline| × 100; null when the baseline is 0 or a side is missing. */
  changePct: number | null;
  /** The change as shown: `+35.2%`, `-9.00 pp` (ratios), `from 0`, `—`. */
  change: string;
  /** Tolerance applied: percent, or percentage points for a ratio. */
  tolerancePct: number;
  /** The tolerance as shown: `10%`, `10%, floor 1 ms`, `0.1 pp`, `0 stays 0`. */
  tolerance: string;
  status: DeltaStatus;
  /** Why, in words: `+35.2% > 10%`, `within 10%`, `+25.0% but +0.10 ms: below the 1 ms floor`, `0 → 0`, `not measured in current`. */
  reason: string;
}

export interface ReportRef {
  runId: string;
  scenario: string;
  verdict: RunReport['verdict'];
  startedAt: string;
}

/** A condition of the gate besides the values: the current verdict, the workload, missing values. */
export interface GateCheck {
  check: 'verdict' | 'options' | 'missing' | 'targets';
  ok: boolean;
  detail: string;
}

export interface Comparison {
  baseline: ReportRef;
  current: ReportRef;
  maxRegressionPct: number;
  latencyFloorMs: number;
  ratioTolerancePp: number;
  deltas: MetricDelta[];
  summary: { compared: number; regressions: number; improvements: number; ok: number; missing: number };
  checks: GateCheck[];
  /** Differences that make the comparison less meaningful but do not fail it (machine, version). */
  warnings: string[];
  /** True when any value regressed beyond its tolerance. */
  regressed: boolean;
  /** True when the gate fails (exit 1): a value regressed, or a check failed. */
  failed: boolean;
}

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

/** Parses `--latency-floor 1` / `1ms` → 1. Throws WSB_INVALID_OPTION. */
export function parseMs(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms)?\s*$/.exec(text);
  if (!m) throw new WsbenchError('WSB_INVALID_OPTION', `${flag}: "${text}" is not a number of milliseconds`, { hint: `e.g. ${flag} 1 (ms, a number ≥ 0)` });
  return Number(m[1]);
}

/** Parses one `--metric name=pct%` value into [name, pct]. Throws WSB_INVALID_OPTION. */
export function parseMetricTolerance(text: string): [string, number] {
  const m = /^\s*([A-Za-z0-9_.\-[\]]+)\s*=\s*(.+)$/.exec(text);
  if (!m) {
    throw new WsbenchError('WSB_INVALID_OPTION', `--metric "${text}" is not of the form <name>=<pct>%`, {
      hint: 'e.g. --metric broadcast_latency_ms.p99=20% or --metric deliveries_per_sec=5% (a ratio takes percentage points: --metric deliveryRatio=0.5)',
    });
  }
  return [m[1], parsePercent(m[2], `--metric ${m[1]}`)];
}

/** How specific `key` is for `path` (higher wins), or 0 when it does not name it. */
export function matchScore(key: string, path: string): number {
  const rest = path.split('.').slice(1).join('.');
  const segments = key.split('.').length;
  if (path === key) return 1000;
  if (path.startsWith(`${key}.`)) return 100 + segments;
  if (rest === key) return 900;
  if (rest.startsWith(`${key}.`)) return 50 + segments;
  if (!key.includes('.') && path.endsWith(`.${key}`)) return 10;
  return 0;
}

type Resolved = Required<CompareOptions>;

/** The tolerance of one value: a --metric key that names it, else the default of its kind. */
function toleranceFor(c: Candidate, opts: Resolved): number {
  let best = 0;
  let pct: number = c.kind === 'ratio' ? opts.ratioTolerancePp : opts.maxRegressionPct;
  for (const [key, value] of Object.entries(opts.metricTolerances)) {
    const s = matchScore(key, c.metric);
    if (s > best) {
      best = s;
      pct = value;
    }
  }
  return pct;
}

export function fmtPct(p: number): string {
  const a = Math.abs(p);
  // A tiny change keeps one significant digit (a delivery ratio from 100% to 99.999% is −0.001%, not −0.00%).
  const s = a >= 100 ? p.toFixed(0) : a >= 10 ? p.toFixed(1) : a >= 0.01 || a === 0 ? p.toFixed(2) : String(Number(p.toPrecision(1)));
  return `${p > 0 ? '+' : ''}${s}%`;
}

function fmtSigned(v: number, digits: number): string {
  return `${v > 0 ? '+' : ''}${v.toFixed(digits)}`;
}

function fmtAbs(v: number, unit: string): string {
  const n = Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  return unit === 'ms' ? `${n} ms` : n;
}

/**
 * Judges one value pair by its kind (see ValueKind) with `tolerance` (percent, or percentage
 * points for a ratio) and the latency floor.
 */
export function judge(c: Candidate, tolerance: number, opts: { latencyFloorMs?: number; allowMissing?: boolean } = {}): MetricDelta {
  const floor = opts.latencyFloorMs ?? COMPARE_DEFAULTS.latencyFloorMs;
  const tolText = c.kind === 'ratio' ? `${tolerance} pp` : c.kind === 'latency' ? `${tolerance}%, floor ${floor} ms` : c.kind === 'count' && c.baseline === 0 ? '0 stays 0' : `${tolerance}%`;
  const base = { ...c, tolerancePct: tolerance, tolerance: tolText };
  const { baseline, current, better } = c;
  if (baseline === null || current === null) {
    if (baseline === null) return { ...base, changePct: null, change: '—', status: 'missing', reason: 'not measured in the baseline (new value, not judged)' };
    return opts.allowMissing
      ? { ...base, changePct: null, change: '—', status: 'missing', reason: 'not measured in current (allowed by --allow-missing)' }
      : { ...base, changePct: null, change: '—', status: 'regression', reason: 'not measured in current: a gate does not pass what was not measured' };
  }
  const worseBy = better === 'lower' ? current - baseline : baseline - current; // > 0: worse
  const changePct = baseline === 0 ? (current === 0 ? 0 : null) : ((current - baseline) / Math.abs(baseline)) * 100;
  const worsePct = changePct === null ? null : better === 'lower' ? changePct : -changePct;
  const change = changePct !== null ? fmtPct(changePct) : 'from 0';
  const d = (status: DeltaStatus, reason: string, extra: Partial<MetricDelta> = {}): MetricDelta => ({ ...base, changePct, change, status, reason, ...extra });

  if (c.kind === 'ratio') {
    // Percentage points: 100 % → 91 % is 9 points worse, whatever the relative change.
    const pp = worseBy * 100;
    const ppText = `${fmtSigned((current - baseline) * 100, 2)} pp`;
    if (pp > tolerance) return d('regression', `${ppText}, more than ${tolerance} pp worse`, { change: ppText });
    if (-pp > tolerance) return d('improvement', ppText, { change: ppText });
    return d('ok', worseBy === 0 ? 'unchanged' : `${ppText}, within ${tolerance} pp`, { change: ppText });
  }
  if (baseline === 0) {
    if (current === 0) return d('ok', '0 → 0');
    if (worseBy <= 0) return d('improvement', `0 → ${fmtAbs(current, c.unit)}`);
    if (c.kind === 'latency' && worseBy <= floor) return d('ok', `0 → ${fmtAbs(current, c.unit)}: below the ${floor} ms floor`);
    return d('regression', `0 → ${fmtAbs(current, c.unit)}: ${c.kind === 'count' ? 'a count that was 0 must stay 0' : `any ${better === 'lower' ? 'increase' : 'decrease'} from 0 is a regression`}`);
  }
  const sign = better === 'lower' ? '>' : '<';
  const limit = `${better === 'lower' ? '' : '-'}${tolerance}%`;
  if (worsePct! > tolerance) {
    if (c.kind === 'latency' && worseBy <= floor) return d('ok', `${change} but ${fmtSigned(current - baseline, 2)} ms: below the ${floor} ms floor`);
    return d('regression', `${change} ${sign} ${limit}`);
  }
  if (-worsePct! > tolerance && !(c.kind === 'latency' && -worseBy <= floor)) return d('improvement', change);
  return d('ok', changePct === 0 ? 'unchanged' : `${change}, within ${tolerance}%`);
}

function ref(r: RunReport): ReportRef {
  return { runId: r.runId, scenario: r.scenario.name, verdict: r.verdict, startedAt: r.startedAt };
}

function differences(b: Record<string, unknown>, c: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(b), ...Object.keys(c)])];
  return keys.filter((k) => JSON.stringify(b[k]) !== JSON.stringify(c[k])).map((k) => `${k} ${JSON.stringify(b[k]) ?? '(unset)'} → ${JSON.stringify(c[k]) ?? '(unset)'}`);
}

/** Options that change only where results go or what is logged, not the workload. */
export const COSMETIC_OPTIONS = new Set(['receiveLog', 'receiveLogEvery', 'out', 'json']);

/** What the two runs did differently: scenario options and the cluster (everything but cosmetic options). */
export function workloadDifferences(b: RunReport, c: RunReport, defaults: Record<string, unknown> = {}): string[] {
  const opts = (r: RunReport) => Object.fromEntries(Object.entries({ ...defaults, ...r.options }).filter(([k]) => !COSMETIC_OPTIONS.has(k)));
  const topo = (r: RunReport) => {
    const t = r.topology as RunReport['topology'] & { engine?: unknown };
    const overrides = [...(t.overrides ?? [])].map((o) => `${o.setting}=${o.value}`).sort();
    return { driver: t.driver, server: t.server, adapter: t.adapter, engine: t.engine, nodes: t.nodes, lb: t.lb, lbPolicy: t.lbPolicy, serverOverrides: overrides };
  };
  // A topology field absent from one report (older reports lack `adapter`; `engine` is newer) is not compared.
  const tb = topo(b);
  const tc = topo(c);
  for (const k of Object.keys(tb) as Array<keyof typeof tb>) {
    if (tb[k] === undefined || tc[k] === undefined) {
      delete tb[k];
      delete tc[k];
    }
  }
  return [...differences(opts(b), opts(c)), ...differences(tb, tc)];
}

function warningsOf(b: RunReport, c: RunReport): string[] {
  const w: string[] = [];
  const env = differences(
    { hostname: b.environment.hostname, cpus: b.environment.cpus, cpuModel: b.environment.cpuModel },
    { hostname: c.environment.hostname, cpus: c.environment.cpus, cpuModel: c.environment.cpuModel },
  );
  if (env.length) w.push(`different machine (${env.join(', ')}): latency and throughput also measure the machine`);
  if (b.tool.version !== c.tool.version) w.push(`wsbench version differs: ${b.tool.version} → ${c.tool.version}`);
  if (b.generator.bottleneck) w.push('the baseline run was GENERATOR-BOUND: its figures describe the load generator');
  if (c.generator.bottleneck) w.push('the current run was GENERATOR-BOUND: its figures describe the load generator');
  if (b.verdict !== 'pass') w.push(`the baseline run's verdict is ${b.verdict}`);
  const thr = (r: RunReport) => Object.fromEntries(r.targets.map((t) => [t.id, t.status === 'off' ? 'off' : `${t.op} ${t.value}`]));
  const targets = differences(thr(b), thr(c));
  if (targets.length) w.push(`target thresholds differ: ${targets.join(', ')}`);
  return w;
}

/**
 * Targets switched off (`targets: { id: false }`) on one side only: the current run not judging
 * what the baseline judged fails the gate (the goal post was removed); the reverse is a warning.
 */
function offTargets(b: RunReport, c: RunReport, warnings: string[]): GateCheck | undefined {
  const judged = (r: RunReport, id: string) => r.targets.some((t) => t.id === id && t.status !== 'off');
  const offIn = (r: RunReport) => r.targets.filter((t) => t.status === 'off').map((t) => t.id);
  const nowOff = offIn(c).filter((id) => judged(b, id));
  const wasOff = offIn(b).filter((id) => judged(c, id));
  if (wasOff.length) warnings.push(`target(s) switched off in the baseline but judged in current: ${wasOff.join(', ')}`);
  if (!nowOff.length) return undefined;
  return { check: 'targets', ok: false, detail: `target(s) the baseline judged are switched off in current: ${nowOff.map((id) => `${id} (${c.targets.find((t) => t.id === id)?.source.config ?? 'config'})`).join(', ')}` };
}

function verdictCheck(c: RunReport): GateCheck {
  if (c.verdict === 'pass') return { check: 'verdict', ok: true, detail: 'the current run passed its targets' };
  if (c.verdict === 'fail') {
    const missed = c.targets.filter((t) => t.status !== 'pass' && t.status !== 'off').map((t) => `${t.id} ${t.status}`);
    return { check: 'verdict', ok: false, detail: `the current run's verdict is fail (${missed.join(', ') || 'no target listed'})` };
  }
  return { check: 'verdict', ok: false, detail: `the current run did not finish (verdict ${c.verdict}${c.error ? `, ${c.error.code}` : ''}): its figures are partial` };
}

/**
 * Compares `current` against `baseline`. Throws WsbenchError `WSB_COMPARE_INVALID` (exit 2) when
 * the reports are of different scenarios or the baseline run did not finish (verdict error or
 * interrupted), and `WSB_INVALID_OPTION` when a per-metric tolerance names no compared value.
 */
export function compareReports(baseline: RunReport, current: RunReport, options: CompareOptions = {}): Comparison {
  const opts: Resolved = {
    maxRegressionPct: options.maxRegressionPct ?? COMPARE_DEFAULTS.maxRegressionPct,
    metricTolerances: options.metricTolerances ?? {},
    metricToleranceSources: options.metricToleranceSources ?? {},
    latencyFloorMs: options.latencyFloorMs ?? COMPARE_DEFAULTS.latencyFloorMs,
    ratioTolerancePp: options.ratioTolerancePp ?? COMPARE_DEFAULTS.ratioTolerancePp,
    allowMissing: options.allowMissing ?? false,
    allowDifferentOptions: options.allowDifferentOptions ?? false,
    optionDefaults: options.optionDefaults ?? {},
  };
  if (baseline.scenario.name !== current.scenario.name) {
    throw new WsbenchError('WSB_COMPARE_INVALID', `the baseline is a ${baseline.scenario.name} run and the current report a ${current.scenario.name} run`, {
      hint: 'compare two reports of the same scenario (regenerate the baseline with `wsbench run <scenario> --out <dir>`)',
    });
  }
  if (baseline.verdict === 'error' || baseline.verdict === 'interrupted') {
    throw new WsbenchError('WSB_COMPARE_INVALID', `the baseline run did not finish (verdict ${baseline.verdict}${baseline.error ? `, ${baseline.error.code}` : ''}): its figures are partial`, {
      hint: 'use the report of a complete run as the baseline',
    });
  }
  const cands = onDistributions(candidates(baseline, current), baseline, current);
  for (const key of Object.keys(opts.metricTolerances)) {
    if (!cands.some((c) => matchScore(key, c.metric) > 0)) {
      const names = [...new Set(cands.map((c) => c.metric.replace(/\.(p50|p90|p99|p999|max)$/, '')))];
      const src = opts.metricToleranceSources[key] ?? { name: `--metric ${key}`, from: 'flags' };
      throw new WsbenchError(src.from === 'config' ? 'WSB_CONFIG_INVALID' : 'WSB_INVALID_OPTION', `${src.name}: no compared value is called that`, {
        hint: `name a value or a group: ${names.join(', ')} (or a percentile: ${COMPARED_PERCENTILES.join(', ')})`,
      });
    }
  }
  const deltas = cands.map((c) => judge(c, toleranceFor(c, opts), opts));
  const count = (s: DeltaStatus) => deltas.filter((d) => d.status === s).length;
  const missingInCurrent = deltas.filter((d) => d.baseline !== null && d.current === null);
  const summary = {
    compared: deltas.filter((d) => d.baseline !== null && d.current !== null).length,
    regressions: count('regression'),
    improvements: count('improvement'),
    ok: count('ok'),
    missing: deltas.filter((d) => d.baseline === null || d.current === null).length,
  };
  const warnings = [...warningsOf(baseline, current), ...distributionNotes(baseline, current)];
  const checks: GateCheck[] = [verdictCheck(current)];
  const off = offTargets(baseline, current, warnings);
  if (off) checks.push(off);
  const diff = workloadDifferences(baseline, current, opts.optionDefaults);
  if (!diff.length) checks.push({ check: 'options', ok: true, detail: 'same workload options and cluster' });
  else if (opts.allowDifferentOptions) warnings.unshift(`workload differs (allowed by --allow-different-options): ${diff.join(', ')}`);
  else checks.push({ check: 'options', ok: false, detail: `the workload differs: ${diff.join(', ')} (pass --allow-different-options to compare anyway)` });
  // Without --allow-missing each such value is a regression row; with it, the gate says it looked away.
  if (missingInCurrent.length && opts.allowMissing) {
    checks.push({ check: 'missing', ok: true, detail: `${missingInCurrent.length} value(s) the baseline measured are missing from current (allowed by --allow-missing)` });
  }
  const regressed = summary.regressions > 0;
  return {
    baseline: ref(baseline),
    current: ref(current),
    maxRegressionPct: opts.maxRegressionPct,
    latencyFloorMs: opts.latencyFloorMs,
    ratioTolerancePp: opts.ratioTolerancePp,
    deltas,
    summary,
    checks,
    warnings,
    regressed,
    failed: regressed || checks.some((c) => !c.ok),
  };
}
