/**
 * k6's end-of-test summaries, read into the RunReport: pure functions, no I/O.
 *
 * k6 writes its summary in two JSON shapes (real examples in `fixtures/k6/`, format notes in
 * `fixtures/k6/README.md`):
 * - **handleSummary** (`JSON.stringify(data)` from the script's `handleSummary`): top level
 *   `{root_group, options, state, metrics}`; each metric is `{type, contains, values, thresholds?}`
 *   and a threshold is `{"p(95)<50": {ok: true}}` — `ok: false` means it FAILED.
 * - **`--summary-export`** (the older, flat format): top level `{root_group, metrics}`; each metric
 *   is flat (`{avg, min, med, …}` for a Trend, `{count, rate}` for a Counter, `{passes, fails,
 *   value}` for a Rate, `{value, min, max}` for a Gauge) and a threshold is `{"p(95)<50": false}` —
 *   the value is INVERTED: `true` means the threshold FAILED.
 *
 * Both are normalised to one K6Summary; `ingestK6Summary` maps it to the report's metrics,
 * counters and accounting, and `reconcileK6Thresholds` folds k6's threshold verdicts into the
 * evaluated targets. Percentiles come from k6's own Trend computation over every sample (k6 keeps
 * them all), not from an HDR histogram, and wsbench's k6 scripts time with `Date.now()`, whole
 * milliseconds: the engine says both in the report's notes.
 */
import { WsbenchError } from '../../common/errors.js';
import type { Accounting, MetricSummary, TargetResult } from '../../model/run-report.js';
import type { TargetSpec } from '../../model/targets.js';

export type K6MetricType = 'trend' | 'counter' | 'rate' | 'gauge';

export interface K6Threshold {
  /** The threshold expression as written in the script, e.g. `p(99)<=50`. */
  expr: string;
  /** False when k6 judged it crossed (already un-inverted for `--summary-export`). */
  ok: boolean;
}

export interface K6Metric {
  /** Metric name, with the tag filter for a submetric: `broadcast_latency_ms{path:cross}`. */
  name: string;
  type: K6MetricType;
  /** `time` for Trends in ms (handleSummary only; `--summary-export` does not say). */
  contains?: string;
  /** Aggregates: Trend stats as named by summaryTrendStats (`avg`, `med`, `p(99)`, `count`, …), `count`/`rate`, `passes`/`fails`/`value`, `value`/`min`/`max`. */
  values: Record<string, number>;
  thresholds: K6Threshold[];
}

export interface K6Summary {
  format: 'handle-summary' | 'summary-export';
  metrics: Record<string, K6Metric>;
  checks: Array<{ name: string; passes: number; fails: number }>;
  /** From handleSummary's `state.testRunDurationMs`; null for `--summary-export`. */
  testRunDurationMs: number | null;
}

/** The Trend stats wsbench asks k6 for (`--summary-trend-stats`): everything a MetricSummary needs. */
export const K6_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)', 'count'] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function numbers(o: Record<string, unknown>, skip: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) if (!skip.includes(k) && typeof v === 'number') out[k] = v;
  return out;
}

function invalid(source: string, why: string): WsbenchError {
  return new WsbenchError('WSB_REPORT_INVALID', `${source} is not a k6 summary: ${why}`, {
    hint: 'k6 writes it with --summary-export or from handleSummary; see the k6 output in the run folder (logs/k6.*.log)',
  });
}

/** The flat `--summary-export` entry's type, from the keys present (the format does not name it). */
function inferType(values: Record<string, number>): K6MetricType {
  if ('passes' in values && 'fails' in values) return 'rate';
  if ('avg' in values || 'med' in values || Object.keys(values).some((k) => k.startsWith('p('))) return 'trend';
  if ('count' in values && 'rate' in values) return 'counter';
  return 'gauge';
}

/**
 * Normalises either k6 summary format (detected from its shape) into a K6Summary. Throws
 * WSB_REPORT_INVALID when `json` is neither. `source` names the file in messages.
 */
export function parseK6Summary(json: unknown, source = 'the k6 summary'): K6Summary {
  if (!isRecord(json)) throw invalid(source, 'not a JSON object');
  if (!isRecord(json.metrics)) throw invalid(source, 'no "metrics" object');
  const entries = Object.entries(json.metrics);
  // handleSummary's data has `state`/`options` and wraps each metric's aggregates in `values`.
  const handle = 'state' in json || 'options' in json || entries.some(([, m]) => isRecord(m) && isRecord(m.values));
  const metrics: Record<string, K6Metric> = {};
  for (const [name, raw] of entries) {
    if (!isRecord(raw)) throw invalid(source, `metric "${name}" is not an object`);
    if (handle) {
      if (!isRecord(raw.values)) throw invalid(source, `metric "${name}" has no "values"`);
      const type = raw.type;
      if (type !== 'trend' && type !== 'counter' && type !== 'rate' && type !== 'gauge') throw invalid(source, `metric "${name}" has unknown type ${JSON.stringify(type)}`);
      const thresholds: K6Threshold[] = [];
      if (isRecord(raw.thresholds)) {
        for (const [expr, t] of Object.entries(raw.thresholds)) thresholds.push({ expr, ok: isRecord(t) && t.ok === true });
      }
      metrics[name] = { name, type, ...(typeof raw.contains === 'string' ? { contains: raw.contains } : {}), values: numbers(raw.values, []), thresholds };
    } else {
      const values = numbers(raw, ['thresholds']);
      const thresholds: K6Threshold[] = [];
      // --summary-export stores `true` for a threshold that FAILED (fixtures/k6/README.md).
      if (isRecord(raw.thresholds)) for (const [expr, crossed] of Object.entries(raw.thresholds)) thresholds.push({ expr, ok: crossed !== true });
      metrics[name] = { name, type: inferType(values), values, thresholds };
    }
  }
  const checks: K6Summary['checks'] = [];
  const rootChecks = isRecord(json.root_group) ? json.root_group.checks : undefined;
  // handleSummary: an array of checks; --summary-export: a map keyed by the check's name.
  const checkList = Array.isArray(rootChecks) ? rootChecks : isRecord(rootChecks) ? Object.values(rootChecks) : [];
  for (const c of checkList) {
    if (isRecord(c) && typeof c.name === 'string') checks.push({ name: c.name, passes: Number(c.passes) || 0, fails: Number(c.fails) || 0 });
  }
  const state = isRecord(json.state) ? json.state : undefined;
  return {
    format: handle ? 'handle-summary' : 'summary-export',
    metrics,
    checks,
    testRunDurationMs: state && typeof state.testRunDurationMs === 'number' ? state.testRunDurationMs : null,
  };
}

/** Every threshold in the summary, by metric, in the summary's order. */
export function listThresholds(summary: K6Summary): Array<{ metric: string; expr: string; ok: boolean }> {
  return Object.values(summary.metrics).flatMap((m) => m.thresholds.map((t) => ({ metric: m.name, expr: t.expr, ok: t.ok })));
}

const STAT_OF: Record<keyof Omit<MetricSummary, 'unit' | 'hdr'>, string> = {
  count: 'count',
  min: 'min',
  mean: 'avg',
  p50: 'med',
  p90: 'p(90)',
  p95: 'p(95)',
  p99: 'p(99)',
  p999: 'p(99.9)',
  max: 'max',
};

/**
 * A k6 Trend as a MetricSummary (no `hdr`: k6 keeps raw samples, not a histogram). Returns the
 * stats the summary lacks instead when any is missing (k6 only reports what summaryTrendStats
 * asked for; wsbench asks for K6_TREND_STATS).
 */
export function trendToMetricSummary(m: K6Metric, unit: MetricSummary['unit'] = 'ms'): MetricSummary | { missing: string[] } {
  const missing = Object.values(STAT_OF).filter((s) => typeof m.values[s] !== 'number');
  if (missing.length) return { missing };
  const v = (s: string) => m.values[s];
  return {
    unit,
    count: v('count'),
    min: v('min'),
    mean: v('avg'),
    p50: v('med'),
    p90: v('p(90)'),
    p95: v('p(95)'),
    p99: v('p(99)'),
    p999: v('p(99.9)'),
    max: v('max'),
  };
}

/**
 * The report's names for the metrics wsbench's k6 scripts produce: report metric → k6 metric (a
 * submetric where the split is a tag). Latencies are Trends in ms; the same/cross-node split is
 * the `path` tag of `broadcast_latency_ms`, which k6 only summarises when a threshold names the
 * submetric — the engine always sets one.
 */
export const K6_TRENDS: Readonly<Record<string, string>> = {
  broadcast_latency_ms: 'broadcast_latency_ms',
  broadcast_latency_same_node_ms: 'broadcast_latency_ms{path:same}',
  broadcast_latency_cross_node_ms: 'broadcast_latency_ms{path:cross}',
  connect_time_ms: 'connect_time_ms',
  reconnect_time_ms: 'reconnect_time_ms',
  reconnect_time_socketio_ms: 'reconnect_time_ms{storm:socketio}',
  reconnect_time_full_jitter_ms: 'reconnect_time_ms{storm:full-jitter}',
  ping_rtt_ms: 'ping_rtt_ms',
};

/** Report counter → k6 Counter (its `count`). The `k6_*` ones are k6's built-in metrics. */
export const K6_COUNTERS: Readonly<Record<string, string>> = {
  connections: 'connections',
  connections_open_at_check: 'connections_open_at_check',
  messages_scheduled: 'messages_scheduled',
  connect_failures: 'connect_failures',
  join_failures: 'join_failures',
  disconnects: 'disconnects',
  reconnects: 'reconnects',
  reconnect_attempts: 'reconnect_attempts',
  reconnect_failures: 'reconnect_failures',
  never_back: 'never_back',
  messages_published: 'messages_published',
  publish_failures: 'publish_failures',
  late_sends: 'late_sends',
  deliveries_expected: 'deliveries_expected',
  deliveries_received: 'deliveries_received',
  unexpected_arrivals: 'unexpected_arrivals',
  clock_anomalies: 'clock_anomalies',
  k6_ws_sessions: 'ws_sessions',
  k6_ws_msgs_sent: 'ws_msgs_sent',
  k6_ws_msgs_received: 'ws_msgs_received',
  k6_data_sent_bytes: 'data_sent',
  k6_data_received_bytes: 'data_received',
};

/** Accounting counters of the k6 scripts; each also exists as `{path:same}` / `{path:cross}` submetrics. */
export const K6_ACCOUNTING = {
  /**
   * From the schedule: every receiver adds every seq of every publisher planned for its room,
   * sent or not (issue 15 part 2); per path where the receiver heard the stream (else path unknown).
   */
  expected: 'deliveries_expected',
  received: 'deliveries_received',
  duplicated: 'deliveries_duplicated',
  reordered: 'deliveries_reordered',
} as const;

/** Counter per node id: `connections_per_node{node:<id>}`. */
export const K6_CONNECTIONS_PER_NODE = 'connections_per_node';

function counterValue(summary: K6Summary, name: string): number | null {
  const m = summary.metrics[name];
  if (!m) return null;
  if (m.type === 'gauge') return typeof m.values.value === 'number' ? m.values.value : null;
  return typeof m.values.count === 'number' ? m.values.count : null;
}

function accounting(expected: number, received: number, duplicated: number, reordered: number): Accounting {
  return {
    expected,
    received,
    lost: Math.max(0, expected - received),
    duplicated,
    reordered,
    deliveryRatio: expected === 0 ? 1 : received / expected,
  };
}

export interface K6Ingested {
  metrics: Record<string, MetricSummary>;
  counters: Record<string, number>;
  accounting: Accounting & { sameNode: Accounting; crossNode: Accounting };
  connectionsPerNode: Record<string, number>;
  /** What could not be read, and the caveats of the numbers. */
  notes: string[];
}

/**
 * Maps a k6 summary of one of wsbench's k6 scripts to the report's metrics (K6_TRENDS), counters
 * (K6_COUNTERS, plus `deliveries_per_sec` when the script counted deliveries in the measured
 * window and `measuredSeconds` is given), accounting and connections per node.
 *
 * Accounting: `expected` comes from the schedule (every receiver counts every seq of every
 * publisher planned for its room, sent or not), `received`/`duplicated`/`reordered` the receivers'
 * counts, `lost = expected − received`. The same/cross-node split can only count streams a
 * receiver heard from at least once (a receiver learns the publisher's node from the payload), so a
 * stream that never arrived is lost in the total but in neither split; a note says so.
 */
export function ingestK6Summary(summary: K6Summary, opts: { measuredSeconds?: number } = {}): K6Ingested {
  const notes: string[] = [];
  const metrics: Record<string, MetricSummary> = {};
  for (const [reportName, k6Name] of Object.entries(K6_TRENDS)) {
    const m = summary.metrics[k6Name];
    if (!m) continue;
    if (m.type !== 'trend') {
      notes.push(`k6 metric ${k6Name} is a ${m.type}, not a Trend: left out`);
      continue;
    }
    const s = trendToMetricSummary(m, 'ms');
    if ('missing' in s) notes.push(`k6 metric ${k6Name} lacks ${s.missing.join(', ')} (summaryTrendStats): left out`);
    else metrics[reportName] = s;
  }
  const counters: Record<string, number> = {};
  for (const [reportName, k6Name] of Object.entries(K6_COUNTERS)) {
    const v = counterValue(summary, k6Name);
    if (v !== null) counters[reportName] = v;
  }
  const vusMax = summary.metrics.vus_max;
  if (vusMax && typeof vusMax.values.max === 'number') counters.k6_vus_max = vusMax.values.max;
  const checks = summary.metrics.checks;
  if (checks && typeof checks.values.fails === 'number') counters.k6_checks_failed = checks.values.fails;
  if (summary.testRunDurationMs !== null) counters.k6_test_run_duration_ms = Math.round(summary.testRunDurationMs);
  // reconnection-storm: every client dropped at the same instant (NGINX stopped), so the longest
  // drop → rejoin is the time until all were back — known only when none stayed down.
  const reconnect = metrics.reconnect_time_ms;
  if (reconnect && reconnect.count > 0 && counters.never_back === 0) counters.reconnect_all_back_ms = reconnect.max;
  const inWindow = counterValue(summary, 'deliveries_in_window');
  if (inWindow !== null && opts.measuredSeconds && opts.measuredSeconds > 0) counters.deliveries_per_sec = Math.round(inWindow / opts.measuredSeconds);

  const c = (name: string) => counterValue(summary, name) ?? 0;
  const split = (path: 'same' | 'cross') =>
    accounting(
      c(`${K6_ACCOUNTING.expected}{path:${path}}`),
      // Counted at close by the stream's path, as expected is (a stream whose publisher moved node keeps one path).
      counterValue(summary, `deliveries_first_arrivals{path:${path}}`) ?? c(`${K6_ACCOUNTING.received}{path:${path}}`),
      c(`${K6_ACCOUNTING.duplicated}{path:${path}}`),
      c(`${K6_ACCOUNTING.reordered}{path:${path}}`),
    );
  const total = accounting(c(K6_ACCOUNTING.expected), c(K6_ACCOUNTING.received), c(K6_ACCOUNTING.duplicated), c(K6_ACCOUNTING.reordered));
  const sameNode = split('same');
  const crossNode = split('cross');
  if (summary.metrics[K6_ACCOUNTING.expected] && total.lost !== sameNode.lost + crossNode.lost) {
    notes.push(
      `k6 engine: the same/cross-node split counts only publisher streams a receiver heard from at least once (a stream never heard has no known path: ${total.lost - sameNode.lost - crossNode.lost} of ${total.lost} lost deliveries are in neither)`,
    );
  }

  const connectionsPerNode: Record<string, number> = {};
  const prefix = `${K6_CONNECTIONS_PER_NODE}{node:`;
  for (const m of Object.values(summary.metrics)) {
    if (m.name.startsWith(prefix) && m.name.endsWith('}')) connectionsPerNode[m.name.slice(prefix.length, -1)] = m.values.count ?? 0;
  }
  return { metrics, counters, accounting: { ...total, sameNode, crossNode }, connectionsPerNode, notes };
}

/** A k6 threshold wsbench set for a target. */
export interface K6ThresholdSpec {
  targetId: string;
  /** k6 metric (or submetric) the threshold is on. */
  metric: string;
  /** e.g. `p(99)<=50`. */
  expr: string;
}

/** Report stat → k6 threshold aggregation (k6 Trend thresholds know avg, min, max, med, p(N); not count). */
const K6_STAT_FOR_REPORT_STAT: Record<string, string> = { min: 'min', mean: 'avg', p50: 'med', p90: 'p(90)', p95: 'p(95)', p99: 'p(99)', p999: 'p(99.9)', max: 'max' };

/** Report accounting path → k6 counter, for the fields a k6 threshold can judge on its own. */
const ACCOUNTING_THRESHOLDS: Record<string, string> = {
  'accounting.duplicated': K6_ACCOUNTING.duplicated,
  'accounting.reordered': K6_ACCOUNTING.reordered,
  'accounting.sameNode.duplicated': `${K6_ACCOUNTING.duplicated}{path:same}`,
  'accounting.sameNode.reordered': `${K6_ACCOUNTING.reordered}{path:same}`,
  'accounting.crossNode.duplicated': `${K6_ACCOUNTING.duplicated}{path:cross}`,
  'accounting.crossNode.reordered': `${K6_ACCOUNTING.reordered}{path:cross}`,
};

/**
 * The k6 threshold that judges the same thing as `target`, or null when k6 cannot express it
 * (e.g. `accounting.lost` is a difference of two counters; `counters.deliveries_per_sec` is a
 * rate over the measured window only): those are judged by wsbench alone.
 */
export function k6ThresholdFor(target: TargetSpec): K6ThresholdSpec | null {
  const [root, name, stat] = target.metric.split('.');
  let metric: string | undefined;
  let k6Stat: string | undefined;
  if (root === 'metrics' && name && stat && K6_TRENDS[name] && K6_STAT_FOR_REPORT_STAT[stat]) {
    metric = K6_TRENDS[name];
    k6Stat = K6_STAT_FOR_REPORT_STAT[stat];
  } else if (root === 'counters' && name && stat === undefined && K6_COUNTERS[name] && !name.startsWith('k6_')) {
    metric = K6_COUNTERS[name];
    k6Stat = 'count';
  } else if (ACCOUNTING_THRESHOLDS[target.metric]) {
    metric = ACCOUNTING_THRESHOLDS[target.metric];
    k6Stat = 'count';
  }
  if (!metric || !k6Stat) return null;
  return { targetId: target.id, metric, expr: `${k6Stat}${target.op}${target.value}` };
}

/**
 * The `thresholds` option for the script: one threshold per target k6 can judge, plus
 * always-true thresholds on the submetrics the report needs, so that k6 summarises them
 * (`max>=0` on a Trend, `count>=0` on a Counter: k6 only summarises a submetric a threshold names).
 */
export function k6Thresholds(targets: readonly TargetSpec[], extraSubmetrics: { trends?: string[]; counters?: string[] } = {}): {
  thresholds: Record<string, string[]>;
  specs: K6ThresholdSpec[];
} {
  const thresholds: Record<string, string[]> = {};
  const add = (metric: string, expr: string) => {
    const l = (thresholds[metric] ??= []);
    if (!l.includes(expr)) l.push(expr);
  };
  const specs: K6ThresholdSpec[] = [];
  for (const t of targets) {
    // A target switched off (`false`, `--target id=off`) is not judged: k6 must not fail on it either.
    if (t.off) continue;
    const s = k6ThresholdFor(t);
    if (!s) continue;
    specs.push(s);
    add(s.metric, s.expr);
  }
  for (const m of extraSubmetrics.trends ?? []) if (!thresholds[m]) add(m, 'max>=0');
  for (const m of extraSubmetrics.counters ?? []) if (!thresholds[m]) add(m, 'count>=0');
  return { thresholds, specs };
}

/**
 * Folds k6's threshold verdicts into the targets wsbench evaluated from the same numbers.
 * wsbench's evaluation stays the primary one (it also judges what k6 cannot, and counts a metric
 * with no samples as unknown, where k6 passes it); where k6 crossed a threshold that wsbench
 * passed, the target fails (k6's verdict stands: exit 99 must not become a pass), and every
 * disagreement is noted. `k6ExitCode` 99 with no crossed threshold of ours is noted as well.
 */
export function reconcileK6Thresholds(
  targets: readonly TargetResult[],
  specs: readonly K6ThresholdSpec[],
  summary: K6Summary | null,
  k6ExitCode: number | null,
): { targets: TargetResult[]; notes: string[] } {
  const notes: string[] = [];
  const verdicts = new Map<string, boolean>();
  if (summary) for (const t of listThresholds(summary)) verdicts.set(`${t.metric}\u0000${t.expr}`, t.ok);
  let crossedOurs = false;
  const out = targets.map((t) => {
    const spec = specs.find((s) => s.targetId === t.id);
    if (!spec) return t;
    const ok = verdicts.get(`${spec.metric}\u0000${spec.expr}`);
    if (ok === undefined) {
      if (summary) notes.push(`k6 summary has no verdict for threshold ${spec.metric}: ${spec.expr} (target ${t.id})`);
      return t;
    }
    if (!ok) crossedOurs = true;
    if (!ok && t.status === 'pass') {
      notes.push(`target ${t.id}: k6 crossed threshold ${spec.metric}: ${spec.expr} although the summary's value passes; the target fails`);
      return { ...t, status: 'fail' as const };
    }
    if (ok && t.status === 'fail') notes.push(`target ${t.id}: k6 passed threshold ${spec.metric}: ${spec.expr}, wsbench's evaluation fails it`);
    return t;
  });
  if (k6ExitCode === 99 && !crossedOurs) {
    const crossed = summary ? listThresholds(summary).filter((t) => !t.ok) : [];
    notes.push(`k6 exited 99 (thresholds crossed)${crossed.length ? `: ${crossed.map((t) => `${t.metric}: ${t.expr}`).join(', ')}` : ''}, none of them a wsbench target`);
  }
  return { targets: out, notes };
}

/** What k6's exit codes mean (k6 `errext/exitcodes`, v0.48; 97 is also a cloud abort in v2). */
export const K6_EXIT_CODES: Readonly<Record<number, string>> = {
  0: 'OK',
  97: 'cloud test run failed',
  98: 'cloud failed to get progress',
  99: 'thresholds have failed',
  100: 'setup timeout',
  101: 'teardown timeout',
  102: 'generic timeout',
  103: 'stopped from the REST API',
  104: 'invalid config',
  105: 'external abort (a signal)',
  106: 'cannot start the REST API',
  107: 'script exception',
  108: 'script aborted (test.abort())',
  109: 'Go panic',
};

/**
 * wsbench's exit code for a k6 exit code: 0 → 0; 99 (thresholds crossed) → 1, a target missed;
 * anything else (and no exit code, i.e. killed by a signal) → 2, the run itself failed.
 */
export function exitCodeForK6(code: number | null): 0 | 1 | 2 {
  if (code === 0) return 0;
  if (code === 99) return 1;
  return 2;
}

/** `k6 exited 107 (script exception)`. */
export function describeK6Exit(code: number | null, signal: string | null = null): string {
  if (code === null) return `k6 was killed by ${signal ?? 'a signal'}`;
  const what = K6_EXIT_CODES[code];
  return `k6 exited ${code}${what ? ` (${what})` : ''}`;
}
