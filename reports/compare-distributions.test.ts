import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../model/run-report.js';
import { SEED_TARGETS } from '../model/targets.js';
import { SCENARIOS } from '../scenarios/index.js';
import { evaluateTargets, verdictOf } from '../model/evaluate.js';
import { combineRuns } from '../runner/repeats.js';
import { compareReports } from './compare.js';

const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/report-default-run.json', import.meta.url), 'utf8')) as RunReport;
const SPECS = SCENARIOS['cross-node-broadcast'].targets.map((id) => SEED_TARGETS[id]);

function runWith(p99: number, perSec: number): RunReport {
  const r: RunReport = JSON.parse(JSON.stringify(FIXTURE));
  r.metrics.broadcast_latency_ms.p99 = p99;
  r.counters.deliveries_per_sec = perSec;
  const targets = evaluateTargets(r, SPECS);
  return { ...r, targets, verdict: verdictOf(targets) };
}

/** A repeated report of runs with these p99s (ms) and throughputs. */
function repeated(p99s: number[], perSec: number[] = p99s.map(() => 9600)): RunReport {
  return combineRuns(
    p99s.map((p, i) => runWith(p, perSec[i])),
    { count: p99s.length, judge: 'median', freshCluster: false, startedAt: FIXTURE.startedAt, durationMs: 1000, events: [] },
  );
}

const p99Of = (baseline: RunReport, current: RunReport) => compareReports(baseline, current).deltas.find((d) => d.metric === 'metrics.broadcast_latency_ms.p99')!;

describe('compare on distributions', () => {
  it('a current median inside the baseline spread is no regression, though its judged run is far above the baseline judged run', () => {
    const baseline = repeated([10, 12, 30]);
    const current = repeated([11, 25, 28]);
    // The judged (median) runs alone would say +108 %.
    expect(current.metrics.broadcast_latency_ms.p99 / baseline.metrics.broadcast_latency_ms.p99).toBeGreaterThan(2);
    const d = p99Of(baseline, current);
    expect([d.baseline, d.current, d.status]).toEqual([30, 25, 'improvement']);
    const cmp = compareReports(baseline, current);
    expect(cmp.regressed).toBe(false);
    expect(cmp.warnings.some((w) => w.startsWith('repeated runs (baseline 3, current 3)'))).toBe(true);
  });

  it("a current median beyond the baseline's max plus the tolerance is a regression; within the tolerance it is not", () => {
    expect(p99Of(repeated([10, 12, 30]), repeated([20, 34, 40])).status).toBe('regression');
    expect(p99Of(repeated([10, 12, 30]), repeated([20, 32, 40])).status).toBe('ok');
  });

  it('higher-is-better values are judged against the baseline minimum', () => {
    const d = compareReports(repeated([10, 10, 10], [9000, 9600, 9700]), repeated([10, 10, 10], [8000, 8200, 9900])).deltas.find((x) => x.metric === 'counters.deliveries_per_sec')!;
    expect([d.baseline, d.current, d.status]).toEqual([9000, 8200, 'ok']);
    const bad = compareReports(repeated([10, 10, 10], [9000, 9600, 9700]), repeated([10, 10, 10], [7000, 8000, 9900])).deltas.find((x) => x.metric === 'counters.deliveries_per_sec')!;
    expect(bad.status).toBe('regression');
  });

  it('only one side repeated: the judged run figures are compared, and the comparison says so', () => {
    const single = runWith(12, 9600);
    const cmp = compareReports(single, repeated([10, 13, 30]));
    expect(cmp.deltas.find((d) => d.metric === 'metrics.broadcast_latency_ms.p99')?.current).toBe(13);
    expect(cmp.warnings.some((w) => w.startsWith('only the current report holds repeated runs (3)'))).toBe(true);
  });
});
