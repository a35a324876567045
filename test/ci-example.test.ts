/**
 * The CI example and its committed baseline are made the same way: the workflow's `wsbench run`
 * line, planned as the CLI plans it, has the baseline's workload options and the baseline's
 * repeats (count and judgement). A workflow that pins `--duration 20` against a baseline of three
 * 8 s runs (or the other way round) fails here, not on the user's first pull request.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../cli/plan.js';
import type { RunReport } from '../model/run-report.js';
import { COSMETIC_OPTIONS } from '../reports/compare.js';

const WORKFLOW = readFileSync(new URL('../examples/ci/github-actions.yml', import.meta.url), 'utf8');
const BASELINE = JSON.parse(readFileSync(new URL('../examples/ci/baseline.json', import.meta.url), 'utf8')) as RunReport;

/** The workflow's `npx wsbench run <scenario> --flag value …` as the scenario and camelCase flags. */
function runLine(): { scenario: string; flags: Record<string, unknown> } {
  const lines = WORKFLOW.split('\n').filter((l) => /^\s*run: npx wsbench run /.test(l));
  expect(lines, 'one `npx wsbench run` step').toHaveLength(1);
  const words = lines[0].replace(/^\s*run: npx wsbench run /, '').trim().split(/\s+/);
  const flags: Record<string, unknown> = {};
  for (let i = 1; i < words.length; i++) {
    const name = words[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (words[i + 1] !== undefined && !words[i + 1].startsWith('--')) flags[name] = words[++i];
    else flags[name] = true;
  }
  return { scenario: words[0], flags };
}

describe('examples/ci: the workflow runs what its baseline is', () => {
  it('the same scenario, the same repeats and judgement, the same workload options', () => {
    const { scenario, flags } = runLine();
    expect(scenario).toBe(BASELINE.scenario.name);
    const plan = buildPlan(scenario, flags, { ...process.env, WSB_JWT_SECRET: 'test' });
    expect(plan.repeat?.count ?? 1).toBe(BASELINE.repeat?.count ?? 1);
    expect(plan.repeat?.judge ?? 'median').toBe(BASELINE.repeat?.judge ?? 'median');
    const workload = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !COSMETIC_OPTIONS.has(k)));
    expect(workload(BASELINE.options)).toEqual(workload(plan.options));
  });

  it('the baseline is a passing default run: repeated, every run reported, judged on the median', () => {
    expect(BASELINE.verdict).toBe('pass');
    expect(BASELINE.repeat?.count).toBeGreaterThan(1);
    expect(BASELINE.repeat?.runs).toHaveLength(BASELINE.repeat!.count);
    expect(Object.keys(BASELINE.repeat!.distribution)).toContain('metrics.broadcast_latency_ms.p99');
  });
});
