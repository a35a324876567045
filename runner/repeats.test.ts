import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../model/run-report.js';
import { validateReport } from '../model/schema.js';
import { SEED_TARGETS } from '../model/targets.js';
import { SCENARIOS } from '../scenarios/index.js';
import { evaluateTargets, verdictOf } from '../model/evaluate.js';
import { combineRuns, type CombineOptions } from './repeats.js';
import { median, distributionOf, worstOf } from '../model/distribution.js';

const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/report-default-run.json', import.meta.url), 'utf8')) as RunReport;
const SPECS = SCENARIOS['cross-node-broadcast'].targets.map((id) => SEED_TARGETS[id]);

/** A finished run of the fixture with its overall p99 (and cross-node p99) and lost count set, targets evaluated. */
function runWith(p99: number, lost = 0, k = 1): RunReport {
  const r: RunReport = JSON.parse(JSON.stringify(FIXTURE));
  r.runId = `unit#${k}`;
  r.metrics.broadcast_latency_ms.p99 = p99;
  r.metrics.broadcast_latency_cross_node_ms.p99 = p99;
  r.accounting.lost = lost;
  r.timeline = r.timeline.map((p, i) => ({ ...p, p99Ms: i === 3 && p99 > 50 ? p99 : Math.min(p.p99Ms ?? 10, 20) }));
  const targets = evaluateTargets(r, SPECS);
  return { ...r, targets, verdict: verdictOf(targets) };
}

const OPTS: CombineOptions = { count: 3, judge: 'median', freshCluster: false, startedAt: '2026-12-07T00:00:00.000Z', durationMs: 60_000, events: [] };

describe('distribution arithmetic', () => {
  it('median of odd and even counts; distributions with a hole have no median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(distributionOf([10, 30, 20])).toEqual({ values: [10, 30, 20], median: 20, min: 10, max: 30, spread: 20 });
    expect(distributionOf([10, null, 20])).toEqual({ values: [10, null, 20], median: null, min: 10, max: 20, spread: 10 });
    expect(distributionOf([null, null]).max).toBeNull();
  });
  it('the worst value follows the target: highest for <=, lowest for >=, the one off target for ==', () => {
    expect(worstOf([1, 5, 3], '<=', 50)).toBe(5);
    expect(worstOf([0.9, 0.7, 1], '>=', 0.99)).toBe(0.7);
    expect(worstOf([0, 2, 0], '==', 0)).toBe(2);
    expect(worstOf([0, null, 0], '==', 0)).toBeNull();
  });
});

describe('combineRuns', () => {
  it('median: one stalled run of three does not flip the verdict; its figures stay in runs[]', () => {
    const runs = [runWith(20, 0, 1), runWith(900, 0, 2), runWith(25, 0, 3)];
    expect(runs.map((r) => r.verdict)).toEqual(['pass', 'fail', 'pass']);
    const c = combineRuns(runs, OPTS);
    expect(c.verdict).toBe('pass');
    expect(c.targets.find((t) => t.id === 'latency-p99')).toMatchObject({ actual: 25, status: 'pass' });
    expect(c.repeat?.judgedRun).toBe(3);
    expect(c.metrics.broadcast_latency_ms.p99).toBe(25);
    expect(c.repeat?.runs.map((r) => r.verdict)).toEqual(['pass', 'fail', 'pass']);
    expect(c.repeat?.runs[1].secondsOverTarget).toEqual([runs[1].timeline[3].t]);
    expect(c.repeat?.runs[0].secondsOverTarget).toBeUndefined();
    expect(c.repeat?.distribution['metrics.broadcast_latency_ms.p99']).toEqual({ values: [20, 900, 25], median: 25, min: 20, max: 900, spread: 880 });
    expect(c.repeat?.runs[0].metrics.broadcast_latency_ms).not.toHaveProperty('hdr');
    expect(c.durationMs).toBe(60_000);
    expect(validateReport(c)).toEqual([]);
  });

  it("a run's own stall explanation does not follow the judged target (here: the first run stalled, the median passes)", () => {
    const stalled = runWith(900, 0, 1);
    stalled.targets = stalled.targets.map((t) => (t.id === 'latency-p99' ? { ...t, explanation: 'p99 900 ms: 1 stall of 1.0 s at +3 s' } : t));
    const c = combineRuns([stalled, runWith(20, 0, 2), runWith(25, 0, 3)], OPTS);
    const t = c.targets.find((x) => x.id === 'latency-p99')!;
    expect(t).toMatchObject({ actual: 25, status: 'pass' });
    expect(t).not.toHaveProperty('explanation');
  });

  it('median: two bad runs of three fail; the judged run is the middle one', () => {
    const c = combineRuns([runWith(80, 0, 1), runWith(20, 0, 2), runWith(70, 0, 3)], OPTS);
    expect(c.verdict).toBe('fail');
    expect(c.repeat?.judgedRun).toBe(3);
    expect(c.targets.find((t) => t.id === 'latency-p99')?.actual).toBe(70);
  });

  it('worst and every: one failing run fails the whole; the judged run is that run', () => {
    const runs = [runWith(20, 0, 1), runWith(25, 3, 2), runWith(22, 0, 3)];
    const worst = combineRuns(runs, { ...OPTS, judge: 'worst' });
    expect(worst.verdict).toBe('fail');
    expect(worst.targets.find((t) => t.id === 'no-loss')).toMatchObject({ actual: 3, status: 'fail' });
    expect(worst.targets.find((t) => t.id === 'latency-p99')?.actual).toBe(25);
    const every = combineRuns(runs, { ...OPTS, judge: 'every' });
    expect(every.verdict).toBe('fail');
    expect(every.repeat?.judgedRun).toBe(2);
    expect(combineRuns([runWith(20, 0, 1), runWith(30, 0, 2), runWith(22, 0, 3)], { ...OPTS, judge: 'every' }).verdict).toBe('pass');
  });

  it('a run not measuring a value makes its median unknown: the target fails as unknown', () => {
    const runs = [runWith(20, 0, 1), runWith(25, 0, 2), runWith(22, 0, 3)];
    runs[1].targets = runs[1].targets.map((t) => (t.id === 'latency-p99' ? { ...t, actual: null, status: 'unknown' } : t));
    const c = combineRuns(runs, OPTS);
    expect(c.targets.find((t) => t.id === 'latency-p99')).toMatchObject({ actual: null, status: 'unknown' });
    expect(c.verdict).toBe('fail');
  });

  it('a run that errored makes the whole an error, keeping the runs that finished', () => {
    const broken: RunReport = { ...runWith(20, 0, 2), targets: [], verdict: 'error', error: { code: 'WSB_NODE_NOT_READY', message: '2 of 3 nodes ready' } };
    const c = combineRuns([runWith(20, 0, 1), broken], OPTS);
    expect(c.verdict).toBe('error');
    expect(c.error?.code).toBe('WSB_NODE_NOT_READY');
    expect(c.targets).toEqual([]);
    expect(c.repeat?.runs.map((r) => r.verdict)).toEqual(['pass', 'error']);
    expect(c.repeat?.judgedRun).toBe(1);
    expect(c.repeat?.distribution['metrics.broadcast_latency_ms.p99'].values).toEqual([20]);
  });
});

describe('combineRuns: a target switched off', () => {
  it('stays off over the runs and does not fail the verdict', () => {
    const runs = [runWith(20, 0, 1), runWith(900, 0, 2), runWith(25, 0, 3)].map((r) => ({ ...r, targets: r.targets.map((t) => (t.id === 'no-leak' ? { ...t, status: 'off' as const, actual: null } : t)) }));
    const c = combineRuns(runs, OPTS);
    expect(c.targets.find((t) => t.id === 'no-leak')?.status).toBe('off');
    expect(c.verdict).toBe('pass');
  });
});
