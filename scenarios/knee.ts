import type { RunReport } from '../model/run-report.js';

/** One step of a capacity search: the offered load and what the run measured at it (as the report keeps it). */
export type CapacityStep = NonNullable<RunReport['capacitySearch']>['steps'][number];

export interface Limits {
  /** A step breaks when its p99 exceeds this (ms). */
  p99Ms: number;
  /** A step breaks when it loses more than this many deliveries (default 0). */
  maxLost?: number;
}

/** Reasons a step breaks the limits (empty: it held). A generator-bound step is not trusted either. */
export function breaks(s: Omit<CapacityStep, 'broke'>, limits: Limits): string[] {
  const out: string[] = [];
  if (s.p99Ms > limits.p99Ms) out.push(`p99 ${s.p99Ms} ms > ${limits.p99Ms} ms`);
  if (s.lost > (limits.maxLost ?? 0)) out.push(`${s.lost} lost`);
  if (s.generatorBound) out.push('generator-bound');
  return out;
}

/**
 * The knee of a capacity search: the last step that held before the first that broke. Steps are
 * in the order they ran (rising load); a search stops at its first broken step.
 */
export function findKnee(steps: CapacityStep[]): { lastGood: CapacityStep | null; firstBad: CapacityStep | null } {
  const i = steps.findIndex((s) => s.broke.length > 0);
  if (i === -1) return { lastGood: steps.at(-1) ?? null, firstBad: null };
  return { lastGood: i > 0 ? steps[i - 1] : null, firstBad: steps[i] };
}

/** How a search runs each step (defaults in SEARCH_DEFAULTS). */
export interface SearchRules {
  /** Times a broken step runs again before it counts as broken (default 1). */
  retries: number;
  /** Runs per attempt of a step; the attempt is the run with the median p99, and it breaks when more than half of its runs broke (default 1). */
  repeats: number;
}

export const SEARCH_DEFAULTS: SearchRules = { retries: 1, repeats: 1 };

const brief = (s: CapacityStep) => ({ p50Ms: s.p50Ms, p99Ms: s.p99Ms, lost: s.lost, ...(s.samples === undefined ? {} : { samples: s.samples }), broke: s.broke });

/**
 * One attempt of a step from its repeats: the run with the median p99 speaks for it; it breaks when
 * more than half of the runs broke (then with the median run's reasons, or the first broken run's
 * when the median run itself held).
 */
export function combineRepeats(runs: CapacityStep[]): CapacityStep {
  if (runs.length === 0) throw new Error('combineRepeats: no runs');
  if (runs.length === 1) return runs[0];
  const byP99 = [...runs].sort((a, b) => a.p99Ms - b.p99Ms);
  const median = byP99[Math.floor((byP99.length - 1) / 2)];
  const brokenRuns = runs.filter((r) => r.broke.length > 0);
  const broke = brokenRuns.length * 2 > runs.length ? (median.broke.length ? median.broke : brokenRuns[0].broke) : [];
  return { ...median, broke, discarded: runs.filter((r) => r !== median).map(brief) };
}

/**
 * Runs one step under the rules: `repeats` runs per attempt, and a broken attempt is run again up
 * to `retries` times; the step counts as broken only when its last attempt broke too (a single
 * stall in one attempt does not end the search). The attempts that did not decide are kept.
 */
export async function measureStep(measure: (attempt: number) => Promise<CapacityStep>, rules: SearchRules = SEARCH_DEFAULTS): Promise<CapacityStep> {
  const tried: CapacityStep[] = [];
  let attempt = 0;
  for (;;) {
    const runs: CapacityStep[] = [];
    for (let r = 0; r < Math.max(1, rules.repeats); r++) runs.push(await measure(attempt * Math.max(1, rules.repeats) + r));
    const combined = combineRepeats(runs);
    tried.push(combined);
    attempt++;
    if (combined.broke.length === 0 || attempt > rules.retries) break;
  }
  const decided = tried[tried.length - 1];
  const discarded = [...tried.slice(0, -1).flatMap((t) => [brief(t), ...(t.discarded ?? [])]), ...(decided.discarded ?? [])];
  const runs = tried.length * Math.max(1, rules.repeats);
  return { ...decided, ...(runs > 1 ? { attempts: runs } : {}), ...(discarded.length ? { discarded } : {}) };
}
