/**
 * Target evaluation: reads each target's metric from a report, compares it, and folds the results
 * into a verdict and an exit code. Pure functions; every target ends pass | fail | unknown
 * (Jepsen's checker vocabulary), and unknown never counts as met.
 */
import type { RunReport, TargetResult, Verdict } from './run-report.js';
import type { TargetSpec } from './targets.js';

/** A report before evaluation (or a complete one, which is re-evaluated). */
export type EvaluableReport = Omit<RunReport, 'targets' | 'verdict'> | RunReport;

/**
 * The number at a dotted path (`metrics.broadcast_latency_ms.p99`) of `obj`, or null when a step
 * is missing or the value is not a finite number. Only own properties are followed.
 */
export function readPath(obj: unknown, path: string): number | null {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, key)) return null;
    cur = (cur as Record<string, unknown>)[key];
  }
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : null;
}

/**
 * Whether the value at `path` was actually measured. A histogram with no samples reports zeros
 * (`metrics.x.p99 = 0` when nothing was received), and accounting with nothing expected reports
 * `lost = 0` — both would pass a target vacuously, so both count as not measured.
 */
function measured(report: EvaluableReport, path: string): boolean {
  const parts = path.split('.');
  // The nearest enclosing summary decides: a histogram summary (has `count`, e.g. metrics.x or
  // windows.after.broadcast_latency_ms) needs samples; an accounting (has `expected`, e.g.
  // accounting, accounting.crossNode, windows.w.sameNode — also for accounting.losses.*, whose
  // owner is accounting) needs something expected.
  for (let end = parts.length - 1; end >= 1; end--) {
    const owner = parts.slice(0, end).join('.');
    const count = readPath(report, `${owner}.count`);
    if (count !== null && parts[0] !== 'counters') return count > 0;
    const expected = readPath(report, `${owner}.expected`);
    if (expected !== null) return expected > 0;
  }
  return true;
}

/**
 * Counts of failures that are only a measurement while nothing went unobserved: 0 failed chaos
 * actions says nothing when some action's effect could not be observed (outcome `unknown`, e.g. an
 * external Redis without --node-urls). A count above 0 is a failure whatever else happened.
 */
const UNMEASURED_WHILE: Record<string, string> = {
  'counters.chaos_actions_failed': 'counters.chaos_actions_unobserved',
};

/**
 * The value at `path` as a target sees it: null when it is missing, not a finite number, or not
 * measured (a histogram without samples, an accounting with nothing expected, a 0 that something
 * unobserved may hide: UNMEASURED_WHILE). `wsbench compare` reads values the same way, so a gate
 * and a target never disagree on what was measured.
 */
export function measuredValue(report: EvaluableReport, path: string): number | null {
  const raw = readPath(report, path);
  if (raw === null || !measured(report, path)) return null;
  const blind = UNMEASURED_WHILE[path];
  return raw === 0 && blind !== undefined && (readPath(report, blind) ?? 0) > 0 ? null : raw;
}

/** `actual op value`. */
export function compare(actual: number, op: TargetSpec['op'], value: number): boolean {
  switch (op) {
    case '<=':
      return actual <= value;
    case '<':
      return actual < value;
    case '>=':
      return actual >= value;
    case '>':
      return actual > value;
    case '==':
      return actual === value;
  }
}

/**
 * Evaluates each spec against the report, in order. `actual` is read from `spec.metric` (a dotted
 * path); a missing or non-finite value, a latency metric with no samples, or accounting with
 * nothing expected gives `status: 'unknown'` and `actual: null`. A delivery-latency target fails
 * when `counters.latency_values_clamped` > 0 (some deliveries took longer than 120 s).
 */
export function evaluateTargets(report: EvaluableReport, specs: readonly TargetSpec[]): TargetResult[] {
  // Deliveries slower than the histogram's 120 s were recorded as 120 s (counters.latency_values_clamped):
  // a delivery latency target cannot pass a run in which some took over two minutes.
  const clamped = readPath(report, 'counters.latency_values_clamped') ?? 0;
  return specs.map((spec) => {
    const actual = measuredValue(report, spec.metric);
    let status: TargetResult['status'] = spec.off ? 'off' : actual === null ? 'unknown' : compare(actual, spec.op, spec.value) ? 'pass' : 'fail';
    if (status === 'pass' && clamped > 0 && spec.unit === 'ms' && /latency/.test(spec.metric)) status = 'fail';
    const result: TargetResult = {
      id: spec.id,
      description: spec.description,
      metric: spec.metric,
      op: spec.op,
      value: spec.value,
      unit: spec.unit,
      actual,
      status,
      source: { ...spec.source },
    };
    if (spec.override) result.override = { ...spec.override };
    return result;
  });
}

/**
 * The verdict of a run, first rule that applies:
 * 1. `error` when the harness itself failed (`opts.error`);
 * 2. `interrupted` when the run was stopped early (`opts.interrupted`);
 * 3. `fail` when any target failed **or is unknown** — a promise that could not be measured must
 *    not pass silently;
 * 4. `pass` otherwise (also with no targets at all: nothing was promised, nothing was missed).
 * Targets the user switched off (`off`) are not judged.
 */
export function verdictOf(targets: readonly TargetResult[], opts: { error?: boolean; interrupted?: boolean } = {}): Verdict {
  if (opts.error) return 'error';
  if (opts.interrupted) return 'interrupted';
  return targets.every((t) => t.status === 'pass' || t.status === 'off') ? 'pass' : 'fail';
}

/**
 * The process exit code of a verdict: 0 pass (all targets met), 1 fail (a target missed or could
 * not be measured), 2 error or interrupted (the harness did not finish a measurement).
 */
export function exitCodeFor(verdict: Verdict): 0 | 1 | 2 {
  switch (verdict) {
    case 'pass':
      return 0;
    case 'fail':
      return 1;
    case 'error':
    case 'interrupted':
      return 2;
  }
}

/** Counts for a one-line summary: met, total judged, the ids not met (failed or unknown), and those switched off. */
export function summarizeTargets(targets: readonly TargetResult[]): { met: number; total: number; missed: string[]; unknown: string[]; off: string[] } {
  return {
    met: targets.filter((t) => t.status === 'pass').length,
    total: targets.filter((t) => t.status !== 'off').length,
    missed: targets.filter((t) => t.status !== 'pass' && t.status !== 'off').map((t) => t.id),
    off: targets.filter((t) => t.status === 'off').map((t) => t.id),
    unknown: targets.filter((t) => t.status === 'unknown').map((t) => t.id),
  };
}

/**
 * Completes a report: evaluates `specs` and sets `targets` and `verdict`. The verdict is
 * `interrupted` when `opts.interrupted` or `report.error.code === 'WSB_INTERRUPTED'`, `error` when
 * any other `report.error` is present, else from the targets (see verdictOf).
 */
export function finalizeReport(report: EvaluableReport, specs: readonly TargetSpec[], opts: { interrupted?: boolean } = {}): RunReport {
  const targets = evaluateTargets(report, specs);
  const interrupted = opts.interrupted === true || report.error?.code === 'WSB_INTERRUPTED';
  const error = report.error !== undefined && !interrupted;
  return { ...report, targets, verdict: verdictOf(targets, { error, interrupted }) };
}
