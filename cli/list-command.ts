/**
 * `wsbench list`: every scenario, its options and the targets it judges; with `--config <file>
 * [run]`: per run of that file, what will be judged — each target, its op and threshold, and its
 * source (the seed sentence, or the config that set, added or switched it off).
 */
import { loadConfigFile } from '../config/load.js';
import { SCENARIOS } from '../scenarios/index.js';
import { SEED_TARGETS, type TargetSpec } from '../model/targets.js';
import { seedLabel, sourceLine } from '../reports/seed-label.js';
import { buildPlan } from './plan.js';

/** The scenarios, their targets (seed thresholds) and options. */
export function listScenarios(out: NodeJS.WritableStream): void {
  for (const s of Object.values(SCENARIOS)) {
    out.write(`${s.name}\n  ${s.describe}\n  targets:\n`);
    for (const id of s.targets) {
      const t = SEED_TARGETS[id];
      out.write(`    ${id}: ${t.description} (${t.op} ${t.value} ${t.unit}; ${seedLabel(t.source.seed)})\n`);
    }
    out.write('  options:\n');
    for (const f of s.flags) out.write(`    ${f.flag.padEnd(22)} ${f.description}\n`);
  }
}

/** One target as `list --config` prints it: `  latency-p99  <= 100 ms  (seed: 50)  set in wsbench.config.json; seed: "…"`. */
export function targetLine(t: TargetSpec): string {
  const threshold = t.off ? 'off (not judged)' : `${t.metric} ${t.op} ${t.value}${t.unit && t.unit !== 'deliveries' ? ` ${t.unit}` : ''}${t.override ? ` (seed: ${t.override.seedValue})` : ''}`;
  return `    ${t.id.padEnd(30)} ${threshold.padEnd(52)} ${sourceLine(t.source)}`;
}

/**
 * What each run of a config file will judge (`run`: only that named run, or that scenario). The
 * config is resolved as `wsbench run` would, so a bad key fails here the same way (exit 2).
 */
export async function listConfig(path: string, run: string | undefined, out: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = await loadConfigFile(path);
  const runs = file.runs !== null && typeof file.runs === 'object' ? Object.keys(file.runs as object) : [];
  const names = run !== undefined ? [run] : runs.length ? runs : [typeof file.scenario === 'string' ? file.scenario : ''];
  // Listing contacts nothing: a cluster's secret is not needed to say what will be judged.
  const listEnv = { ...env, WSB_JWT_SECRET: env.WSB_JWT_SECRET ?? 'not-needed-to-list' };
  for (const name of names) {
    const plan = buildPlan(name, { config: path }, listEnv, file);
    out.write(`${name === plan.scenario.name ? name : `${name} (${plan.scenario.name})`}\n  targets judged:\n`);
    for (const t of plan.targets) out.write(`${targetLine(t)}\n`);
  }
}
