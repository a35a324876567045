import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compareReports, judge, parseMetricTolerance, parsePercent, renderComparison } from './compare.js';
import type { Candidate } from './compare-values.js';
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

const cand = (kind: Candidate['kind'], better: Candidate['better'], baseline: number | null, current: number | null, unit = kind === 'latency' ? 'ms' : kind === 'ratio' ? 'ratio' : ''): Candidate => ({ metric: 'm', unit, better, kind, baseline, current });

describe('judge', () => {
  it('knows which direction is worse (relative values)', () => {
    expect(judge(cand('relative', 'lower', 10, 12), 10).status).toBe('regression');
    expect(judge(cand('relative', 'lower', 10, 11), 10).status).toBe('ok');
    expect(judge(cand('relative', 'lower', 10, 8), 10).status).toBe('improvement');
    expect(judge(cand('relative', 'higher', 100, 85), 10).status).toBe('regression');
    expect(judge(cand('relative', 'higher', 100, 120), 10).status).toBe('improvement');
    expect(judge(cand('relative', 'higher', 100, 95), 10)).toMatchObject({ status: 'ok', changePct: -5, reason: '-5.00%, within 10%' });
    expect(judge(cand('relative', 'lower', 10, 15), 10).reason).toBe('+50.0% > 10%');
    expect(judge(cand('relative', 'higher', 100, 50), 10).reason).toBe('-50.0% < -10%');
  });

  it('latency: relative, but a change under the absolute floor is not a regression (0.4 ms → 0.5 ms)', () => {
    expect(judge(cand('latency', 'lower', 0.4, 0.5), 10)).toMatchObject({ status: 'ok', reason: '+25.0% but +0.10 ms: below the 1 ms floor', tolerance: '10%, floor 1 ms' });
    expect(judge(cand('latency', 'lower', 0.4, 1.5), 10)).toMatchObject({ status: 'regression', reason: '+275% > 10%' });
    expect(judge(cand('latency', 'lower', 0.4, 0.5), 10, { latencyFloorMs: 0.05 }).status).toBe('regression');
    expect(judge(cand('latency', 'lower', 20, 23), 10).status).toBe('regression'); // +15 %, +3 ms
    expect(judge(cand('latency', 'lower', 20, 21.5), 10).status).toBe('ok');
    expect(judge(cand('latency', 'lower', 0, 0.8), 10).status).toBe('ok');
    expect(judge(cand('latency', 'lower', 0.5, 0.1), 10)).toMatchObject({ status: 'ok' }); // faster, but by less than the floor
  });

  it('ratio: percentage points, not relative — 100 % → 91 % regresses at any relative tolerance', () => {
    expect(judge(cand('ratio', 'higher', 1, 0.91), 0.1)).toMatchObject({ status: 'regression', change: '-9.00 pp', reason: '-9.00 pp, more than 0.1 pp worse' });
    expect(judge(cand('ratio', 'higher', 1, 0.9995), 0.1)).toMatchObject({ status: 'ok', tolerance: '0.1 pp' });
    expect(judge(cand('ratio', 'higher', 0.5, 0.8), 0.1).status).toBe('improvement');
  });

  it('counts: a baseline of 0 stays 0 at any tolerance', () => {
    expect(judge(cand('count', 'lower', 0, 1), 1000)).toMatchObject({ status: 'regression', changePct: null, reason: '0 → 1: a count that was 0 must stay 0', tolerance: '0 stays 0' });
    expect(judge(cand('count', 'lower', 0, 0), 10)).toMatchObject({ status: 'ok', reason: '0 → 0' });
    expect(judge(cand('count', 'lower', 5, 0), 10)).toMatchObject({ status: 'improvement', changePct: -100 });
    expect(judge(cand('count', 'lower', 100, 105), 10).status).toBe('ok');
    expect(judge(cand('relative', 'higher', 0, 5), 10).status).toBe('improvement');
  });

  it('a value the baseline has and current lacks is a regression, unless missing values are allowed', () => {
    expect(judge(cand('latency', 'lower', 3, null), 10)).toMatchObject({ status: 'regression', reason: 'not measured in current: a gate does not pass what was not measured' });
    expect(judge(cand('latency', 'lower', 3, null), 10, { allowMissing: true })).toMatchObject({ status: 'missing', reason: 'not measured in current (allowed by --allow-missing)' });
    expect(judge(cand('latency', 'lower', null, 3), 10)).toMatchObject({ status: 'missing', reason: 'not measured in the baseline (new value, not judged)' });
  });
});

/** A copy of a report with every target passed and the verdict pass (to isolate the value rows). */
function passing(r: RunReport): RunReport {
  r.verdict = 'pass';
  for (const t of r.targets) t.status = 'pass';
  return r;
}

describe('compareReports', () => {
  it('finds nothing to report when a run is compared with itself', () => {
    const cmp = compareReports(baseline(), baseline());
    expect(cmp.failed).toBe(false);
    expect(cmp.summary).toEqual({ compared: cmp.deltas.length, regressions: 0, improvements: 0, ok: cmp.deltas.length, missing: 0 });
    // 4 latency metrics × 5 percentiles; connect failures, deliveries/s, unexpected arrivals; delivery ratio, lost, duplicated, reordered
    expect(cmp.deltas).toHaveLength(4 * 5 + 3 + 4);
    expect(cmp.deltas.map((d) => d.metric)).toEqual(
      expect.arrayContaining(['metrics.connect_time_ms.p99', 'counters.deliveries_per_sec', 'counters.unexpected_arrivals', 'counters.connect_failures', 'accounting.deliveryRatio', 'accounting.lost', 'accounting.duplicated', 'accounting.reordered']),
    );
    expect(cmp.checks).toEqual([
      { check: 'verdict', ok: true, detail: 'the current run passed its targets' },
      { check: 'options', ok: true, detail: 'same workload options and cluster' },
    ]);
    expect(cmp.warnings).toEqual([]);
  });

  it('an improvement: lower latency and more throughput, exit-worthy nothing', () => {
    const cur = scaledLatency(0.5);
    cur.counters.deliveries_per_sec *= 1.5;
    const cmp = compareReports(baseline(), cur);
    expect(cmp.failed).toBe(false);
    // 20 percentiles halved, but a gain under the 1 ms floor is not an improvement either (p50 of 2.1 ms → 1.05 ms is).
    expect(cmp.deltas.filter((d) => d.status === 'improvement').map((d) => d.metric)).toContain('metrics.broadcast_latency_ms.p99');
    expect(cmp.deltas.find((d) => d.metric === 'counters.deliveries_per_sec')).toMatchObject({ status: 'improvement', better: 'higher', changePct: 50 });
  });

  it('a regression past tolerance and past the floor; within a raised tolerance', () => {
    const cur = scaledLatency(1.25);
    const strict = compareReports(baseline(), cur, { maxRegressionPct: 10 });
    expect(strict.failed).toBe(true);
    // +25 % everywhere, but p50 and p90 of 2–3 ms grow by less than the 1 ms floor.
    const below = strict.deltas.filter((d) => d.kind === 'latency' && d.status === 'ok').map((d) => d.metric);
    expect(below).toEqual(['metrics.broadcast_latency_ms.p50', 'metrics.broadcast_latency_ms.p90', 'metrics.broadcast_latency_same_node_ms.p50', 'metrics.broadcast_latency_same_node_ms.p90', 'metrics.broadcast_latency_cross_node_ms.p50', 'metrics.broadcast_latency_cross_node_ms.p90']);
    expect(strict.deltas.find((d) => d.metric === 'metrics.broadcast_latency_ms.p50')!.reason).toMatch(/below the 1 ms floor$/);
    expect(strict.summary.regressions).toBe(14);
    const p99 = strict.deltas.find((d) => d.metric === 'metrics.broadcast_latency_ms.p99')!;
    expect(p99.status).toBe('regression');
    expect(p99.changePct).toBeCloseTo(25);
    expect(compareReports(baseline(), cur, { maxRegressionPct: 30 }).failed).toBe(false);
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
    expect(tol('accounting.deliveryRatio')).toBe(0.1); // percentage points: --max-regression does not apply to a ratio
    expect(cmp.deltas.filter((d) => d.status === 'regression').map((d) => d.metric)).toEqual(['metrics.broadcast_latency_ms.p99', 'metrics.connect_time_ms.p50', 'metrics.connect_time_ms.p90', 'metrics.connect_time_ms.p99', 'metrics.connect_time_ms.p999', 'metrics.connect_time_ms.max']);
  });

  it('flags 0 → n lost deliveries whatever the tolerance', () => {
    const cur = baseline();
    cur.accounting.lost = 3;
    cur.accounting.received -= 3;
    cur.accounting.deliveryRatio = cur.accounting.received / cur.accounting.expected;
    const cmp = compareReports(baseline(), cur, { maxRegressionPct: 1000 });
    expect(cmp.failed).toBe(true);
    expect(cmp.deltas.filter((d) => d.status === 'regression').map((d) => d.metric)).toEqual(['accounting.lost']);
    expect(renderComparison(cmp)).toContain('accounting.lost (0 → 3: a count that was 0 must stay 0)');
  });

  it('the delivery ratio is judged in percentage points: 100 % → 91 % fails even with lost unchanged', () => {
    const cur = baseline();
    cur.accounting.deliveryRatio = 0.91;
    const cmp = compareReports(baseline(), cur, { maxRegressionPct: 50 });
    expect(cmp.deltas.find((d) => d.metric === 'accounting.deliveryRatio')).toMatchObject({ status: 'regression', change: '-9.00 pp' });
    expect(cmp.failed).toBe(true);
  });

  it('a hollow current report (latency metrics gone or without samples) fails the gate unless --allow-missing', () => {
    const cur = baseline();
    delete (cur.metrics as Record<string, unknown>).broadcast_latency_ms;
    delete (cur.metrics as Record<string, unknown>).broadcast_latency_cross_node_ms;
    cur.metrics.connect_time_ms.count = 0; // present but not measured
    const base = baseline();
    base.metrics.reconnect_time_ms = { ...base.metrics.connect_time_ms }; // only in the baseline
    const cmp = compareReports(base, cur);
    expect(cmp.failed).toBe(true);
    const gone = cmp.deltas.filter((d) => d.current === null);
    expect(gone.map((d) => d.metric.split('.')[1])).toEqual([
      ...Array(5).fill('broadcast_latency_ms'),
      ...Array(5).fill('broadcast_latency_cross_node_ms'),
      ...Array(5).fill('connect_time_ms'),
      ...Array(5).fill('reconnect_time_ms'),
    ]);
    expect(gone.every((d) => d.status === 'regression' && d.reason.startsWith('not measured in current'))).toBe(true);
    expect(cmp.summary.regressions).toBe(20);
    const allowed = compareReports(base, cur, { allowMissing: true });
    expect(allowed.failed).toBe(false);
    expect(allowed.summary.missing).toBe(20);
    expect(allowed.checks.find((c) => c.check === 'missing')).toMatchObject({ ok: true });
    expect(renderComparison(allowed)).toContain('missing (not measured in current (allowed by --allow-missing))');
    // A value only the current report has is listed, never a failure.
    const extra = baseline();
    extra.metrics.reconnect_time_ms = { ...extra.metrics.connect_time_ms };
    expect(compareReports(baseline(), extra).failed).toBe(false);
  });

  it('a current verdict fail fails the gate even when every value equals the baseline', () => {
    const cur = baseline();
    cur.verdict = 'fail';
    cur.targets[0] = { ...cur.targets[0], status: 'fail' };
    const cmp = compareReports(baseline(), cur);
    expect(cmp.regressed).toBe(false);
    expect(cmp.failed).toBe(true);
    expect(cmp.checks[0]).toEqual({ check: 'verdict', ok: false, detail: "the current run's verdict is fail (latency-p99 fail)" });
    expect(renderComparison(cmp).split('\n').at(-1)).toBe("compare: FAIL — the current run's verdict is fail (latency-p99 fail); 0 improved, 27 within tolerance");
    // An unfinished current run fails the gate too (exit 1: the run is judged, not the harness).
    const errored: RunReport = { ...baseline(), verdict: 'error', error: { code: 'WSB_WORKER_FAILED', message: 'x' } };
    const e = compareReports(baseline(), errored);
    expect(e.failed).toBe(true);
    expect(e.checks[0].detail).toBe('the current run did not finish (verdict error, WSB_WORKER_FAILED): its figures are partial');
  });

  it('a chaos report whose during-fault window regressed fails the gate', () => {
    const base = passing(load('sample-report-chaos.json'));
    expect(compareReports(base, passing(load('sample-report-chaos.json'))).failed).toBe(false);
    const cur = passing(load('sample-report-chaos.json'));
    const w = cur.windows!['during-kill-node'];
    w.broadcast_latency_ms.p99 = w.broadcast_latency_ms.p99 * 2 + 5;
    const more = Math.round(w.accounting.lost * 0.5); // 4,120 lost during the kill → 6,180
    w.accounting.lost += more;
    w.accounting.received -= more;
    w.accounting.deliveryRatio = w.accounting.received / w.accounting.expected;
    const cmp = compareReports(base, cur);
    expect(cmp.failed).toBe(true);
    expect(cmp.deltas.filter((d) => d.status === 'regression').map((d) => d.metric)).toEqual([
      'windows.during-kill-node.broadcast_latency_ms.p99',
      'windows.during-kill-node.accounting.lost',
      'windows.during-kill-node.accounting.deliveryRatio',
    ]);
    // Every window, the reconnection per fault and the judged counters are compared.
    const names = cmp.deltas.map((d) => d.metric);
    for (const m of ['windows.before-kill-node.accounting.lost', 'windows.after-kill-node.crossNode.deliveryRatio', 'counters.reconnect_all_back_ms', 'accounting.losses.lostConnected']) expect(names).toContain(m);
    expect(names.some((n) => /^reconnection\.faults\[.+\]\.backWithin99PercentMs$/.test(n))).toBe(true);
  });

  it('a chaos action nobody observed fails the gate: chaos_actions_failed is then not measured, chaos_actions_unobserved 0 → 1 regresses', () => {
    const base = passing(load('sample-report-chaos.json'));
    base.counters.chaos_actions_failed = 0;
    base.counters.chaos_actions_unobserved = 0;
    const cur = passing(load('sample-report-chaos.json'));
    cur.counters.chaos_actions_failed = 0;
    cur.counters.chaos_actions_unobserved = 1;
    for (const allowMissing of [false, true]) {
      const cmp = compareReports(base, cur, { allowMissing });
      expect(cmp.failed).toBe(true);
      const row = (m: string) => cmp.deltas.find((d) => d.metric === m)!;
      expect(row('counters.chaos_actions_unobserved')).toMatchObject({ baseline: 0, current: 1, status: 'regression' });
      expect(row('counters.chaos_actions_failed')).toMatchObject({ baseline: 0, current: null, status: allowMissing ? 'missing' : 'regression' });
    }
    // Observed on both sides: nothing to report on these rows.
    cur.counters.chaos_actions_unobserved = 0;
    expect(compareReports(base, cur).failed).toBe(false);
  });

  it('compares loss classes when the reports have them', () => {
    const a = passing(load('sample-report-chaos.json'));
    const b = passing(load('sample-report-chaos.json'));
    b.accounting.losses!.lostConnected = 7;
    const cmp = compareReports(a, b);
    expect(cmp.deltas.find((d) => d.metric === 'accounting.losses.lostConnected')).toMatchObject({ baseline: 0, current: 7, status: 'regression' });
    expect(cmp.deltas.some((d) => d.metric === 'accounting.losses.sameNode')).toBe(false);
  });

  it('compares capacity figures, probe failures and the knee', () => {
    const probes = load('report-security-probes-run.json');
    const worse = load('report-security-probes-run.json');
    worse.counters.probes_failed_origin = 1;
    expect(compareReports(probes, worse).deltas.find((d) => d.metric === 'counters.probes_failed_origin')).toMatchObject({ status: 'regression', reason: '0 → 1: a count that was 0 must stay 0' });
    const cap = baseline();
    cap.counters.server_bytes_per_connection = 4000;
    cap.capacity = { connected: 1240, failuresByCause: { refused: 0 }, pings: { ok: 10, failed: 0 }, nodes: [], lb: { rssDeltaBytes: null, perConnectionBytes: null }, redis: { rssDeltaBytes: null, perConnectionBytes: null }, generator: [] };
    cap.capacitySearch = { limits: { p99Ms: 50, maxLost: 0 }, steps: [], knee: { lastGoodPerSec: 40_000, firstBadPerSec: 50_000 } };
    const cur: RunReport = JSON.parse(JSON.stringify(cap));
    cur.counters.server_bytes_per_connection = 6000;
    cur.capacity!.failuresByCause.refused = 3;
    cur.capacity!.pings.failed = 2;
    cur.capacitySearch!.knee.lastGoodPerSec = 30_000;
    const cmp = compareReports(cap, cur);
    expect(cmp.deltas.filter((d) => d.status === 'regression').map((d) => d.metric)).toEqual([
      'counters.server_bytes_per_connection',
      'capacity.failuresByCause.refused',
      'capacity.pings.failed',
      'capacitySearch.knee.lastGoodPerSec',
    ]);
    // Memory per connection below zero is no measurement: missing, so a baseline that had one fails.
    cur.counters.server_bytes_per_connection = -200;
    expect(compareReports(cap, cur).deltas.find((d) => d.metric === 'counters.server_bytes_per_connection')).toMatchObject({ current: null, status: 'regression' });
  });

  it('a different workload fails the gate unless allowed; the machine only warns', () => {
    const cur = baseline();
    cur.options.connections = 2000;
    cur.topology.nodes = 5;
    cur.environment.cpus = 16;
    cur.generator.bottleneck = true;
    const cmp = compareReports(baseline(), cur);
    expect(cmp.failed).toBe(true);
    expect(cmp.checks[1]).toEqual({ check: 'options', ok: false, detail: 'the workload differs: connections 1240 → 2000, nodes 3 → 5 (pass --allow-different-options to compare anyway)' });
    expect(cmp.warnings).toEqual([
      'different machine (cpus 2 → 16): latency and throughput also measure the machine',
      'the current run was GENERATOR-BOUND: its figures describe the load generator',
    ]);
    const allowed = compareReports(baseline(), cur, { allowDifferentOptions: true });
    expect(allowed.failed).toBe(false);
    expect(allowed.warnings[0]).toBe('workload differs (allowed by --allow-different-options): connections 1240 → 2000, nodes 3 → 5');
    // An option an older report lacks counts as the scenario's default (the CLI passes them), an absent adapter is not compared.
    const newer = baseline();
    newer.options.reconnect = 'socketio';
    delete (newer.topology as { adapter?: string }).adapter;
    expect(compareReports(baseline(), newer).checks[1].ok).toBe(false);
    expect(compareReports(baseline(), newer, { optionDefaults: { reconnect: 'socketio' } }).checks[1].ok).toBe(true);
    newer.options.reconnect = 'full-jitter';
    expect(compareReports(baseline(), newer, { optionDefaults: { reconnect: 'socketio' } }).checks[1].detail).toContain('reconnect "socketio" → "full-jitter"');
    // Options that change only logging do not count.
    const cosmetic = baseline();
    cosmetic.options.receiveLog = '/tmp/x';
    expect(compareReports(baseline(), cosmetic).failed).toBe(false);
  });

  it('refuses reports of different scenarios, an unfinished baseline and an unknown --metric name', () => {
    const other = baseline();
    other.scenario.name = 'node-kill';
    expect(thrown(() => compareReports(baseline(), other)).code).toBe('WSB_COMPARE_INVALID');
    const b = thrown(() => compareReports({ ...baseline(), verdict: 'interrupted' }, baseline()));
    expect(b.code).toBe('WSB_COMPARE_INVALID');
    expect(b.message).toContain('the baseline run did not finish');
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
  it('prints a table whose rows say why, and a one-line result', () => {
    const out = renderComparison(compareReports(baseline(), scaledLatency(2)));
    expect(out).toMatch(/│ metrics\.broadcast_latency_ms\.p99\s+│ lower\s+│\s+8\.439 ms │\s+16\.88 ms │\s+\+100% │\s+10%, floor 1 ms │ REGRESSION \(\+100% > 10%\)/);
    expect(out).toMatch(/│ accounting\.lost\s+│ lower\s+│\s+0 │\s+0 │\s+0\.00% │\s+0 stays 0 │ ok \(0 → 0\)/);
    expect(out.split('\n').at(-1)).toMatch(/^compare: REGRESSION — 20 of 27 values regressed: metrics\.broadcast_latency_ms\.p50 \(\+100% > 10%\)/);
    expect(out).not.toContain('\x1b[');
    expect(renderComparison(compareReports(baseline(), baseline())).split('\n').at(-1)).toBe('compare: OK — no regression beyond tolerance in 27 values; 0 improved, 27 within tolerance');
  });
});

describe('compare with user targets', () => {
  const off = (r: RunReport, id: string) => {
    const t = r.targets.find((x) => x.id === id)!;
    t.status = 'off';
    t.source = { ...t.source, config: 'wsbench.config.json' };
    return r;
  };

  it('a target switched off in current but judged in the baseline fails the gate, naming it and its config', () => {
    const b = baseline();
    const id = b.targets[0].id;
    const cmp = compareReports(b, off(baseline(), id));
    expect(cmp.checks).toContainEqual({ check: 'targets', ok: false, detail: `target(s) the baseline judged are switched off in current: ${id} (wsbench.config.json)` });
    expect(cmp.warnings).toContain(`target thresholds differ: ${id} "${b.targets[0].op} ${b.targets[0].value}" → "off"`);
  });

  it('a target switched off in the baseline only is a warning, not a failed check; off on both sides is silent', () => {
    const id = baseline().targets[0].id;
    const cmp = compareReports(off(baseline(), id), baseline());
    expect(cmp.checks.some((c) => c.check === 'targets')).toBe(false);
    expect(cmp.warnings).toContain(`target(s) switched off in the baseline but judged in current: ${id}`);
    const both = compareReports(off(baseline(), id), off(baseline(), id));
    expect(both.checks.some((c) => c.check === 'targets')).toBe(false);
    expect(both.warnings.join('\n')).not.toContain(id);
  });
});
