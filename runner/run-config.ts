import { Writable } from 'node:stream';
import { WsbenchError } from '../common/errors.js';
import { resolvePlan } from '../config/resolve.js';
import type { WsbenchConfig } from '../config/schema.js';
import type { RunReport } from '../reports/run-report.js';
// TODO(issue 13 part 1): repoint to the terminal-free run core (runner/run.ts) once it lands; this
// wraps the CLI's run with a silent IO meanwhile.
import { run as runPlan } from '../cli/run.js';

/** What a run tells its caller while it goes: for now, the lines the CLI prints on stderr (progress, cluster up, teardown). */
export type RunEvent = { type: 'log'; message: string };

export interface RunOptions {
  /** Aborting it stops the run gracefully: teardown, a partial report (verdict `interrupted`). */
  signal?: AbortSignal;
  /** Called with every event of the run. */
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
export async function run(config: WsbenchConfig & { scenario: string }, opts: RunOptions = {}): Promise<RunReport> {
  if (typeof config !== 'object' || config === null || typeof config.scenario !== 'string') {
    throw new WsbenchError('WSB_CONFIG_INVALID', `run(config): config.scenario: expected a scenario name (got ${JSON.stringify((config as { scenario?: unknown } | null)?.scenario)})`, {
      hint: "run({ scenario: 'cross-node-broadcast', options: { connections: 300 } })",
    });
  }
  const plan = resolvePlan(config.scenario, [{ origin: 'config', source: 'run() config', values: { ...config } }], opts.env ?? process.env);
  let pending = '';
  const stderr = new Writable({
    write(chunk: Buffer, _enc, done) {
      pending += chunk.toString();
      const lines = pending.split(/\r|\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) opts.onEvent?.({ type: 'log', message: line.replace(/\x1b\[K/g, '') });
      done();
    },
  });
  const stdout = new Writable({ write: (_c, _e, done) => done() });
  const { report } = await runPlan(plan, { stdout, stderr, signal: opts.signal ?? new AbortController().signal });
  return report;
}
