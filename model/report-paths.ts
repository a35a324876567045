/**
 * Which dotted paths of a RunReport hold a number a target can judge (`metrics.connect_time_ms.p99`,
 * `accounting.crossNode.lost`, `counters.connections_peak`), read from the report's published JSON
 * Schema — so a user's own target (`targets: { id: { metric, max } }`) is checked against the
 * report's real shape before anything starts, and a typo gets the nearest real paths.
 */
import { reportSchema } from './schema.js';

type Schema = Record<string, unknown>;

/** Named groups whose keys the schema leaves open (`additionalProperties`): the placeholder shown for them. */
const OPEN_KEY: Record<string, string> = { metrics: '<metric>', windows: '<window>', counters: '<counter>', connectionsPerNode: '<node>' };

function resolve(root: Schema, s: Schema): Schema {
  let cur = s;
  // A value that may be null (`if: {type: null}, then: true, else: {…}`: the same/cross split when
  // the nodes are unknown): its non-null shape.
  if (cur.else !== undefined && typeof cur.else === 'object' && cur.$ref === undefined) cur = { ...(cur.else as Schema), ...(typeof cur.description === 'string' ? { description: cur.description } : {}) };
  // $ref within the schema (`#/$defs/x`), and allOf merged into one object (accounting).
  for (let i = 0; i < 8 && typeof cur.$ref === 'string'; i++) {
    const ref = cur.$ref as string;
    const rest: Schema = { ...cur };
    delete rest.$ref;
    const target = ref.replace(/^#\//, '').split('/').reduce<unknown>((o, k) => (o as Schema | undefined)?.[k], root) as Schema | undefined;
    cur = { ...(target ?? {}), ...rest };
  }
  if (Array.isArray(cur.allOf)) {
    const merged: Schema = { ...cur, properties: { ...((cur.properties as Schema) ?? {}) } };
    delete merged.allOf;
    for (const part of cur.allOf as Schema[]) {
      const p = resolve(root, part);
      Object.assign(merged.properties as Schema, (p.properties as Schema) ?? {});
    }
    cur = merged;
  }
  return cur;
}

function isNumeric(s: Schema): boolean {
  const t = s.type;
  const types = Array.isArray(t) ? t : [t];
  return types.includes('number') || types.includes('integer');
}

/**
 * Every judgeable path, with the open groups given as names: `metrics` keys from `metricNames`,
 * `counters` keys from `counterNames`, other open groups as their placeholder (`windows.<window>.…`).
 */
export function numericReportPaths(names: { metricNames: readonly string[]; counterNames: readonly string[] }): string[] {
  const root = reportSchema();
  const out: string[] = [];
  const walk = (s: Schema, path: string[], depth: number) => {
    const r = resolve(root, s);
    if (isNumeric(r)) {
      out.push(path.join('.'));
      return;
    }
    if (depth > 5) return;
    for (const [k, v] of Object.entries((r.properties as Schema) ?? {})) {
      if (path.length === 0 && ['schemaVersion', 'durationMs', 'timeline', 'events', 'environment', 'shard', 'timelineHistograms', 'mergedFrom', 'repeat', 'config', 'options'].includes(k)) continue;
      walk(v as Schema, [...path, k], depth + 1);
    }
    const open = r.additionalProperties;
    if (open && typeof open === 'object') {
      const group = path[path.length - 1] ?? '';
      const keys = path.length === 1 && group === 'metrics' ? names.metricNames : path.length === 1 && group === 'counters' ? names.counterNames : [OPEN_KEY[group] ?? '<key>'];
      for (const key of keys) walk(open as Schema, [...path, key], depth + 1);
    }
  };
  walk(root, [], 0);
  return out;
}

/**
 * Whether `path` names a number in a report: each step is a property the schema defines, or a key
 * of a group it leaves open (`metrics.<name>` must be one of `metricNames`; any `counters.<name>`,
 * `windows.<name>` and `connectionsPerNode.<node>` are taken, since those keys vary by run).
 */
export function isReportNumberPath(path: string, metricNames: readonly string[]): boolean {
  const root = reportSchema();
  const parts = path.split('.');
  if (parts.some((p) => p === '')) return false;
  let cur: Schema = root;
  for (const [i, part] of parts.entries()) {
    const r = resolve(root, cur);
    const props = (r.properties as Schema | undefined) ?? {};
    if (i === 0 && ['timeline', 'events', 'environment', 'config', 'options', 'repeat'].includes(part)) return false;
    if (Object.prototype.hasOwnProperty.call(props, part)) {
      cur = props[part] as Schema;
      continue;
    }
    const open = r.additionalProperties;
    if (!open || typeof open !== 'object') return false;
    if (i === 1 && parts[0] === 'metrics' && !metricNames.includes(part)) return false;
    cur = open as Schema;
  }
  return isNumeric(resolve(root, cur));
}
