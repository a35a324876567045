import { dirname, resolve } from 'node:path';
import { Option } from 'commander';
import { WsbenchError } from '../common/errors.js';
import { SCENARIOS } from '../scenarios/index.js';
import { loadConfigFile, readJsonConfigFile, selectRun } from '../config/load.js';
import { lookupScenario, resolvePlan, type ConfigLayer } from '../config/resolve.js';
import type { RunPlan } from '../runner/plan.js';
import { newRunId } from '../runner/run-id.js';
import { NUMERIC_RUN_KEYS, RUN_FLAGS } from '../config/schema.js';
import { tlsFromFlags } from '../config/external-options.js';

export { lookupScenario, newRunId, type RunPlan };

/** The flag values of `wsbench run` as commander gives them (strings, lists, booleans). */
export type RunFlags = Record<string, unknown> & { config?: string; out?: string; json?: boolean; target?: string[]; dryRun?: boolean };

/** Numbers from the command line arrive as strings; anything not a finite number stays as is so zod names it. */
function coerce(v: unknown, numeric: boolean): unknown {
  return numeric && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
}

/**
 * The scenario's flags as commander gives them, by option key. Commander names a value after its
 * flag (`--publishers <n>` → `publishers`), which is not always the option's key (`publishersPerRoom`).
 */
export function scenarioFlagValues(scenarioName: string, flags: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of lookupScenario(scenarioName).flags) {
    const v = flags[new Option(f.flag).attributeName()] ?? flags[f.key];
    if (v !== undefined) out[f.key] = v;
  }
  return out;
}

/** The command line as a config layer: run flags by key, scenario flags under `options`, `--target id=value` under `targets`. */
export function flagsLayer(scenarioName: string, flags: RunFlags): ConfigLayer {
  const scenario = lookupScenario(scenarioName);
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(RUN_FLAGS)) if (flags[key] !== undefined) values[key] = coerce(flags[key], NUMERIC_RUN_KEYS.has(key));
  const options: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(scenarioFlagValues(scenarioName, flags))) options[key] = coerce(v, true);
  if (Object.keys(options).length) values.options = options;
  if (flags.target?.length) {
    const targets: Record<string, unknown> = {};
    for (const item of flags.target) {
      const m = /^\s*([a-z0-9][a-z0-9-]*)\s*=\s*(\S+)\s*$/i.exec(item);
      if (!m) throw new WsbenchError('WSB_INVALID_OPTION', `--target ${item}: expected <id>=<number> or <id>=off, e.g. latency-p99=30`, { hint: `targets of this scenario: ${scenario.targets.join(', ')}` });
      targets[m[1]] = coerce(m[2], true);
    }
    values.targets = targets;
  }
  // --server-command / --server-image: the user's server, the flag form of `server: { command, image }`.
  if (flags.serverCommand !== undefined || flags.serverImage !== undefined) {
    if (flags.server !== undefined) {
      throw new WsbenchError('WSB_INVALID_OPTION', `--server ${String(flags.server)} and --server-${flags.serverCommand !== undefined ? 'command' : 'image'}: choose a reference server or your own`, {
        hint: 'drop --server to run your own server (--server-command / --server-image), or drop those to run a reference server',
      });
    }
    values.server = {
      ...(flags.serverCommand !== undefined ? { command: flags.serverCommand } : {}),
      ...(flags.serverImage !== undefined ? { image: flags.serverImage } : {}),
    };
  }
  const tls = tlsFromFlags(flags as { ca?: unknown; insecure?: unknown });
  if (tls) values.tls = tls;
  if (flags.out !== undefined) values.out = flags.out;
  if (flags.json !== undefined) values.json = flags.json;
  return { origin: 'flags', source: 'command line', values };
}

/**
 * Builds a RunPlan from the positional of `wsbench run`, the raw flag values and the loaded config
 * file (a JSON `--config` is read here when `file` is not given): defaults < config file < flags.
 * With a config file, `name` is a named run of it or the scenario. Every problem is reported at
 * once (WSB_INVALID_OPTION in flag names, WSB_CONFIG_INVALID in config keys).
 */
export function buildPlan(name: string, flags: RunFlags, env: NodeJS.ProcessEnv = process.env, file?: Record<string, unknown>): RunPlan {
  const layers: ConfigLayer[] = [];
  let scenario = name;
  const loaded = file ?? (flags.config !== undefined ? readJsonConfigFile(flags.config) : undefined);
  if (loaded) {
    const picked = selectRun(loaded, name, flags.config ?? 'config', Object.keys(SCENARIOS));
    scenario = picked.scenario;
    lookupScenario(scenario);
    layers.push({ origin: 'config', source: picked.source, values: picked.values, ...(flags.config !== undefined ? { dir: dirname(resolve(flags.config)) } : {}) });
  }
  layers.push(flagsLayer(scenario, flags));
  return resolvePlan(scenario, layers, env);
}

/** `wsbench run <name> [--config f] …`: loads the config file of any kind (JSON, JS, TS), then buildPlan. */
export async function planFromCommandLine(name: string, flags: RunFlags, env: NodeJS.ProcessEnv = process.env): Promise<RunPlan> {
  const file = flags.config !== undefined ? await loadConfigFile(flags.config) : undefined;
  return buildPlan(name, flags, env, file);
}
