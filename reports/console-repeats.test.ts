import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../model/run-report.js';
import { SEED_TARGETS } from '../model/targets.js';
import { SCENARIOS } from '../scenarios/index.js';
import { evaluateTargets, verdictOf } from '../model/evaluate.js';
import { combineRuns } from '../runner/repeats.js';
import { renderConsole } from './console.js';
import { repeatsSection } from './console-repeats.js';

const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/report-default-run.json', import.meta.url), 'utf8')) as RunReport;
const SPECS = SCENARIOS['cross-node-broadcast'].targets.map((id) => SEED_TARGETS[id]);

function runWith(p99: number): RunReport {
  const r: RunReport = JSON.parse(JSON.stringify(FIXTURE));
  r.metrics.broadcast_latency_ms.p99 = p99;
  const targets = evaluateTargets(r, SPECS);
  return { ...r, targets, verdict: verdictOf(targets) };
}

describe('the runs table', () => {
  it('one row per target with each run and the median, the runs verdicts, and the verdict line says the median of 3 runs', () => {
    const r = combineRuns([runWith(10), runWith(300), runWith(12)], { count: 3, judge: 'median', freshCluster: false, startedAt: FIXTURE.startedAt, durationMs: 1, events: [] });
    const lines = repeatsSection(r).join('\n');
    expect(lines).toMatch(/^runs: 3 of 3 on one cluster; targets judged on the median of each value; the figures above are run 3's/);
    expect(lines).toMatch(/│ latency-p99\s+│\s+10\.00 ms │\s+300\.00 ms │\s+12\.00 ms │\s+12\.00 ms PASS │/);
    expect(lines).toMatch(/│ run verdict\s+│\s+PASS │\s+FAIL │\s+PASS │\s+PASS │/);
    expect(renderConsole(r)).toMatch(/verdict: PASS \(\d+\/\d+ targets met\) — the median of 3 runs$/);
  });
  it('a single run has no runs table', () => {
    expect(repeatsSection(runWith(10))).toEqual([]);
    expect(renderConsole(runWith(10))).not.toContain('runs:');
  });
});
