/**
 * Repeated runs (`--repeat N`): N run reports → one RunReport judged on their distribution. The
 * top-level figures are the judged run's (so every reader of a single run keeps working), the
 * targets are judged on each value's median over the runs (`median`, default), on the worst run's
 * value (`worst`), or must pass in every run (`every`). Pure.
 */
import { compare } from '../model/evaluate.js';
import { distributionOf, worseIsHigher, worstOf } from '../model/distribution.js';
import type { Distribution, RepeatJudge, RepeatRun, RunReport, TargetResult, Verdict } from '../model/run-report.js';

export const REPEAT_JUDGES = ['median', 'worst', 'every'] as const satisfies readonly RepeatJudge[];

/** Every number a repeated report gives the distribution of: target values, latency percentiles, accounting, counters. */
export function judgedPaths(reports: readonly RunReport[]): string[] {
  const paths = new Set<string>();
  for (const r of reports) {
    for (const t of r.targets) paths.add(t.metric);
    for (const [name, m] of Object.entries(r.metrics)) if (m.count > 0) for (const p of ['p50', 'p90', 'p99', 'p999', 'max']) paths.add(`metrics.${name}.${p}`);
    for (const k of ['lost', 'duplicated', 'reordered', 'deliveryRatio']) paths.add(`accounting.${k}`);
    for (const k of Object.keys(r.counters)) paths.add(`counters.${k}`);
  }
  return [...paths];
}

/** The value at a report path as a target would read it (a latency with no samples is not measured). */
function valueAt(r: RunReport, path: string): number | null {
  const target = r.targets.find((t) => t.metric === path);
  if (target) return target.actual;
  let cur: unknown = r;
  for (const k of path.split('.')) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  if (path.startsWith('accounting.') && r.accounting.expected === 0) return null;
  if (path.startsWith('metrics.')) {
    const count = (r.metrics[path.split('.')[1]] ?? { count: 0 }).count;
    if (count === 0) return null;
  }
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : null;
}

/**
 * Seconds of the timeline from the measured phase on (the drain included: what a stall held back
 * arrives late) whose p99 is above `limitMs` — where a stall shows.
 */
export function secondsOver(r: RunReport, limitMs: number): number[] {
  return r.timeline.filter((p) => p.t >= 0 && p.p99Ms !== null && p.p99Ms > limitMs).map((p) => p.t);
}

function compact(r: RunReport, run: number): RepeatRun {
  const latency = r.targets.find((t) => t.metric.startsWith('metrics.broadcast_latency_ms.'));
  const over = latency ? secondsOver(r, latency.value) : [];
  return {
    run,
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    verdict: r.verdict,
    metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, { hdr: _hdr, ...m }]) => [k, m])),
    counters: r.counters,
    accounting: r.accounting,
    targets: r.targets.map((t) => ({ id: t.id, actual: t.actual, status: t.status })),
    ...(over.length ? { secondsOverTarget: over } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

/** One target judged over the runs: its value is the median (or worst) of the runs' values. */
function judgeTarget(template: TargetResult, finished: readonly RunReport[], judge: RepeatJudge): TargetResult {
  const values = finished.map((r) => r.targets.find((t) => t.id === template.id)?.actual ?? null);
  const actual = judge === 'median' ? distributionOf(values).median : worstOf(values, template.op, template.value);
  const status: TargetResult['status'] = template.status === 'off' ? 'off' : actual === null ? 'unknown' : compare(actual, template.op, template.value) ? 'pass' : 'fail';
  // A run's own explanation (its stalls) is about that run, not the judged value: each run keeps its figures in `repeat.runs`.
  const { explanation: _ownRun, ...rest } = template;
  return { ...rest, actual, status };
}

/**
 * The run whose figures stand for the whole: ordered by the first target's value (best first),
 * the middle one (`median`; of two middle ones, the worse) or the last (`worst`, `every`).
 */
function judgedIndex(finished: readonly RunReport[], judge: RepeatJudge): number {
  const first = finished[0]?.targets[0];
  if (!first) return finished.length - 1;
  const v = (r: RunReport) => r.targets.find((t) => t.id === first.id)?.actual ?? null;
  const higherWorse = worseIsHigher(first.op);
  const key = (r: RunReport) => {
    const x = v(r);
    if (x === null) return Infinity; // not measured: the worst
    return higherWorse ? x : -x;
  };
  const order = finished.map((r, i) => ({ i, k: key(r) })).sort((a, b) => a.k - b.k || a.i - b.i);
  if (judge === 'every') {
    const failed = finished.findIndex((r) => r.verdict !== 'pass');
    if (failed >= 0) return failed;
  }
  const pos = judge === 'median' ? Math.floor(order.length / 2) : order.length - 1;
  return order[pos].i;
}

export interface CombineOptions {
  count: number;
  judge: RepeatJudge;
  freshCluster: boolean;
  /** The whole run's start, duration and events (cluster start and teardown included). */
  startedAt: string;
  durationMs: number;
  events: RunReport['events'];
}

/**
 * Combines the runs' reports (in order; the last may be one that failed or was interrupted).
 * A run that errored makes the whole `error`, an interrupted one `interrupted`: the runs that
 * finished are kept, but a distribution with a hole in it is not judged as if complete.
 */
export function combineRuns(reports: readonly RunReport[], o: CombineOptions): RunReport {
  if (reports.length === 0) throw new Error('combineRuns: no run');
  const finished = reports.filter((r) => r.verdict === 'pass' || r.verdict === 'fail');
  const broken = reports.find((r) => r.verdict === 'error' || r.verdict === 'interrupted');
  const judgedAt = finished.length ? judgedIndex(finished, o.judge) : -1;
  const judged = judgedAt >= 0 ? finished[judgedAt] : reports[reports.length - 1];
  const judgedRun = judgedAt >= 0 ? reports.indexOf(judged) + 1 : null;

  const distribution: Record<string, Distribution> = {};
  for (const path of judgedPaths(finished)) distribution[path] = distributionOf(finished.map((r) => valueAt(r, path)));

  const template = finished[0]?.targets ?? [];
  let targets = template.map((t) => judgeTarget(t, finished, o.judge));
  let verdict: Verdict;
  if (broken) {
    verdict = broken.verdict;
    targets = [];
  } else if (finished.length < o.count) {
    verdict = 'error';
  } else {
    verdict = targets.every((t) => t.status === 'pass' || t.status === 'off') ? 'pass' : 'fail';
    // `every`: each run must pass on its own (an engine's own judgement included).
    if (o.judge === 'every' && finished.some((r) => r.verdict !== 'pass')) verdict = 'fail';
    // The engine failed a run itself (k6's exit 99) while every target read pass: judged as the targets say, noted.
  }
  const failedRuns = reports.map((r, i) => (r.verdict === 'pass' ? null : `${i + 1} (${r.verdict})`)).filter((x) => x !== null);
  const note = `${reports.length} of ${o.count} runs on ${o.freshCluster ? 'a fresh cluster each' : 'one cluster'}; targets judged on the ${o.judge === 'median' ? 'median of each value over the runs' : o.judge === 'worst' ? "worst run's value" : 'every run (each must pass)'}; top-level figures are run ${judgedRun ?? '—'}'s${failedRuns.length ? `; runs not passing on their own: ${failedRuns.join(', ')}` : ''}`;
  return {
    ...judged,
    startedAt: o.startedAt,
    finishedAt: new Date(Date.parse(o.startedAt) + o.durationMs).toISOString(),
    durationMs: o.durationMs,
    events: o.events,
    generator: { ...judged.generator, notes: [...judged.generator.notes, note] },
    targets,
    verdict,
    repeat: { count: o.count, judge: o.judge, freshCluster: o.freshCluster, judgedRun, runs: reports.map((r, i) => compact(r, i + 1)), distribution },
    ...(broken?.error ? { error: broken.error } : finished.length < o.count && !broken ? { error: { code: 'WSB_INTERNAL', message: `${finished.length} of ${o.count} runs finished` } } : {}),
  };
}
