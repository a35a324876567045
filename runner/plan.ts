import type { Topology } from '../cluster/types.js';
import type { DockerDriverOptions } from '../cluster/docker-options.js';
import type { ExternalTarget } from '../cluster/external-driver.js';
import type { Scenario, ServerOverride } from '../scenarios/define.js';
import type { TargetSpec } from '../model/targets.js';
import type { RepeatJudge } from '../model/run-report.js';
import type { ShardPlan } from '../load/shard-plan.js';
import type { EffectiveConfig } from '../config/schema.js';

/** Everything one run needs, resolved and validated: defaults < config file < flags. */
export interface RunPlan {
  scenario: Scenario<any>;
  options: Record<string, unknown>;
  topology: Topology;
  serverOverrides: ServerOverride[];
  targets: TargetSpec[];
  /** Output folder for report.json and logs; default wsbench-results/<run id>. */
  outDir: string | undefined;
  /** Print the JSON report on stdout instead of the table. */
  json: boolean;
  /** What drives the load: the Node engine (load/ workers, default) or k6 (engines/k6/). */
  engine: 'node' | 'k6';
  /** k6 binary given with --k6 (else K6_BIN, else PATH); only with engine `k6`. */
  k6Path: string | undefined;
  runId: string;
  /** Cluster driver: `local` processes (default) or `docker` containers. */
  driver: 'local' | 'docker' | 'external';
  /** Docker driver settings (images, network, pull policy); only used with driver `docker`. */
  docker: DockerDriverOptions;
  /** `--url` (driver `external`): the running cluster to use instead of starting one. */
  external?: ExternalTarget;
  /** `--repeat N`, `--judge`, `--fresh-cluster`: the scenario N times, judged on the distribution (absent: once). */
  repeat?: { count: number; judge: RepeatJudge; freshCluster: boolean };
  /** Caveats found while planning, for the report's notes. */
  notes?: string[];
  /** `--shard i/N`: this run is one share of a bigger plan and writes partial.json (load/shard-plan.ts). */
  shard?: ShardPlan;
  /** `--cluster <id>`: the `wsbench cluster up` cluster the run points at. */
  clusterId?: string;
  /** The effective config (printed by `--dry-run`, stored in the report as `config`). */
  config: EffectiveConfig;
}
