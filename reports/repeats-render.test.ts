/**
 * Repeated runs (`--repeat N`) in the HTML and JUnit reports: the runs, the judgement and the
 * distribution are there, judged on the distribution (not on one run).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../model/run-report.js';
import { SEED_TARGETS } from '../model/targets.js';
import { SCENARIOS } from '../scenarios/index.js';
import { evaluateTargets, verdictOf } from '../model/evaluate.js';
import { combineRuns } from '../runner/repeats.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';

const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/report-default-run.json', import.meta.url), 'utf8')) as RunReport;
const SPECS = SCENARIOS['cross-node-broadcast'].targets.map((id) => SEED_TARGETS[id]);

function runWith(p99: number, k: number): RunReport {
  const r: RunReport = JSON.parse(JSON.stringify(FIXTURE));
  r.runId = `unit#${k}`;
  r.metrics.broadcast_latency_ms.p99 = p99;
  r.metrics.broadcast_latency_cross_node_ms.p99 = p99;
  r.timeline = r.timeline.map((p, i) => ({ ...p, p99Ms: i === 3 && p99 > 50 ? p99 : Math.min(p.p99Ms ?? 10, 20) }));
  const targets = evaluateTargets(r, SPECS);
  return { ...r, targets, verdict: verdictOf(targets) };
}

/** Three runs, the second stalled (p99 900 ms at its 4th second): the median passes. */
function repeated(judge: 'median' | 'worst' = 'median'): RunReport {
  return combineRuns([runWith(20, 1), runWith(900, 2), runWith(25, 3)], { count: 3, judge, freshCluster: false, startedAt: '2026-12-07T00:00:00.000Z', durationMs: 60_000, events: [] });
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const runsSection = (html: string) => /<section id="runs">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? null;

describe('HTML: repeated runs', () => {
  it('has a runs section: each run with its verdict and values, the judgement, the distribution table', () => {
    const r = repeated();
    expect(r.verdict).toBe('pass');
    const sec = runsSection(renderHtml(r));
    expect(sec).not.toBeNull();
    const t = text(sec!);
    expect(t).toContain('3 of 3 runs on one cluster');
    expect(t).toContain('median of its value over the runs');
    // One row per run, the stalled one FAIL with its second over the target named.
    const rows = /<table class="runs">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(sec!)![1].split('</tr>').filter((x) => x.includes('<td'));
    expect(rows).toHaveLength(3);
    expect(text(rows[1])).toMatch(/^ ?run 2 FAIL /);
    expect(text(rows[1])).toContain(`1 s (at +${r.repeat!.runs[1].secondsOverTarget![0]} s)`);
    expect(text(rows[0])).toContain('none');
    // The judged value's distribution: each run's value, median 25, min 20, max 900, spread 880.
    const dist = /<table class="distribution">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(sec!)![1].split('</tr>').filter((x) => x.includes('<td'));
    const p99 = dist.find((x) => x.includes('metrics.broadcast_latency_ms.p99<'));
    expect(p99).toBeDefined();
    expect(text(p99!)).toContain('judged: latency-p99');
    const cells = [...p99!.matchAll(/<td class="num">([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(cells).toEqual(['20 ms', '900 ms', '25 ms', '25 ms', '20 ms', '900 ms', '880 ms']);
    // Judged values come first.
    expect(dist[0]).toContain('judged:');
  });

  it('the worst judgement is named; a single run has no runs section', () => {
    const worst = repeated('worst');
    expect(worst.verdict).toBe('fail');
    expect(text(runsSection(renderHtml(worst))!)).toContain('worst run&#39;s value');
    expect(runsSection(renderHtml(runWith(20, 1)))).toBeNull();
  });
});

describe('JUnit: repeated runs', () => {
  it('one testcase per target, judged on the distribution, with every run in its output', () => {
    const xml = renderJunit(repeated());
    const cases = xml.split('<testcase').slice(1);
    expect(cases).toHaveLength(repeated().targets.length);
    const p99 = cases.find((c) => c.includes('name="latency-p99'));
    expect(p99).toBeDefined();
    // Passes on the median (25 ms) although run 2 failed on its own.
    expect(p99).not.toContain('<failure');
    expect(p99).toContain('actual: 25 ms (median of 3 runs)');
    expect(p99).toContain('judged on: the median over the runs (3 of 3 runs on one cluster)');
    expect(p99).toContain('run 1: 20 ms PASS');
    expect(p99).toMatch(/run 2: 900 ms FAIL \(run verdict FAIL; 1 s over the latency target/);
    expect(p99).toContain('run 3: 25 ms PASS');
    expect(p99).toContain('distribution: median 25 ms, min 20 ms, max 900 ms, spread 880 ms');
  });

  it('judged on the worst run: the failure carries the runs too', () => {
    const xml = renderJunit(repeated('worst'));
    const p99 = xml.split('<testcase').find((c) => c.includes('name="latency-p99'))!;
    expect(p99).toContain('<failure');
    expect(p99).toContain('actual: 900 ms (worst of 3 runs)');
    expect(p99).toContain('run 2: 900 ms FAIL');
    expect(renderJunit(runWith(20, 1))).not.toContain('judged on:');
  });
});
