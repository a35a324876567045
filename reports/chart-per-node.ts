/**
 * Per-node time series for the HTML report: whatever shape of per-node samples a report carries
 * (`nodeMetrics` as a timeline, per-node lists), normalised to one x axis per node and field, and
 * the charts drawn from them. Read defensively: an unknown shape yields no chart.
 */
import type { RunReport } from '../model/run-report.js';
import { eventMarks, num, round, timelineAnchorMs, type ChartSpec } from './chart-spec.js';

/** Per-node samples, normalised: one row per (node, x) with its numeric fields. */
export interface PerNodeSeries {
  nodes: string[];
  /** `timeline`: x in seconds on the timeline's axis; `run`: seconds since startedAt (no anchor). */
  xKind: 'timeline' | 'run';
  x: number[];
  fields: Array<{ field: string; values: Record<string, Array<number | null>> }>;
}

interface Sample {
  node: string;
  x: number;
  values: Record<string, number>;
}

const NODE_ID_KEYS = ['node', 'nodeId', 'id', 'name'];
const SAMPLE_LIST_KEYS = ['timeline', 'samples', 'series', 'points', 'seconds'];
const PER_NODE_KEYS = ['nodes', 'perNode', 'byNode', 'connectionsPerNode'];

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Numeric fields of a sample (booleans as 1/0, e.g. `up`), one nested level flattened (`rss.bytes`), time and id keys left out. */
function numericFields(o: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) {
    if (['t', 'tS', 's', 'atMs', 'tMs', ...NODE_ID_KEYS].includes(k)) continue;
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    else if (typeof v === 'boolean') out[k] = v ? 1 : 0;
    else if (isObj(v)) for (const [k2, v2] of Object.entries(v)) if (typeof v2 === 'number' && Number.isFinite(v2)) out[`${k}.${k2}`] = v2;
  }
  return out;
}

/**
 * Reads per-node time series from the report: `nodeMetrics` as RunReport declares it ([{t, nodes:
 * [{nodeId, up, connections, rssBytes, …}]}…], one point per second), and tolerantly a few other
 * shapes — {node: [sample…]}, [{node, samples: […]}…], {timeline: [{t, nodes: …}…]}, or
 * `timeline[i].nodes` / `perNode` / `byNode` / `connectionsPerNode` as {node: number | {field:
 * number}} (a bare number is `connections`). A sample's time is `t` (s on the timeline's axis) or
 * `atMs` (ms after startedAt); null values are gaps, booleans 1/0. Null when there is none.
 */
export function perNodeSeries(report: RunReport): PerNodeSeries | null {
  const anchor = timelineAnchorMs(report);
  const samples: Sample[] = [];
  let runClock = false;
  const timeOf = (o: Record<string, unknown>): number | undefined => {
    const t = num(o, 't') ?? num(o, 'tS') ?? num(o, 's');
    if (t !== undefined) return t;
    const ms = num(o, 'atMs') ?? num(o, 'tMs');
    if (ms === undefined) return undefined;
    if (anchor !== null) return round((ms - anchor) / 1000);
    runClock = true;
    return round(ms / 1000);
  };
  const fromNodeMap = (x: number, map: Record<string, unknown> | unknown[]) => {
    if (Array.isArray(map)) {
      for (const v of map) {
        if (!isObj(v)) continue;
        const idKey = NODE_ID_KEYS.find((k) => typeof v[k] === 'string');
        if (idKey) samples.push({ node: v[idKey] as string, x, values: numericFields(v) });
      }
      return;
    }
    for (const [node, v] of Object.entries(map)) {
      if (typeof v === 'number' && Number.isFinite(v)) samples.push({ node, x, values: { connections: v } });
      else if (isObj(v)) samples.push({ node, x, values: numericFields(v) });
    }
  };
  const nodeMapOf = (p: Record<string, unknown>) => PER_NODE_KEYS.map((k) => p[k]).find((v) => isObj(v) || Array.isArray(v)) as Record<string, unknown> | unknown[] | undefined;
  const fromList = (node: string, list: unknown[]) => {
    for (const s of list) {
      if (!isObj(s)) continue;
      const x = timeOf(s);
      if (x !== undefined) samples.push({ node, x, values: numericFields(s) });
    }
  };
  const nm = (report as unknown as Record<string, unknown>).nodeMetrics;
  if (isObj(nm)) {
    const list = SAMPLE_LIST_KEYS.map((k) => nm[k]).find(Array.isArray);
    if (list) {
      for (const p of list) {
        if (!isObj(p)) continue;
        const x = timeOf(p);
        const map = nodeMapOf(p);
        if (x !== undefined && map) fromNodeMap(x, map);
      }
    } else {
      for (const [node, v] of Object.entries(nm)) if (Array.isArray(v)) fromList(node, v);
    }
  } else if (Array.isArray(nm)) {
    for (const entry of nm) {
      if (!isObj(entry)) continue;
      // [{t, nodes: [{nodeId, …}] | {node: …}}…] (one point per second), or [{node, samples: […]}…].
      const map = nodeMapOf(entry);
      const x = map ? timeOf(entry) : undefined;
      if (map && x !== undefined) {
        fromNodeMap(x, map);
        continue;
      }
      const idKey = NODE_ID_KEYS.find((k) => typeof entry[k] === 'string');
      const list = SAMPLE_LIST_KEYS.map((k) => entry[k]).find(Array.isArray);
      if (idKey && list) fromList(entry[idKey] as string, list);
    }
  }
  if (samples.length === 0) {
    for (const p of report.timeline as unknown as Array<Record<string, unknown>>) {
      const map = nodeMapOf(p);
      if (map && typeof p.t === 'number') fromNodeMap(p.t, map);
    }
  }
  if (samples.length === 0) return null;
  const nodes = [...new Set(samples.map((s) => s.node))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const x = [...new Set(samples.map((s) => s.x))].sort((a, b) => a - b);
  const xi = new Map(x.map((v, i) => [v, i]));
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.values)))];
  const fields = names.map((field) => {
    const values: Record<string, Array<number | null>> = {};
    for (const n of nodes) values[n] = x.map(() => null);
    for (const s of samples) if (field in s.values) values[s.node][xi.get(s.x)!] = s.values[field];
    return { field, values };
  });
  return { nodes, xKind: runClock ? 'run' : 'timeline', x, fields };
}

/** A sample stands for at most this long after it (the series are sampled about every second). */
const SAMPLE_HOLD_S = 1.5;

/**
 * A series sampled at `srcX` re-sampled onto `dstX`: at each point the sample at or last before
 * it, if that is at most SAMPLE_HOLD_S old; otherwise null. A null sample (node down, scrape
 * failed) stays a gap.
 */
export function resample(srcX: readonly number[], src: ReadonlyArray<number | null>, dstX: readonly number[]): Array<number | null> {
  let i = -1;
  return dstX.map((t) => {
    while (i + 1 < srcX.length && srcX[i + 1] <= t + 1e-9) i++;
    return i >= 0 && t - srcX[i] <= SAMPLE_HOLD_S ? src[i] : null;
  });
}

/** A byte count (`rssBytes`) in MiB (`rssBytes (MiB)`). */
function inMiB(f: PerNodeSeries['fields'][number]): PerNodeSeries['fields'][number] {
  const values: Record<string, Array<number | null>> = {};
  for (const [node, v] of Object.entries(f.values)) values[node] = v.map((b) => (b === null ? null : Math.round((b / 2 ** 20) * 10) / 10));
  return { field: `${f.field} (MiB)`, values };
}

/** A cumulative counter (`publishTotal`) as its rate between consecutive samples (`publishTotal /s`). */
function perSecond(f: PerNodeSeries['fields'][number], x: number[]): PerNodeSeries['fields'][number] {
  const values: Record<string, Array<number | null>> = {};
  for (const [node, v] of Object.entries(f.values)) {
    values[node] = v.map((cur, i) => {
      const prev = i > 0 ? v[i - 1] : null;
      const dt = i > 0 ? x[i] - x[i - 1] : 0;
      // A restarted node starts its counter again: no negative rate.
      return cur === null || prev === null || dt <= 0 || cur < prev ? null : round((cur - prev) / dt);
    });
  }
  return { field: `${f.field} /s`, values };
}

/**
 * Per-node server-metric charts (one per field other than connections, which the connections
 * chart shows): up, RSS, heap, event-loop lag, publishes per second, … as the report has them.
 */
export function perNodeCharts(report: RunReport): ChartSpec[] {
  const p = perNodeSeries(report);
  if (!p) return [];
  const tlX = report.timeline.map((t) => t.t);
  const { bands, lines } = p.xKind === 'timeline' && p.x.length ? eventMarks(report, Math.min(...p.x), Math.max(...p.x)) : { bands: [], lines: [] };
  return p.fields
    .filter((f) => f.field !== 'connections' || tlX.length === 0)
    .map((f) => (/Total$/.test(f.field) ? perSecond(f, p.x) : /Bytes$/.test(f.field) ? inMiB(f) : f))
    .map((f, i) => ({
      id: `node-${i}`,
      title: `${f.field} per node`,
      xKind: 'seconds' as const,
      xLabel: p.xKind === 'timeline' ? 's since the measured phase began' : 's since the run started',
      x: p.x,
      series: p.nodes.map((n) => ({ label: n, scale: 'v', values: f.values[n] })),
      axes: [{ scale: 'v', label: f.field, side: 'left' as const }],
      bands,
      lines,
    }));
}

