import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  describeK6Exit,
  exitCodeForK6,
  ingestK6Summary,
  k6ThresholdFor,
  k6Thresholds,
  listThresholds,
  parseK6Summary,
  reconcileK6Thresholds,
  trendToMetricSummary,
  type K6Summary,
} from './summary.js';
import { evaluateTargets } from '../../model/evaluate.js';
import { SEED_TARGETS, withValue, type TargetSpec } from '../../model/targets.js';
import type { TargetResult } from '../../model/run-report.js';

/** The real k6 v0.48.0 outputs (fixtures/k6/README.md says how each was made). */
const fixture = (name: string): unknown => JSON.parse(readFileSync(fileURLToPath(new URL(`../../fixtures/k6/${name}`, import.meta.url)), 'utf8'));

describe('parseK6Summary on real k6 outputs', () => {
  it('reads --summary-export (pass): flat metrics typed from their keys, thresholds not crossed', () => {
    const s = parseK6Summary(fixture('experimental-pass.summary-export.json'));
    expect(s.format).toBe('summary-export');
    expect(s.testRunDurationMs).toBeNull();
    const lat = s.metrics.ws_echo_latency;
    expect(lat.type).toBe('trend');
    expect(lat.values).toMatchObject({ count: 4950, med: 2, 'p(99)': 28 });
    expect(lat.thresholds).toEqual([
      { expr: 'p(95)<50', ok: true },
      { expr: 'p(99)<200', ok: true },
    ]);
    expect(s.metrics.ws_msgs_sent.type).toBe('counter');
    expect(s.metrics.ws_echo_match.type).toBe('rate');
    expect(s.metrics.vus.type).toBe('gauge');
    expect(s.checks).toEqual([{ name: 'sent at least one message', passes: 50, fails: 0 }]);
    expect(listThresholds(s).every((t) => t.ok)).toBe(true);
  });

  it('reads --summary-export (fail, k6 exit 99): `true` marks the crossed threshold, inverted to ok:false', () => {
    const s = parseK6Summary(fixture('experimental-fail.summary-export.json'));
    expect(s.format).toBe('summary-export');
    expect(s.metrics.ws_echo_latency.thresholds).toEqual([
      { expr: 'p(95)<0', ok: false },
      { expr: 'p(99)<200', ok: true },
    ]);
    expect(listThresholds(s).filter((t) => !t.ok)).toEqual([{ metric: 'ws_echo_latency', expr: 'p(95)<0', ok: false }]);
  });

  it('reads handleSummary JSON (pass): typed metrics with values, state, checks as an array', () => {
    const s = parseK6Summary(fixture('experimental-pass.handle-summary.json'));
    expect(s.format).toBe('handle-summary');
    expect(s.testRunDurationMs).toBeCloseTo(10106.809492, 3);
    const lat = s.metrics.ws_echo_latency;
    expect(lat).toMatchObject({ type: 'trend', contains: 'time' });
    expect(lat.values).toMatchObject({ count: 4950, 'p(99)': 35, max: 68 });
    expect(lat.thresholds.every((t) => t.ok)).toBe(true);
    expect(s.checks).toEqual([{ name: 'sent at least one message', passes: 50, fails: 0 }]);
  });

  it('reads handleSummary JSON (fail, k6 exit 99): {ok:false} is the crossed threshold', () => {
    const s = parseK6Summary(fixture('experimental-fail.handle-summary.json'));
    expect(s.format).toBe('handle-summary');
    expect(listThresholds(s).filter((t) => !t.ok)).toEqual([{ metric: 'ws_echo_latency', expr: 'p(95)<0', ok: false }]);
    expect(listThresholds(s).filter((t) => t.ok)).toHaveLength(4);
  });

  it('reads the k6/ws (legacy module) outputs in both formats alike', () => {
    const a = parseK6Summary(fixture('legacy-pass.summary-export.json'));
    const b = parseK6Summary(fixture('legacy-pass.handle-summary.json'));
    expect(a.format).toBe('summary-export');
    expect(b.format).toBe('handle-summary');
    expect(Object.keys(a.metrics).sort()).toEqual(Object.keys(b.metrics).sort());
    for (const s of [a, b]) expect(s.metrics.ws_echo_latency.type).toBe('trend');
  });

  it('reads a socket.io run with the default summaryTrendStats: no count, no p(99)', () => {
    const s = parseK6Summary(fixture('socketio-experimental.summary-export.json'));
    expect(Object.keys(s.metrics.sio_echo_latency.values).sort()).toEqual(['avg', 'max', 'med', 'min', 'p(90)', 'p(95)']);
    expect(trendToMetricSummary(s.metrics.sio_echo_latency)).toEqual({ missing: ['count', 'p(99)', 'p(99.9)'] });
    expect(s.metrics.sio_pongs_sent).toMatchObject({ type: 'counter', values: { count: 74 } });
  });

  it('rejects what is not a k6 summary with WSB_REPORT_INVALID', () => {
    expect(() => parseK6Summary([], 'x.json')).toThrow(expect.objectContaining({ code: 'WSB_REPORT_INVALID' }));
    expect(() => parseK6Summary({ root_group: {} }, 'x.json')).toThrow(/x\.json is not a k6 summary: no "metrics" object/);
    expect(() => parseK6Summary({ metrics: { a: { type: 'histogram', values: {} } } })).toThrow(/unknown type/);
  });
});

describe('trendToMetricSummary', () => {
  it('maps k6 Trend stats to the report fields (med → p50, avg → mean, p(99.9) → p999)', () => {
    const s = parseK6Summary(fixture('experimental-pass.handle-summary.json'));
    const m = s.metrics.ws_echo_latency;
    expect(trendToMetricSummary(m)).toEqual({ missing: ['p(99.9)'] });
    const withP999 = { ...m, values: { ...m.values, 'p(99.9)': 60 } };
    expect(trendToMetricSummary(withP999)).toEqual({ unit: 'ms', count: 4950, min: 0, mean: m.values.avg, p50: 3, p90: 11, p95: 18, p99: 35, p999: 60, max: 68 });
  });
});

/**
 * A handleSummary document as wsbench's cross-node-broadcast k6 script writes it: the shape of the
 * real fixture (experimental-pass.handle-summary.json), with the script's metric names (no real
 * k6 run of the script is in fixtures/: k6 is not installable here).
 */
function scriptSummary(over: { p99?: number; crossP99?: number; duplicated?: number; thresholdsOk?: boolean } = {}): K6Summary {
  const trend = (count: number, p99: number) => ({
    type: 'trend',
    contains: 'time',
    values: { avg: 2.1, min: 0, med: 2, max: 40, 'p(90)': 4, 'p(95)': 6, 'p(99)': p99, 'p(99.9)': 30, count },
  });
  const counter = (count: number) => ({ type: 'counter', contains: 'default', values: { count, rate: count / 25 } });
  const ok = over.thresholdsOk ?? true;
  return parseK6Summary({
    root_group: { name: '', path: '', id: 'x', groups: [], checks: [] },
    options: { summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)', 'count'], summaryTimeUnit: '', noColor: false },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 31000.5 },
    metrics: {
      broadcast_latency_ms: { ...trend(9000, over.p99 ?? 9), thresholds: { 'p(99)<=50': { ok } } },
      'broadcast_latency_ms{path:same}': { ...trend(3000, 7), thresholds: { 'max>=0': { ok: true } } },
      'broadcast_latency_ms{path:cross}': { ...trend(6000, over.crossP99 ?? 10), thresholds: { 'p(99)<=50': { ok: true } } },
      connect_time_ms: trend(310, 20),
      connections: counter(310),
      'connections_per_node{node:node-1}': { ...counter(100), thresholds: { 'count>=0': { ok: true } } },
      'connections_per_node{node:node-2}': { ...counter(110), thresholds: { 'count>=0': { ok: true } } },
      'connections_per_node{node:node-3}': { ...counter(100), thresholds: { 'count>=0': { ok: true } } },
      messages_published: counter(400),
      deliveries_expected: counter(12000),
      deliveries_received: counter(11990),
      'deliveries_received{path:same}': { ...counter(3990), thresholds: { 'count>=0': { ok: true } } },
      'deliveries_received{path:cross}': { ...counter(8000), thresholds: { 'count>=0': { ok: true } } },
      'deliveries_expected{path:same}': { ...counter(4000), thresholds: { 'count>=0': { ok: true } } },
      'deliveries_expected{path:cross}': { ...counter(8000), thresholds: { 'count>=0': { ok: true } } },
      deliveries_duplicated: { ...counter(over.duplicated ?? 0), thresholds: { 'count==0': { ok: (over.duplicated ?? 0) === 0 } } },
      deliveries_reordered: { ...counter(0), thresholds: { 'count==0': { ok: true } } },
      deliveries_in_window: counter(9000),
      ws_msgs_sent: counter(1500),
      vus_max: { type: 'gauge', contains: 'default', values: { value: 7, min: 7, max: 7 } },
    },
  });
}

describe('ingestK6Summary (the cross-node-broadcast script’s metric names)', () => {
  it('fills metrics, counters, accounting and connections per node', () => {
    const r = ingestK6Summary(scriptSummary(), { measuredSeconds: 20 });
    expect(Object.keys(r.metrics).sort()).toEqual(['broadcast_latency_cross_node_ms', 'broadcast_latency_ms', 'broadcast_latency_same_node_ms', 'connect_time_ms']);
    expect(r.metrics.broadcast_latency_ms).toMatchObject({ unit: 'ms', count: 9000, p99: 9, p999: 30 });
    expect(r.metrics.broadcast_latency_ms.hdr).toBeUndefined();
    expect(r.counters).toMatchObject({ connections: 310, messages_published: 400, deliveries_per_sec: 450, k6_ws_msgs_sent: 1500, k6_vus_max: 7, k6_test_run_duration_ms: 31001 });
    expect(r.accounting).toMatchObject({ expected: 12000, received: 11990, lost: 10, duplicated: 0, reordered: 0 });
    expect(r.accounting.sameNode).toMatchObject({ expected: 4000, received: 3990, lost: 10 });
    expect(r.accounting.crossNode).toMatchObject({ expected: 8000, received: 8000, lost: 0, deliveryRatio: 1 });
    expect(r.connectionsPerNode).toEqual({ 'node-1': 100, 'node-2': 110, 'node-3': 100 });
    expect(r.notes).toEqual([]);
  });

  it('notes a metric left out for missing stats and a split that does not add up to the total', () => {
    const s = scriptSummary();
    delete s.metrics.connect_time_ms.values['p(99.9)'];
    s.metrics.deliveries_expected.values.count = 12100;
    const r = ingestK6Summary(s);
    expect(r.metrics.connect_time_ms).toBeUndefined();
    expect(r.counters.deliveries_per_sec).toBeUndefined();
    expect(r.notes).toEqual([
      'k6 metric connect_time_ms lacks p(99.9) (summaryTrendStats): left out',
      'k6 engine: the same/cross-node split counts only publisher streams a receiver heard from at least once (a stream never heard has no known path: 100 of 110 lost deliveries are in neither)',
    ]);
  });
});

describe('ingestK6Summary (the reconnection-storm script’s metric names)', () => {
  const storm = (neverBack: number) =>
    parseK6Summary({
      state: { testRunDurationMs: 30000 },
      metrics: {
        reconnect_time_ms: { type: 'trend', contains: 'time', values: { avg: 900, min: 10, med: 800, max: 1990, 'p(90)': 1400, 'p(95)': 1500, 'p(99)': 1800, 'p(99.9)': 1980, count: 200 } },
        'reconnect_time_ms{storm:socketio}': { type: 'trend', contains: 'time', values: { avg: 1100, min: 500, med: 1100, max: 1507, 'p(90)': 1400, 'p(95)': 1450, 'p(99)': 1500, 'p(99.9)': 1507, count: 100 } },
        never_back: { type: 'counter', contains: 'default', values: { count: neverBack, rate: 0 } },
        disconnects: { type: 'counter', contains: 'default', values: { count: 200, rate: 0 } },
      },
    });

  it('reports the per-storm reconnect times, and the longest drop → rejoin as reconnect_all_back_ms when every client came back', () => {
    const r = ingestK6Summary(storm(0));
    expect(r.metrics.reconnect_time_socketio_ms).toMatchObject({ count: 100, max: 1507 });
    expect(r.counters).toMatchObject({ reconnect_all_back_ms: 1990, never_back: 0, disconnects: 200 });
    expect(ingestK6Summary(storm(3)).counters.reconnect_all_back_ms).toBeUndefined();
  });
});

describe('k6 thresholds from targets', () => {
  it('maps latency percentiles, duplicates and order to k6 thresholds; loss and throughput stay with wsbench', () => {
    expect(k6ThresholdFor(SEED_TARGETS['latency-p99'])).toEqual({ targetId: 'latency-p99', metric: 'broadcast_latency_ms', expr: 'p(99)<=50' });
    expect(k6ThresholdFor(SEED_TARGETS['cross-node-latency-p99'])).toEqual({ targetId: 'cross-node-latency-p99', metric: 'broadcast_latency_ms{path:cross}', expr: 'p(99)<=50' });
    expect(k6ThresholdFor(SEED_TARGETS['no-duplicates'])).toEqual({ targetId: 'no-duplicates', metric: 'deliveries_duplicated', expr: 'count==0' });
    expect(k6ThresholdFor(SEED_TARGETS['in-order'])).toEqual({ targetId: 'in-order', metric: 'deliveries_reordered', expr: 'count==0' });
    // connections_peak is the nodes' own count sampled by the harness (engines/k6/process-monitor.ts), not a k6 metric.
    expect(k6ThresholdFor(SEED_TARGETS.connections)).toBeNull();
    expect(k6ThresholdFor(SEED_TARGETS['reconnect-p99'])).toEqual({ targetId: 'reconnect-p99', metric: 'reconnect_time_ms', expr: 'p(99)<=5000' });
    expect(k6ThresholdFor(SEED_TARGETS['no-loss'])).toBeNull();
    expect(k6ThresholdFor(SEED_TARGETS.throughput)).toBeNull();
    expect(k6ThresholdFor(withValue('latency-p99', 30))?.expr).toBe('p(99)<=30');
  });

  it('builds the thresholds option with always-true thresholds for the submetrics the report needs', () => {
    const specs: TargetSpec[] = ['latency-p99', 'cross-node-latency-p99', 'no-loss'].map((id) => SEED_TARGETS[id]);
    const { thresholds, specs: out } = k6Thresholds(specs, {
      trends: ['broadcast_latency_ms{path:same}', 'broadcast_latency_ms{path:cross}'],
      counters: ['connections_per_node{node:node-1}'],
    });
    expect(thresholds).toEqual({
      broadcast_latency_ms: ['p(99)<=50'],
      'broadcast_latency_ms{path:cross}': ['p(99)<=50'],
      'broadcast_latency_ms{path:same}': ['max>=0'],
      'connections_per_node{node:node-1}': ['count>=0'],
    });
    expect(out.map((s) => s.targetId)).toEqual(['latency-p99', 'cross-node-latency-p99']);
  });

  it('gives k6 no threshold for a target switched off (k6 would fail the run on a target nobody judges)', () => {
    const off = { ...SEED_TARGETS['cross-node-latency-p99'], off: true as const };
    const { thresholds, specs: out } = k6Thresholds([SEED_TARGETS['latency-p99'], off]);
    expect(thresholds).toEqual({ broadcast_latency_ms: ['p(99)<=50'] });
    expect(out.map((s) => s.targetId)).toEqual(['latency-p99']);
  });
});

describe('reconcileK6Thresholds and the exit-code mapping', () => {
  const targetIds = ['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order'];
  const specsFor = (ids: string[]) => k6Thresholds(ids.map((id) => SEED_TARGETS[id])).specs;
  const evaluate = (s: K6Summary): TargetResult[] => {
    const ing = ingestK6Summary(s);
    return evaluateTargets(
      { metrics: ing.metrics, counters: ing.counters, accounting: ing.accounting } as Parameters<typeof evaluateTargets>[0],
      targetIds.map((id) => SEED_TARGETS[id]),
    );
  };

  it('agrees with k6 when both pass; wsbench alone fails the loss it sees', () => {
    const s = scriptSummary();
    const r = reconcileK6Thresholds(evaluate(s), specsFor(targetIds), s, 0);
    expect(r.targets.map((t) => [t.id, t.status])).toEqual([
      ['latency-p99', 'pass'],
      ['cross-node-latency-p99', 'pass'],
      ['no-loss', 'fail'],
      ['no-duplicates', 'pass'],
      ['in-order', 'pass'],
    ]);
    expect(r.notes).toEqual([]);
  });

  it('fails a target whose k6 threshold was crossed even where the summary value passes (k6 exit 99 never passes)', () => {
    const s = scriptSummary({ thresholdsOk: false });
    const r = reconcileK6Thresholds(evaluate(s), specsFor(targetIds), s, 99);
    expect(r.targets.find((t) => t.id === 'latency-p99')?.status).toBe('fail');
    expect(r.notes).toEqual(["target latency-p99: k6 crossed threshold broadcast_latency_ms: p(99)<=50 although the summary's value passes; the target fails"]);
  });

  it('keeps an agreeing failure as is (duplicates seen by both)', () => {
    const s = scriptSummary({ duplicated: 3, p99: 80, thresholdsOk: false });
    const r = reconcileK6Thresholds(evaluate(s), specsFor(targetIds), s, 99);
    expect(r.targets.find((t) => t.id === 'no-duplicates')).toMatchObject({ status: 'fail', actual: 3 });
    expect(r.targets.find((t) => t.id === 'latency-p99')).toMatchObject({ status: 'fail', actual: 80 });
    expect(r.notes).toEqual([]);
  });

  it('notes an exit 99 whose crossed thresholds are not wsbench targets (the real failing fixture)', () => {
    const s = parseK6Summary(fixture('experimental-fail.handle-summary.json'));
    const r = reconcileK6Thresholds([], [], s, 99);
    expect(r.notes).toEqual(['k6 exited 99 (thresholds crossed): ws_echo_latency: p(95)<0, none of them a wsbench target']);
  });

  it('maps k6 exit codes: 0 → 0, 99 (thresholds) → 1, anything else or a signal → 2', () => {
    expect(exitCodeForK6(0)).toBe(0);
    expect(exitCodeForK6(99)).toBe(1);
    for (const c of [1, 97, 104, 105, 107, 108, 255]) expect(exitCodeForK6(c)).toBe(2);
    expect(exitCodeForK6(null)).toBe(2);
    expect(describeK6Exit(107)).toBe('k6 exited 107 (script exception)');
    expect(describeK6Exit(3)).toBe('k6 exited 3');
    expect(describeK6Exit(null, 'SIGKILL')).toBe('k6 was killed by SIGKILL');
  });
});
