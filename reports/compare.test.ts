import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compareReports, judge, parseMetricTolerance, parsePercent, renderComparison } from './compare.js';
import { WsbenchError } from '../common/errors.js';
import type { RunReport } from '../model/run-report.js';

const load = (name: string): RunReport => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));
const baseline = () => load('report-default-run.json');

/** A copy of the baseline with every latency percentile of every metric scaled by `f`. */
function scaledLatency(f: number): RunReport {
  const r = baseline();
  for (const m of Object.values(r.metrics)) for (const p of ['p50', 'p90', 'p99', 'p999', 'max'] as const) m[p] = m[p] * f;
  return r;
}

function thrown(fn: () => unknown): WsbenchError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WsbenchError);
    return e as WsbenchError;
  }
  throw new Error('did not throw');
}

describe('judge', () => {
  it('knows which direction is worse', () => {
    expect(judge('m', 'ms', 'lower', 10, 12, 10).status).toBe('regression');
    expect(judge('m', 'ms', 'lower', 10, 11, 10).status).toBe('ok');
    expect(judge('m', 'ms', 'lower', 10, 8, 10).status).toBe('improvement');
    expect(judge('t', '', 'higher', 100, 85, 10).status).toBe('regression');
    expect(judge('t', '', 'higher', 100, 120, 10).status).toBe('improvement');
    expect(judge('t', '', 'higher', 100, 95, 10)).toMatchObject({ status: 'ok', changePct: -5, reason: '-5.00%, within ±10%' });
    expect(judge('m', 'ms', 'lower', 10, 15, 10).reason).toBe('+50.0% > 10%');
    expect(judge('t', '', 'higher', 100, 50, 10).reason).toBe('-50.0% < -10%');
  });

  it('handles a zero baseline without percentages: 0 → more loss is a regression at any tolerance', () => {
    expect(judge('accounting.lost', 'deliveries', 'lower', 0, 1, 1000)).toMatchObject({ status: 'regression', changePct: null });
    expect(judge('accounting.lost', 'deliveries', 'lower', 0, 0, 10)).toMatchObject({ status: 'ok', changePct: 0 });
    expect(judge('accounting.lost', 'deliveries', 'lower', 5, 0, 10)).toMatchObject({ status: 'improvement', changePct: -100 });
    expect(judge('t', '', 'higher', 0, 5, 10).status).toBe('improvement');
  });

  it('calls a side without a value missing, not a regression', () => {
    expect(judge('m', 'ms', 'lower', null, 3, 10)).toMatchObject({ status: 'missing', reason: 'not measured in the baseline' });
    expect(judge('m', 'ms', 'lower', 3, null, 10)).toMatchObject({ status: 'missing', reason: 'not measured in current' });
  });
});

describe('compareReports', () => {
  it('finds nothing to report when a run is compared with itself', () => {
    const cmp = compareReports(baseline(), baseline());
    expect(cmp.regressed).toBe(false);
    expect(cmp.summary).toEqual({ compared: cmp.deltas.length, regressions: 0, improvements: 0, ok: cmp.deltas.length, missing: 0 });
    // 4 latency metrics × 5 percentiles, deliveries/s, delivery ratio, lost, duplicated, reordered
    expect(cmp.deltas).toHaveLength(4 * 5 + 5);
    expect(cmp.deltas.map((d) => d.metric)).toEqual(
      expect.arrayContaining(['metrics.connect_time_ms.p99', 'counters.deliveries_per_sec', 'accounting.deliveryRatio', 'accounting.lost', 'accounting.duplicated', 'accounting.reordered']),
    );
    expect(cmp.warnings).toEqual([]);
  });

  it('an improvement: lower latency and more throughput, exit-worthy nothing', () => {
    const cur = scaledLatency(0.5);
    cur.counters.deliveries_per_sec *= 1.5;
    const cmp = compareReports(baseline(), cur);
    expect(cmp.regressed).toBe(false);
    expect(cmp.summary.improvements).toBe(21);
    expect(cmp.deltas.find((d) => d.metric === 'counters.deliveries_per_sec')).toMatchObject({ status: 'improvement', better: 'higher', changePct: 50 });
  });

  it('a regression past tolerance, and within a raised per-metric tolerance', () => {
    const cur = scaledLatency(1.25);
    const strict = compareReports(baseline(), cur, { maxRegressionPct: 10 });
    expect(strict.regressed).toBe(true);
    expect(strict.summary.regressions).toBe(20);
    const p99 = strict.deltas.find((d) => d.metric === 'metrics.broadcast_latency_ms.p99')!;
    expect(p99.status).toBe('regression');
    expect(p99.changePct).toBeCloseTo(25);
    expect(compareReports(baseline(), cur, { maxRegressionPct: 30 }).regressed).toBe(false);
  });

  it('applies the most specific --metric tolerance', () => {
    const cur = scaledLatency(1.25);
    const cmp = compareReports(baseline(), cur, {
      maxRegressionPct: 10,
      metricTolerances: { metrics: 30, 'broadcast_latency_ms.p99': 5, p999: 50, 'metrics.connect_time_ms': 20 },
    });
    const tol = (m: string) => cmp.deltas.find((d) => d.metric === m)!.tolerancePct;
    expect(tol('metrics.broadcast_latency_ms.p99')).toBe(5);
    expect(tol('metrics.broadcast_latency_ms.p50')).toBe(30);
    expect(tol('metrics.connect_time_ms.p50')).toBe(20);
    expect(tol('metrics.broadcast_latency_ms.p999')).toBe(30); // `metrics` (a prefix) beats a bare percentile
    expect(tol('accounting.lost')).toBe(10);
    expect(cmp.deltas.filter((d) => d.status === 'regression').map((d) => d.metric)).toEqual(['metrics.broadcast_latency_ms.p99', 'metrics.connect_time_ms.p50', 'metrics.connect_time_ms.p90', 'metrics.connect_time_ms.p99', 'metrics.connect_time_ms.p999', 'metrics.connect_time_ms.max']);
  });

  it('flags 0 → n lost deliveries whatever the tolerance', () => {
    const cur = baseline();
    cur.accounting.lost = 3;
    cur.accounting.received -= 3;
    cur.accounting.deliveryRatio = cur.accounting.received / cur.accounting.expected;
    const cmp = compareReports(baseline(), cur, { maxRegressionPct: 1000 });
    expect(cmp.regressed).toBe(true);
    expect(cmp.deltas.filter((d) => d.status === 'regression').map((d) => d.metric)).toEqual(['accounting.lost']);
    expect(renderComparison(cmp)).toContain('accounting.lost (0 → 3: any increase from 0 is a regression)');
  });

  it('a metric missing on one side is listed as missing, not compared', () => {
    const cur = baseline();
    delete (cur.metrics as Record<string, unknown>).broadcast_latency_cross_node_ms;
    cur.metrics.connect_time_ms.count = 0; // present but not measured
    const base = baseline();
    base.metrics.reconnect_time_ms = { ...base.metrics.connect_time_ms };
    const cmp = compareReports(base, cur);
    const missing = cmp.deltas.filter((d) => d.status === 'missing');
    expect(missing.map((d) => d.metric.split('.')[1])).toEqual([...Array(5).fill('broadcast_latency_cross_node_ms'), ...Array(5).fill('connect_time_ms'), ...Array(5).fill('reconnect_time_ms')]);
    expect(missing.every((d) => d.reason === 'not measured in current')).toBe(true);
    expect(cmp.regressed).toBe(false);
    expect(cmp.summary.missing).toBe(15);
    expect(renderComparison(cmp)).toContain('missing (not measured in current)');
  });

  it('compares loss classes when the reports have them', () => {
    const a = load('sample-report-chaos.json');
    const b = load('sample-report-chaos.json');
    b.accounting.losses!.lostConnected = 7;
    const cmp = compareReports(a, b);
    expect(cmp.deltas.find((d) => d.metric === 'accounting.losses.lostConnected')).toMatchObject({ baseline: 0, current: 7, status: 'regression' });
    expect(cmp.deltas.some((d) => d.metric === 'accounting.losses.sameNode')).toBe(false);
  });

  it('warns when options, topology or the machine differ', () => {
    const cur = baseline();
    cur.options.connections = 2000;
    cur.topology.nodes = 5;
    cur.environment.cpus = 16;
    cur.generator.bottleneck = true;
    const w = compareReports(baseline(), cur).warnings;
    expect(w).toEqual([
      'scenario options differ: connections 1240 → 2000',
      'topology differs: nodes 3 → 5',
      'different machine (cpus 2 → 16): latency and throughput also measure the machine',
      'the current run was GENERATOR-BOUND: its figures describe the load generator',
    ]);
  });

  it('refuses reports of different scenarios, unfinished runs and an unknown --metric name', () => {
    const other = baseline();
    other.scenario.name = 'node-kill';
    expect(thrown(() => compareReports(baseline(), other)).code).toBe('WSB_COMPARE_INVALID');
    const errored: RunReport = { ...baseline(), verdict: 'error', error: { code: 'WSB_WORKER_FAILED', message: 'x' } };
    const e = thrown(() => compareReports(baseline(), errored));
    expect(e.code).toBe('WSB_COMPARE_INVALID');
    expect(e.message).toContain('the current run did not finish (verdict error, WSB_WORKER_FAILED)');
    expect(thrown(() => compareReports({ ...baseline(), verdict: 'interrupted' }, baseline())).message).toContain('the baseline run did not finish');
    const m = thrown(() => compareReports(baseline(), baseline(), { metricTolerances: { latency: 5 } }));
    expect(m.code).toBe('WSB_INVALID_OPTION');
    expect(m.hint).toContain('metrics.broadcast_latency_ms');
  });
});

describe('flag parsing', () => {
  it('reads percentages and name=pct pairs', () => {
    expect(parsePercent('10%', '--max-regression')).toBe(10);
    expect(parsePercent(' 2.5 ', '--max-regression')).toBe(2.5);
    expect(parseMetricTolerance('broadcast_latency_ms.p99=20%')).toEqual(['broadcast_latency_ms.p99', 20]);
    for (const bad of ['-5%', 'ten', '10%%', '']) expect(thrown(() => parsePercent(bad, '--max-regression')).code).toBe('WSB_INVALID_OPTION');
    expect(thrown(() => parseMetricTolerance('p99')).message).toContain('not of the form <name>=<pct>%');
  });
});

describe('renderComparison', () => {
  it('prints a table and a one-line result', () => {
    const out = renderComparison(compareReports(baseline(), scaledLatency(2)));
    expect(out).toMatch(/│ metrics\.broadcast_latency_ms\.p99\s+│ lower\s+│\s+8\.439 ms │\s+16\.88 ms │\s+\+100% │\s+10% │ REGRESSION/);
    expect(out.split('\n').at(-1)).toMatch(/^compare: REGRESSION — 20 of 25 values regressed: metrics\.broadcast_latency_ms\.p50 \(\+100% > 10%\)/);
    expect(out).not.toContain('\x1b[');
    expect(renderComparison(compareReports(baseline(), baseline())).split('\n').at(-1)).toBe('compare: OK — no regression beyond tolerance in 25 values; 0 improved, 25 within tolerance');
  });
});
