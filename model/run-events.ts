import type { ProgressSnapshot } from './progress.js';
import type { RunReport } from './run-report.js';

/** One entry of the report's `events`: a cluster event, a phase, a chaos action (with its target and end). */
export type ReportEvent = RunReport['events'][number];

/**
 * What a run tells its caller while it runs (`run(plan, { onEvent })`): the run core prints
 * nothing; the CLI renders these on the terminal, a library user does what they like with them.
 */
export type RunEvent =
  /** A line for a human: "starting cluster: …", "cluster up: …", "tearing down…". */
  | { type: 'log'; message: string }
  /** A line of an engine's own program output (k6's stdout and stderr). */
  | { type: 'output'; source: string; line: string }
  /** A live snapshot of the scenario (a few per second). */
  | { type: 'progress'; snapshot: ProgressSnapshot }
  /** An event as the report's `events` records it: cluster up, phases, chaos actions, teardown. */
  | { type: 'event'; event: ReportEvent };

export type RunEventListener = (e: RunEvent) => void;
