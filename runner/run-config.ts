import { WsbenchError } from '../common/errors.js';
import { resolvePlan } from '../config/resolve.js';
import type { WsbenchConfig } from '../config/schema.js';
import type { RunReport } from '../model/run-report.js';
import type { RunEvent } from '../model/run-events.js';
import { run as runPlan } from './run.js';

export interface RunConfigOptions {
  /** Aborting it stops the run gracefully: teardown, a partial report (verdict `interrupted`). */
  signal?: AbortSignal;
  /** Every log line, progress snapshot, cluster event and chaos action, as it happens. */
  onEvent?: (event: RunEvent) => void;
  /** Environment (`WSB_JWT_SECRET` for `url`); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs one config end to end from code — cluster up, scenario, teardown — and resolves to its
 * RunReport (also written to `out`, default wsbench-results/<run id>), printing nothing. Config
 * problems reject with WSB_CONFIG_INVALID before anything starts; a run that started resolves
 * (verdict `pass`, `fail`, `error` with `report.error`, or `interrupted`).
 */
export async function runConfig(config: WsbenchConfig & { scenario: string }, opts: RunConfigOptions = {}): Promise<RunReport> {
  if (typeof config !== 'object' || config === null || typeof config.scenario !== 'string') {
    throw new WsbenchError('WSB_CONFIG_INVALID', `run(config): config.scenario: expected a scenario name (got ${JSON.stringify((config as { scenario?: unknown } | null)?.scenario)})`, {
      hint: "run({ scenario: 'cross-node-broadcast', options: { connections: 300 } })",
    });
  }
  const plan = resolvePlan(config.scenario, [{ origin: 'config', source: 'run() config', values: { ...config } }], opts.env ?? process.env);
  const { report } = await runPlan(plan, { signal: opts.signal, onEvent: opts.onEvent });
  return report;
}
