/**
 * The user's own targets (`targets` in a config, `--target id=value|off` on the command line):
 * override a seed target's threshold, switch one off, or add one on any report value by path.
 *
 *   targets: {
 *     'latency-p99': { max: 100 },            // or just 100: the threshold, in the target's unit
 *     'no-loss': false,                       // off: listed with its source, never judged
 *     'my-connect-p99': { metric: 'metrics.connect_time_ms.p99', max: 3000, unit: 'ms', description: '…' },
 *   }
 *
 * The source of a target the user touched is the config that did it (its file path, or
 * `command line`); the others keep their seed sentence.
 */
import { SCENARIOS, type Scenario } from '../scenarios/index.js';
import { SEED_TARGETS, withValue, type TargetSpec } from '../model/targets.js';
import { isReportNumberPath, numericReportPaths } from '../model/report-paths.js';

/** One value of `targets`: a threshold, false / 'off' (switched off), or an object. */
export type TargetConfigValue = number | false | 'off' | { max?: number; min?: number; metric?: string; unit?: string; description?: string };

const OBJECT_KEYS = ['max', 'min', 'metric', 'unit', 'description'];
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Every metric name any scenario records, and every counter a seed target reads. */
function knownNames(): { metricNames: string[]; counterNames: string[] } {
  const metricNames = new Set<string>();
  const counterNames = new Set<string>();
  for (const s of Object.values(SCENARIOS)) for (const m of s.metrics ?? []) metricNames.add(m);
  for (const t of Object.values(SEED_TARGETS)) {
    const [head, name] = t.metric.split('.');
    if (head === 'metrics') metricNames.add(name);
    if (head === 'counters') counterNames.add(name);
  }
  return { metricNames: [...metricNames].sort(), counterNames: [...counterNames].sort() };
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/** The `n` report paths nearest to `path` (edit distance). */
export function nearestReportPaths(path: string, n = 3): string[] {
  const all = numericReportPaths(knownNames());
  return all
    .map((p) => [p, distance(path, p)] as const)
    .sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]))
    .slice(0, n)
    .map(([p]) => p);
}

/** Problems with `metric` as a report path (empty: it names a number of the report). */
export function metricPathProblems(metric: string): string[] {
  if (isReportNumberPath(metric, knownNames().metricNames)) return [];
  return [`'${metric}' is not a number in the report; nearest paths: ${nearestReportPaths(metric).join(', ')} (docs/report-format.md lists every field)`];
}

/** `max` for targets judged as an upper bound (<=, <), `min` for lower bounds (>=, >). */
function boundOf(op: TargetSpec['op']): 'max' | 'min' | 'either' {
  return op === '<=' || op === '<' ? 'max' : op === '>=' || op === '>' ? 'min' : 'either';
}

/**
 * Resolves the scenario's targets with the user's values. `sourceOf(id)` names where a value came
 * from (config file path or `command line`); `problem(id, text)` collects every problem (the caller
 * turns them into WSB_CONFIG_INVALID / WSB_INVALID_OPTION). Order: the scenario's targets, then the
 * added ones in the order given.
 */
export function resolveTargets(scenario: Scenario<any>, raw: Record<string, unknown>, sourceOf: (id: string) => string, problem: (id: string, text: string) => void): TargetSpec[] {
  const out: TargetSpec[] = [];
  // A seed target the scenario does not judge (e.g. reconnect-p99 for node-kill), given a threshold, is
  // added with its seed sentence (the user asked for it); `false` for one is nothing to switch off.
  const seedAdded = Object.keys(raw).filter((id) => !scenario.targets.includes(id) && Object.hasOwn(SEED_TARGETS, id) && !(isRecord(raw[id]) && (raw[id] as Record<string, unknown>).metric !== undefined));
  for (const id of [...scenario.targets, ...seedAdded]) {
    if (!scenario.targets.includes(id) && (raw[id] === false || raw[id] === 'off')) continue;
    const seed = SEED_TARGETS[id];
    const v = raw[id];
    if (v === undefined) {
      out.push(seed);
      continue;
    }
    const config = sourceOf(id);
    const mark = (t: TargetSpec): TargetSpec => ({ ...t, source: { ...t.source, config } });
    if (v === false || v === 'off') {
      out.push({ ...mark(seed), off: true });
    } else if (finite(v)) {
      out.push(mark(withValue(seed, v)));
    } else if (isRecord(v)) {
      const unknown = Object.keys(v).filter((k) => !OBJECT_KEYS.includes(k));
      if (unknown.length) problem(id, `unknown key(s) ${unknown.join(', ')} (got ${show(v)}); a target takes ${OBJECT_KEYS.join(', ')}`);
      if (v.metric !== undefined && v.metric !== seed.metric) problem(id, `is a seed target on ${seed.metric}; to judge '${String(v.metric)}' add a target with another id`);
      const bound = boundOf(seed.op);
      const given = (['max', 'min'] as const).filter((k) => v[k] !== undefined);
      if (given.length !== 1) {
        problem(id, `expected one of ${bound === 'either' ? 'max or min' : bound} (got ${show(v)}); ${id} is judged as ${seed.op} ${seed.value} ${seed.unit}`);
        continue;
      }
      const key = given[0];
      const value = v[key];
      if (!finite(value)) {
        problem(id, `${key}: expected a number in ${seed.unit} (got ${show(value)})`);
        continue;
      }
      if (bound !== 'either' && key !== bound) {
        problem(id, `${key}: ${id} is judged as ${seed.op} ${seed.value} ${seed.unit} (a ${bound === 'max' ? 'maximum' : 'minimum'}); give ${bound}`);
        continue;
      }
      // An `==` target (no-loss: lost == 0) given a max or a min becomes a bound: `lost <= 10`.
      const op: TargetSpec['op'] = bound === 'either' ? (key === 'max' ? '<=' : '>=') : seed.op;
      const t = mark(withValue({ ...seed, op }, value));
      if (op !== seed.op && !t.override) t.override = { seedValue: seed.value };
      if (typeof v.unit === 'string') t.unit = v.unit;
      if (typeof v.description === 'string') t.description = v.description;
      out.push(t);
    } else {
      problem(id, `expected a number (the threshold in ${seed.unit}), false (off) or { max | min } (got ${show(v)})`);
    }
  }
  for (const [id, v] of Object.entries(raw)) {
    if (scenario.targets.includes(id) || seedAdded.includes(id)) continue;
    if (!isRecord(v) || v.metric === undefined) {
      problem(
        id,
        `${scenario.name} has no target "${id}" and it is no seed target (got ${show(v)}); its targets: ${scenario.targets.join(', ')} — to add one, give { metric: '<report path>', max | min }`,
      );
      continue;
    }
    const unknown = Object.keys(v).filter((k) => !OBJECT_KEYS.includes(k));
    if (unknown.length) problem(id, `unknown key(s) ${unknown.join(', ')}; a target takes ${OBJECT_KEYS.join(', ')}`);
    if (!/^[a-z0-9][a-z0-9-]*$/i.test(id)) problem(id, 'a target id is letters, digits and dashes');
    if (typeof v.metric !== 'string') {
      problem(id, `metric: expected a report path such as metrics.connect_time_ms.p99 (got ${show(v.metric)})`);
      continue;
    }
    for (const p of metricPathProblems(v.metric)) problem(id, `metric: ${p}`);
    const given = (['max', 'min'] as const).filter((k) => v[k] !== undefined);
    if (given.length !== 1 || !finite(v[given[0]])) {
      problem(id, `expected exactly one of max or min, a number (got ${show(v)})`);
      continue;
    }
    const key = given[0];
    const value = v[key] as number;
    const unit = typeof v.unit === 'string' ? v.unit : '';
    out.push({
      id,
      description: typeof v.description === 'string' ? v.description : `${v.metric} ${key === 'max' ? '<=' : '>='} ${value}${unit ? ` ${unit}` : ''} (the user's own target)`,
      metric: v.metric,
      op: key === 'max' ? '<=' : '>=',
      value,
      unit,
      source: { config: sourceOf(id) },
    });
  }
  return out;
}

/** The effective config's `targets`: each judged target's threshold, `false` for those switched off, the object form for added ones. */
export function effectiveTargets(scenario: Scenario<any>, targets: readonly TargetSpec[]): Record<string, TargetConfigValue> {
  const out: Record<string, TargetConfigValue> = {};
  for (const t of targets) {
    if (t.off) out[t.id] = false;
    else if (!Object.hasOwn(SEED_TARGETS, t.id) || SEED_TARGETS[t.id].metric !== t.metric) out[t.id] = { metric: t.metric, [t.op === '<=' || t.op === '<' ? 'max' : 'min']: t.value, ...(t.unit ? { unit: t.unit } : {}), description: t.description };
    else if (t.op !== SEED_TARGETS[t.id]?.op) out[t.id] = { [t.op === '<=' || t.op === '<' ? 'max' : 'min']: t.value };
    else out[t.id] = t.value;
  }
  return out;
}
