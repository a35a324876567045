import type { StartedCluster, Topology } from '../cluster/types.js';
import type { ProgressSnapshot } from '../model/progress.js';
import type { TargetResult } from '../model/run-report.js';
import type { TargetSpec } from '../model/targets.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenarios/define.js';

/** What an engine needs to know before the cluster starts. */
export interface EnginePrepareInput {
  scenario: Scenario<any>;
  options: Record<string, unknown>;
  topology: Topology;
  targets: readonly TargetSpec[];
  /** The run's output folder (logs, bundled scripts, summaries). */
  outDir: string;
  /** k6 binary (`--k6`); engines other than k6 ignore it. */
  k6Path?: string;
  /**
   * `--shard i/N`: the rooms this process runs and the agreed start (load/shard-plan.ts). The Node
   * engine runs `options` (already the share's); the k6 engine runs the whole plan's options
   * (`planOptions`) on its execution segment `ref`.
   */
  shard?: { roomNames: string[]; startAtMs?: number; ref?: { index: number; count: number }; planOptions?: Record<string, unknown> };
}

/** What the runner gives an engine once the cluster is up. */
export interface EngineRunContext {
  cluster: StartedCluster;
  signal: AbortSignal;
  /** Records a phase change or chaos action on the run's timeline (the report's `events`). */
  event: ScenarioContext<unknown>['event'];
  progress(p: ProgressSnapshot): void;
  /** A line of the engine's own program output (k6's stdout and stderr). */
  output(line: string): void;
  /** Registers a closer the runner runs at teardown, in reverse order, on every exit path. */
  defer(name: string, close: () => Promise<void>): void;
  /** The engine started a process: the runner records the run's pids again (pids.json, for `wsbench clean`). */
  onProcess(): void;
  /** `--repeat N`: which of the N runs this is (1-based); absent for a single run. */
  repeat?: { run: number; of: number };
  /** This run's own folder (`<out>/run-<k>/` for repeated runs: k6's summaries and logs); absent: the prepare input's `outDir`. */
  outDir?: string;
}

/** The runner's target results after the engine's own judgement (k6's thresholds). */
export interface EngineJudgement {
  targets: TargetResult[];
  notes: string[];
  /** The engine itself failed the run (k6 exit 99: a threshold crossed): never a pass. */
  failed: boolean;
}

export interface EngineOutcome {
  result: ScenarioResult;
  /** Reconciles the targets the runner evaluated with what the engine judged itself (optional). */
  judge?(targets: TargetResult[]): EngineJudgement;
}

/** An engine after `prepare`: ready to run once the cluster is up. */
export interface PreparedEngine {
  /** Lines for the user about what was prepared (e.g. k6's version and the bundled script). */
  readonly log: readonly string[];
  /** Every process the engine started (for a forced kill and pids.json). */
  pids(): number[];
  run(ctx: EngineRunContext): Promise<EngineOutcome>;
}

/**
 * What drives the load. The runner calls `prepare` BEFORE the cluster starts (a missing k6 must
 * leave nothing running), then `run` once it is up, without knowing which engine it is.
 */
export interface Engine {
  readonly name: 'node' | 'k6';
  prepare(input: EnginePrepareInput): Promise<PreparedEngine>;
}
