/**
 * The run-level keys of repeated runs (`--repeat`, `--judge`, `--fresh-cluster`) and how a plan
 * gets them: the zod shape and flag names to spread into the run schema, the scenario's default
 * run (e.g. cross-node-broadcast's 3 × 8 s when neither --repeat nor --duration is given), and the
 * checks against the other keys (hooked into config/resolve.ts).
 */
import { z } from 'zod';
import { REPEAT_JUDGES } from '../runner/repeats.js';
import type { RunPlan } from '../runner/plan.js';
import type { RepeatJudge } from '../model/run-report.js';
import type { Scenario } from '../scenarios/define.js';

export const repeatShape = {
  /** Runs of the scenario (default 1; the scenario's default run may set more): judged on their distribution. */
  repeat: z.number().int().min(1).max(100).optional(),
  /** How repeated runs are judged: the median of each value (default), the worst run, every run must pass. */
  judge: z.enum(REPEAT_JUDGES).default('median'),
  /** A fresh cluster per run instead of one for all of them (default false). */
  freshCluster: z.boolean().default(false),
};

export const REPEAT_FLAGS = { repeat: '--repeat', judge: '--judge', freshCluster: '--fresh-cluster' } as const;

/** Numeric keys among them (command-line strings to coerce). */
export const REPEAT_NUMERIC_KEYS = ['repeat'] as const;

/**
 * The scenario's default run, when it applies: neither `repeat` nor `duration` chosen (flags or
 * config file) and not a shard (a shard runs once, on the timeline the shards agreed on). Sets the
 * raw `duration` so the scenario's schema validates the run as it will be.
 */
export function defaultRunProfile(scenario: Pick<Scenario<any>, 'defaultRepeat'>, rawRun: Record<string, unknown>, rawScenario: Record<string, unknown>): { count: number; duration: number } | undefined {
  const profile = scenario.defaultRepeat && rawRun.repeat === undefined && rawScenario.duration === undefined && rawRun.shard === undefined ? scenario.defaultRepeat : undefined;
  if (profile) rawScenario.duration = profile.duration;
  return profile;
}

/** The plan's `repeat` (undefined for one run) and the problems, in flag terms, with the other keys. */
export function planRepeat(
  run: { repeat?: number; judge: RepeatJudge; freshCluster: boolean; url?: string; cluster?: string; shard?: string },
  options: Record<string, unknown>,
  profile: { count: number } | undefined,
  problems: string[],
): RunPlan['repeat'] {
  const count = run.repeat ?? profile?.count ?? 1;
  if (run.freshCluster && run.url !== undefined) problems.push('--fresh-cluster: does not apply with --url (wsbench does not start that cluster)');
  if (run.freshCluster && run.cluster !== undefined) problems.push('--fresh-cluster: does not apply with --cluster (wsbench cluster up started that cluster)');
  if (count > 1 && run.shard !== undefined) problems.push('--repeat: a shard (--shard) runs once; repeat the whole sharded run instead');
  const stallRun = options.publisherStallRun;
  if (typeof stallRun === 'number' && stallRun > count) problems.push(`--publisher-stall-run ${stallRun}: there are only ${count} run(s) (--repeat)`);
  return count > 1 ? { count, judge: run.judge, freshCluster: run.freshCluster } : undefined;
}

/** The plan's note when the scenario's default run applied. */
export function profileNote(scenarioName: string, profile: { count: number; duration: number }): string {
  return `${scenarioName}'s default run: ${profile.count} runs of ${profile.duration} s measured each, judged on the median (give --repeat or --duration to choose)`;
}
