import type { z } from 'zod';
import type { StartedCluster, Topology } from '../cluster/types.js';
import type { LoadGenerator, LoadGeneratorOptions } from '../load/load-generator.js';
import type { RunReport } from '../model/run-report.js';
import type { ProgressSnapshot } from '../model/progress.js';

export type { ProgressSnapshot };

/** What a scenario measured; the runner adds environment, topology, targets and verdict. */
export type ScenarioResult = Pick<RunReport, 'metrics' | 'counters' | 'accounting' | 'connectionsPerNode' | 'timeline' | 'generator'> & {
  /** Scenario-specific notes for the report (e.g. nodes that got no connections). */
  notes?: string[];
  /** Encoded HDR histograms (µs) of the metrics, by metric name: what `wsbench merge` adds up (shards only). */
  histograms?: Record<string, string>;
  /** Encoded HDR histogram (µs) of each timeline second's deliveries, by `t` (shards only). */
  timelineHistograms?: Array<{ t: number; hdr: string }>;
  /** Wall clock (ms since the epoch) of the timeline's zero, the measured phase's start: `wsbench merge` lines shards' seconds up by it (shards only). */
  measureFromEpochMs?: number;
  /** Optional report sections the scenario produced. */
  extra?: Partial<Pick<RunReport, 'windows' | 'reconnection' | 'nodeMetrics' | 'capacity' | 'capacitySearch' | 'probes' | 'perNode' | 'stalls'>>;
};


export interface ScenarioContext<O> {
  cluster: StartedCluster;
  options: O;
  topology: Topology;
  signal: AbortSignal;
  /** Starts the load generator; it is closed by the runner on every exit path. */
  startLoad(opts: Omit<LoadGeneratorOptions, 'url' | 'jwtSecret'>): Promise<LoadGenerator>;
  /** Records a phase change or chaos action on the run's timeline (a chaos action with its target and duration). */
  event(type: string, detail?: string, outcome?: 'ok' | 'fail' | 'unknown', action?: { target: string; durationMs: number }): void;
  progress(p: ProgressSnapshot): void;
  /** `--repeat N`: which of the N runs on this cluster this is (1-based); absent for a single run. */
  repeat?: { run: number; of: number };
  /**
   * `--shard i/N`: this process runs only these rooms of the plan (options.connections and
   * options.rooms are already this shard's share), and publishing starts at `startAtMs` (wall
   * clock, ms since the epoch) when the shards agreed on one (load/shard-plan.ts).
   */
  shard?: { roomNames: string[]; startAtMs?: number };
}

/** A server setting a scenario changes from the seed default, and why (recorded in the report). */
export interface ServerOverride {
  setting: 'rateLimit' | 'rateWindowMs' | 'maxPayload' | 'roomCapacity';
  value: number;
  why: string;
}

/** One command-line flag of a scenario option, typed against the option's key. */
export interface ScenarioFlag<O> {
  key: keyof O & string;
  flag: string;
  description: string;
}

/**
 * A scenario is a module, as a k6 script is: its options (zod schema with defaults, and the flags
 * that set them), the metrics it produces, the seed targets it judges, and run(ctx).
 */
export interface Scenario<O extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  describe: string;
  options: z.ZodType<O, z.ZodTypeDef, unknown>;
  flags: Array<ScenarioFlag<O>>;
  metrics: string[];
  /** Ids in SEED_TARGETS this scenario judges. */
  targets: string[];
  /**
   * What the scenario does to the cluster's parts (kill / stop / restart a node, Redis or the load
   * balancer), when it does: such a scenario cannot run against a cluster wsbench did not start
   * (`--url`), and the run is refused with WSB_EXTERNAL_UNSUPPORTED naming this.
   */
  needsClusterControl?: string;
  /**
   * The scenario's default run when neither `--repeat` nor `--duration` is given (flags or config
   * file): `count` runs of `duration` measured seconds each, judged on the median — the quick
   * start's scenario runs 3 × 8 s so that one stall cannot flip its verdict. Absent: one run.
   */
  defaultRepeat?: { count: number; duration: number };
  /** Can run as `--shard i/N` (split by room; load/shard-plan.ts). */
  shardable?: boolean;
  /** Checks that span several options (after the schema); returns problems in the user's terms. */
  validate?(options: O, topology: Pick<Topology, 'nodes'>): string[];
  /** Topology the scenario needs: expected connections and server settings it overrides. */
  topology(options: O): { expectedConnections: number; serverOverrides: ServerOverride[] };
  run(ctx: ScenarioContext<O>): Promise<ScenarioResult>;
}

export function defineScenario<O extends Record<string, unknown>>(s: Scenario<O>): Scenario<O> {
  return s;
}
