/**
 * `--repeat N` through the real bin: the scenario N times on one cluster (or a fresh one per run),
 * every run in the report, the targets judged on the median; a publisher stall injected into ONE
 * of three runs (calibration: `--publisher-stall-run 2`) shows in that run and leaves the median
 * verdict as the other two runs have it; `wsbench compare` of repeated reports judges on their
 * distributions. Counts and states only: the one figure checked is the injected stall itself.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../model/run-report.js';
import { wsbench, type CliResult } from './support/cli.js';
import { describePids, newTag, waitNoRunProcesses } from './support/run-processes.js';

const SMALL = ['--connections', '200', '--rooms', '5', '--rate', '5', '--warmup', '1', '--drain', '1'];
/** Generous latency targets: a run without the stall passes them on a busy shared machine; the 3 s stall cannot. */
const TARGETS = ['--target', 'latency-p99=1000', '--target', 'cross-node-latency-p99=1000'];
const STALL_MS = 3000;

describe('--repeat 3 on one cluster, a 3 s publisher stall in run 2 only', () => {
  let r: CliResult;
  let report: RunReport;
  let out: string;
  const tag = newTag();

  beforeAll(async () => {
    out = join(mkdtempSync(join(tmpdir(), 'wsb-repeat-')), 'run');
    r = await wsbench(
      ['run', 'cross-node-broadcast', ...SMALL, '--duration', '5', '--repeat', '3', '--publisher-stall-ms', String(STALL_MS), '--publisher-stall-at', '1', '--publisher-stall-run', '2', ...TARGETS, '--out', out],
      { env: { ...process.env, WSB_TEST_TAG: tag } },
    );
    report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  }, 240_000);

  it('three runs, each with its own figures, one cluster started and torn down once', () => {
    expect(report.repeat?.count).toBe(3);
    expect(report.repeat?.judge).toBe('median');
    expect(report.repeat?.freshCluster).toBe(false);
    expect(report.repeat?.runs.map((x) => x.run)).toEqual([1, 2, 3]);
    for (const run of report.repeat!.runs) {
      expect(run.accounting.expected).toBeGreaterThan(0);
      expect(run.targets.map((t) => t.id)).toEqual(report.targets.map((t) => t.id));
    }
    const kinds = report.events.filter((e) => ['cluster', 'repeat', 'teardown'].includes(e.type)).map((e) => `${e.type}:${e.detail?.replace(/ at .*/, '') ?? ''}`);
    expect(kinds).toEqual(['cluster:starting', 'cluster:up', 'repeat:run 1 of 3', 'repeat:run 2 of 3', 'repeat:run 3 of 3', 'teardown:clean']);
  });

  it('the stall is in run 2 and only there: its counter, its latency target failed, the seconds over the target', () => {
    const [one, two, three] = report.repeat!.runs;
    expect(two.counters.publisher_stall_ms).toBeGreaterThanOrEqual(STALL_MS);
    expect(one.counters.publisher_stall_ms).toBeUndefined();
    expect(three.counters.publisher_stall_ms).toBeUndefined();
    expect(two.targets.find((t) => t.id === 'latency-p99')?.status).toBe('fail');
    expect(two.verdict).toBe('fail');
    expect(two.secondsOverTarget?.length).toBeGreaterThan(0);
    expect(report.repeat!.distribution['metrics.broadcast_latency_ms.p99'].max).toBeGreaterThanOrEqual(STALL_MS);
  });

  it('the median verdict is the unstalled runs\' verdict: PASS, judged on run 1 or 3, exit 0', () => {
    const [one, , three] = report.repeat!.runs;
    expect([one.verdict, three.verdict]).toEqual(['pass', 'pass']);
    expect(report.verdict).toBe('pass');
    expect(r.code).toBe(0);
    expect([1, 3]).toContain(report.repeat!.judgedRun);
    // The top-level figures are the judged run's: its p99 is the median of the three.
    const d = report.repeat!.distribution['metrics.broadcast_latency_ms.p99'];
    expect(report.metrics.broadcast_latency_ms.p99).toBe(d.median);
    expect(report.targets.find((t) => t.id === 'latency-p99')?.actual).toBe(d.median);
  });

  it('the console says how many runs and which judgement, with a table of each run', () => {
    expect(r.stdout).toMatch(/runs: 3 of 3 on one cluster; targets judged on the median of each value/);
    expect(r.stdout).toMatch(/│ target\s+│\s+run 1 │\s+run 2 │\s+run 3 │\s+median │/);
    expect(r.stdout).toMatch(/│ run verdict\s+│\s+PASS │\s+FAIL │\s+PASS │\s+PASS │/);
    expect(r.stdout).toMatch(/verdict: PASS \((\d+)\/\1 targets met\) — the median of 3 runs/);
  });

  it('each run has its own folder run-<k>/ with its own full report; the top level holds the combined one', async () => {
    expect(readdirSync(out).filter((f) => f.startsWith('run-')).sort()).toEqual(['run-1', 'run-2', 'run-3']);
    expect(r.stderr).toContain("each run's own report in run-1/ … run-3/ beside it");
    const own = [1, 2, 3].map((k) => JSON.parse(readFileSync(join(out, `run-${k}`, 'report.json'), 'utf8')) as RunReport);
    expect(own.map((x) => x.runId)).toEqual([1, 2, 3].map((k) => `${report.runId}#${k}`));
    expect(own.map((x) => x.verdict)).toEqual(report.repeat!.runs.map((x) => x.verdict));
    expect(own.map((x) => x.accounting.expected)).toEqual(report.repeat!.runs.map((x) => x.accounting.expected));
    // Run 2's own report has what the compact run lacks: its timeline and its histograms; the stall is its own.
    expect(own[1].counters.publisher_stall_ms).toBeGreaterThanOrEqual(STALL_MS);
    expect(own[0].counters.publisher_stall_ms).toBeUndefined();
    expect(own[1].timeline.length).toBeGreaterThan(0);
    expect(own[1].metrics.broadcast_latency_ms.hdr).toBeTruthy();
    // Its events are its own: one measured phase, none of the other runs' `repeat` marks.
    expect(own[1].events.filter((e) => e.type === 'repeat').map((e) => e.detail)).toEqual(['run 2 of 3']);
    expect(own[1].repeat).toBeUndefined();
    for (const k of [1, 2, 3]) {
      expect(existsSync(join(out, `run-${k}`, 'report.html'))).toBe(true);
      expect(existsSync(join(out, `run-${k}`, 'junit.xml'))).toBe(false);
      // Each run's own report reads back (schema-valid; `report` exits as the run's own verdict, 2 for an unreadable one).
      expect((await wsbench(['report', join(out, `run-${k}`, 'report.json'), '--json'])).code).toBe(own[k - 1].verdict === 'pass' ? 0 : 1);
    }
  });

  it('the HTML report has a Runs section (a row per run, the distribution) and JUnit judges each target on the median with every run in its output', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const runs = /<section id="runs">([\s\S]*?)<\/section>/.exec(html)?.[1];
    expect(runs).toBeDefined();
    const rows = /<table class="runs">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(runs!)![1].split('</tr>').filter((x) => x.includes('<td'));
    expect(rows.map((x) => /s-(pass|fail)">(PASS|FAIL)/.exec(x)?.[2])).toEqual(['PASS', 'FAIL', 'PASS']);
    expect(runs).toContain('<code>metrics.broadcast_latency_ms.p99</code>');
    const xml = readFileSync(join(out, 'junit.xml'), 'utf8');
    const cases = xml.split('<testcase').slice(1);
    expect(cases).toHaveLength(report.targets.length);
    const p99 = cases.find((c) => c.includes('name="latency-p99'))!;
    expect(p99).not.toContain('<failure');
    expect(p99).toMatch(/run 2: [\d,.]+ ms FAIL \(run verdict FAIL/);
    expect(p99).toContain('judged on: the median over the runs (3 of 3 runs on one cluster)');
  });

  it('the report validates against the schema (wsbench report reads it back) and no process is left', async () => {
    const back = await wsbench(['report', join(out, 'report.json'), '--json']);
    expect(back.code).toBe(0);
    expect((JSON.parse(back.stdout) as RunReport).repeat?.runs).toHaveLength(3);
    expect(describePids(await waitNoRunProcesses({ tag, dir: out }))).toEqual([]);
  });

  it('`wsbench compare` of two repeated reports judges the current median against the baseline spread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-repeat-cmp-'));
    const base = join(dir, 'baseline.json');
    writeFileSync(base, JSON.stringify(report));
    // Against itself: the median lies inside its own spread, though run 2's p99 is far from the others.
    const copy = join(dir, 'same.json');
    writeFileSync(copy, JSON.stringify(report));
    const same = await wsbench(['compare', base, copy, '--json']);
    const cmp = JSON.parse(same.stdout) as { regressed: boolean; warnings: string[]; deltas: Array<{ metric: string; baseline: number; current: number; status: string }> };
    expect(same.code).toBe(0);
    expect(cmp.regressed).toBe(false);
    expect(cmp.warnings.some((w) => /repeated runs \(baseline 3, current 3\)/.test(w))).toBe(true);
    const p99 = cmp.deltas.find((x) => x.metric === 'metrics.broadcast_latency_ms.p99')!;
    const d = report.repeat!.distribution['metrics.broadcast_latency_ms.p99'];
    expect([p99.baseline, p99.current]).toEqual([d.max, d.median]);
    // A current whose median p99 lies beyond the baseline's max + 10 %: a regression.
    const worse: RunReport = JSON.parse(JSON.stringify(report));
    const wd = worse.repeat!.distribution['metrics.broadcast_latency_ms.p99'];
    wd.values = wd.values.map(() => d.max! * 2);
    wd.median = d.max! * 2;
    const cur = join(dir, 'current.json');
    writeFileSync(cur, JSON.stringify(worse));
    const reg = await wsbench(['compare', base, cur, '--json']);
    expect(reg.code).toBe(1);
    const regCmp = JSON.parse(reg.stdout) as { deltas: Array<{ metric: string; status: string }> };
    expect(regCmp.deltas.filter((x) => x.status === 'regression').map((x) => x.metric)).toEqual(['metrics.broadcast_latency_ms.p99']);
  });
});

describe('--repeat 2 --fresh-cluster --judge every', () => {
  let r: CliResult;
  let report: RunReport;
  const tag = newTag();
  let out: string;

  beforeAll(async () => {
    out = join(mkdtempSync(join(tmpdir(), 'wsb-repeat-fresh-')), 'run');
    r = await wsbench(['run', 'cross-node-broadcast', ...SMALL, '--duration', '2', '--repeat', '2', '--fresh-cluster', '--judge', 'every', ...TARGETS, '--out', out], {
      env: { ...process.env, WSB_TEST_TAG: tag },
    });
    report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  }, 240_000);

  it('a cluster started and torn down for each run, both runs reported, judged on every run', async () => {
    const kinds = report.events.filter((e) => ['cluster', 'repeat', 'teardown'].includes(e.type)).map((e) => `${e.type}:${e.detail?.replace(/ at .*/, '') ?? ''}`);
    expect(kinds).toEqual(['cluster:starting', 'cluster:up', 'repeat:run 1 of 2', 'cluster:starting', 'cluster:up', 'repeat:run 2 of 2', 'teardown:clean']);
    expect(report.repeat).toMatchObject({ count: 2, judge: 'every', freshCluster: true });
    expect(report.repeat!.runs).toHaveLength(2);
    const verdicts = report.repeat!.runs.map((x) => x.verdict);
    expect(report.verdict).toBe(verdicts.every((v) => v === 'pass') ? 'pass' : 'fail');
    expect(r.code).toBe(report.verdict === 'pass' ? 0 : 1);
    expect(r.stdout).toMatch(/runs: 2 of 2 on a fresh cluster each; every run must pass/);
    expect(describePids(await waitNoRunProcesses({ tag, dir: out }))).toEqual([]);
  });
});
