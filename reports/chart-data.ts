/**
 * Chart data for the HTML report: pure functions of a RunReport to plain series that uPlot draws
 * in the browser. Latency distributions come from the HDR histograms in the report (percentile
 * curves on a "nines" axis, as HdrHistogram's own plots); time series come from `timeline`, with
 * `events` turned into phase bands and event lines on the same axis. Optional parts other issues
 * add to the report (per-node metrics, extra per-second fields) are read defensively: a shape
 * this code does not recognise yields no chart, never an exception.
 */
import { decodeHistogram } from '../model/histogram.js';
import type { MetricSummary, RunReport } from '../model/run-report.js';

/** One line of a chart: y values aligned with the chart's `x`. */
export interface ChartSeries {
  label: string;
  /** Scale id the series belongs to (one per y axis). */
  scale: string;
  values: Array<number | null>;
  /** Draw dashed (e.g. a total beside per-node lines). */
  dash?: boolean;
}

export interface ChartAxis {
  scale: string;
  label: string;
  side: 'left' | 'right';
  /** Logarithmic scale (values ≤ 0 are left out). */
  log?: boolean;
}

/** A shaded span on the x axis (a run phase, or a fault with a duration). */
export interface ChartBand {
  from: number;
  to: number;
  label: string;
  kind: 'phase' | 'fault' | 'stall';
}

/** A vertical line at an instant (a chaos action). */
export interface ChartLine {
  at: number;
  label: string;
  outcome?: string;
}

export interface ChartSpec {
  id: string;
  title: string;
  /** `nines`: x is −log10(1 − percentile), labelled 0%, 90%, 99%, 99.9%, …; `seconds`: plain seconds; `value`: a plain number. */
  xKind: 'nines' | 'seconds' | 'value';
  xLabel: string;
  x: number[];
  series: ChartSeries[];
  axes: ChartAxis[];
  bands: ChartBand[];
  lines: ChartLine[];
  /** Shown under the chart (e.g. which histograms could not be decoded). */
  note?: string;
}

/** The percentile axis stops at this many nines (99.9999 %). */
export const MAX_NINES = 6;
/** Spacing of the percentile curve's points, in nines. */
const NINES_STEP = 0.05;

/** Percentile (0–100) of a position on the nines axis: 0 → 0, 1 → 90, 2 → 99, 3 → 99.9. */
export function percentileOfNines(x: number): number {
  return 100 * (1 - 10 ** -x);
}

/** Position on the nines axis of a percentile (0–100): 99 → 2. */
export function ninesOfPercentile(p: number): number {
  return p >= 100 ? Infinity : -Math.log10(1 - p / 100);
}

/** Label of a tick on the nines axis: 0 → `0%`, 1 → `90%`, 3 → `99.9%`, 0.30103 → `50%`. */
export function ninesLabel(x: number): string {
  const p = percentileOfNines(x);
  const digits = Math.max(0, Math.ceil(x - 1e-9) - 2);
  return `${Number(p.toFixed(digits))}%`;
}

type Curve = Array<[x: number, y: number]>;

/** µs (the histograms' unit) → the summary's unit. */
function fromUs(us: number, unit: MetricSummary['unit']): number {
  return unit === 'ms' ? us / 1000 : us;
}

/**
 * The percentile curve of one metric: points (nines, value in the metric's unit) every 0.05 nines
 * up to the resolution of its sample count (log10(count) nines, at most MAX_NINES), ending at the
 * maximum. From the HDR histogram when there is one; otherwise from the summary's percentiles
 * (p50, p90, p95, p99, p999, max). Empty when the metric has no samples. Throws when `hdr` is
 * malformed.
 */
export function percentileCurve(m: MetricSummary): Curve {
  if (!(m.count > 0)) return [];
  const limit = Math.min(MAX_NINES, Math.max(Math.log10(m.count), NINES_STEP));
  if (m.hdr) {
    const h = decodeHistogram(m.hdr);
    if (h.totalCount === 0) return [];
    const out: Curve = [];
    for (let i = 0; i * NINES_STEP < limit - 1e-9; i++) {
      const x = round(i * NINES_STEP);
      out.push([x, round(fromUs(h.getValueAtPercentile(percentileOfNines(x)), m.unit))]);
    }
    out.push([round(limit), round(fromUs(h.maxValue, m.unit))]);
    return out;
  }
  const pts: Curve = [
    [0, m.min],
    [ninesOfPercentile(50), m.p50],
    [ninesOfPercentile(90), m.p90],
    [ninesOfPercentile(95), m.p95],
    [ninesOfPercentile(99), m.p99],
    [ninesOfPercentile(99.9), m.p999],
  ];
  return [...pts.filter(([x]) => x < limit).map(([x, y]): [number, number] => [round(x), y]), [round(limit), m.max]];
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** Curves on one shared x grid (the union of their x values); a curve has null where it has no point. */
function alignCurves(curves: Curve[]): { x: number[]; ys: Array<Array<number | null>> } {
  const xs = [...new Set(curves.flatMap((c) => c.map(([x]) => x)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = curves.map((c) => {
    const row: Array<number | null> = xs.map(() => null);
    for (const [x, y] of c) row[index.get(x)!] = y;
    return row;
  });
  return { x: xs, ys };
}

/** Display labels of the well-known metrics; others show their name. */
export const METRIC_LABELS: Record<string, string> = {
  broadcast_latency_ms: 'all',
  broadcast_latency_same_node_ms: 'same-node',
  broadcast_latency_cross_node_ms: 'cross-node',
  connect_time_ms: 'connect time',
  reconnect_time_ms: 'reconnect time',
};

/**
 * One percentile-distribution chart of the named metrics that have samples (in the given order).
 * Null when none has. Metrics whose histogram cannot be decoded are left out and named in `note`.
 */
export function distributionChart(report: RunReport, id: string, title: string, names: readonly string[]): ChartSpec | null {
  const curves: Curve[] = [];
  const labels: string[] = [];
  const broken: string[] = [];
  let unit = '';
  for (const name of names) {
    const m = report.metrics[name];
    if (!m || !(m.count > 0)) continue;
    let c: Curve;
    try {
      c = percentileCurve(m);
    } catch {
      broken.push(name);
      continue;
    }
    if (c.length === 0) continue;
    curves.push(c);
    labels.push(METRIC_LABELS[name] ?? name);
    unit ||= m.unit;
  }
  if (curves.length === 0) return broken.length ? { ...emptyChart(id, title), note: `histogram not readable: ${broken.join(', ')}` } : null;
  const { x, ys } = alignCurves(curves);
  return {
    id,
    title,
    xKind: 'nines',
    xLabel: 'percentile',
    x,
    series: ys.map((values, i) => ({ label: labels[i], scale: 'y', values })),
    axes: [{ scale: 'y', label: unit, side: 'left' }],
    bands: [],
    lines: [],
    ...(broken.length ? { note: `histogram not readable: ${broken.join(', ')}` } : {}),
  };
}

function emptyChart(id: string, title: string): ChartSpec {
  return { id, title, xKind: 'nines', xLabel: 'percentile', x: [], series: [], axes: [], bands: [], lines: [] };
}

/**
 * The latency-distribution charts: broadcast latencies (all / same-node / cross-node, and any
 * other `broadcast_latency_*` metric), then the other metrics with samples (connect time,
 * reconnect time, …) in a second chart.
 */
export function distributionCharts(report: RunReport): ChartSpec[] {
  const names = Object.keys(report.metrics);
  const known = ['broadcast_latency_ms', 'broadcast_latency_same_node_ms', 'broadcast_latency_cross_node_ms'];
  const broadcast = [...known.filter((n) => names.includes(n)), ...names.filter((n) => n.startsWith('broadcast_latency') && !known.includes(n))];
  const others = names.filter((n) => !broadcast.includes(n));
  return [
    distributionChart(report, 'dist-broadcast', 'Broadcast latency by percentile', broadcast),
    distributionChart(report, 'dist-other', 'Other latency distributions', others),
  ].filter((c): c is ChartSpec => c !== null);
}

/**
 * ms after `startedAt` that is second 0 of `timeline`: the `phase` event `measure`. Null when the
 * report has none (events then cannot be placed on the time charts).
 */
export function timelineAnchorMs(report: RunReport): number | null {
  const e = report.events.find((ev) => ev.type === 'phase' && ev.detail === 'measure');
  return e ? e.atMs : null;
}

/** A number field of an unknown object, or undefined. */
function num(o: unknown, key: string): number | undefined {
  if (o === null || typeof o !== 'object') return undefined;
  const v = (o as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Phase bands and event lines for a time chart covering [xMin, xMax] seconds. Phases (`type:
 * 'phase'`) span from their event to the next phase event; any other event inside the range is a
 * line, or a fault band when it lasted half a second or more (`endMs`, ms after startedAt as
 * `atMs`, or `durationMs`). Nothing when the timeline has no anchor.
 */
export function eventMarks(report: RunReport, xMin: number, xMax: number): { bands: ChartBand[]; lines: ChartLine[] } {
  const anchor = timelineAnchorMs(report);
  if (anchor === null || !(xMax >= xMin)) return { bands: [], lines: [] };
  const toX = (ms: number) => round((ms - anchor) / 1000);
  const bands: ChartBand[] = [];
  const lines: ChartLine[] = [];
  const events = [...report.events].sort((a, b) => a.atMs - b.atMs);
  const phases = events.filter((e) => e.type === 'phase');
  phases.forEach((e, i) => {
    const from = Math.max(xMin, toX(e.atMs));
    const next = phases[i + 1];
    const to = Math.min(xMax, next ? toX(next.atMs) : xMax);
    if (to > from) bands.push({ from, to, label: e.detail ?? 'phase', kind: 'phase' });
  });
  for (const e of events) {
    if (e.type === 'phase') continue;
    const at = toX(e.atMs);
    const duration = num(e, 'durationMs') ?? (num(e, 'endMs') ?? NaN) - e.atMs;
    const target = typeof (e as { target?: unknown }).target === 'string' ? (e as { target: string }).target : undefined;
    const label = [e.type, target, e.detail].filter(Boolean).join(' ');
    // Shorter than half a second would be a band too thin to see: draw it as a line instead.
    if (Number.isFinite(duration) && duration >= 500) {
      const from = Math.max(xMin, at);
      const to = Math.min(xMax, toX(e.atMs + duration));
      if (to > from) bands.push({ from, to, label, kind: 'fault' });
    } else if (at >= xMin && at <= xMax) {
      lines.push({ at, label, ...(e.outcome ? { outcome: e.outcome } : {}) });
    }
  }
  return { bands, lines };
}

/** Largest/smallest p99 of a timeline above which its axis is logarithmic. */
const LOG_RATIO = 30;

/** The timeline fields the time charts already show; other numeric fields get their own chart. */
const TIMELINE_KNOWN = new Set(['t', 'sent', 'received', 'connections', 'p99Ms']);

/**
 * Time charts from `timeline`: p99 latency and deliveries/s (with events marked), open
 * connections (total, and per node when the report has per-node series), and any further numeric
 * per-second fields a scenario adds. Empty when the timeline is.
 */
export function timeCharts(report: RunReport): ChartSpec[] {
  const tl = report.timeline;
  if (tl.length === 0) return [];
  const x = tl.map((p) => p.t);
  const xMin = Math.min(...x);
  const xMax = Math.max(...x);
  const { bands, lines } = eventMarks(report, xMin, xMax);
  const base = { xKind: 'seconds' as const, xLabel: 's since the measured phase began', x, bands, lines };
  // A fault can lift p99 from milliseconds to seconds; on a linear axis the normal seconds would
  // then read as zero, so a wide range gets a log axis.
  const p99 = tl.map((p) => (p.p99Ms !== null && p.p99Ms > 0 ? p.p99Ms : null));
  const positive = p99.filter((v): v is number => v !== null);
  const log = positive.length > 0 && Math.max(...positive) / Math.min(...positive) > LOG_RATIO;
  // Stalls (docs/stability.md) as bands over their intended seconds: [s, s + n) on the measured clock.
  const stallBands: ChartBand[] = (report.stalls?.stalls ?? []).map((st) => ({ from: st.fromS, to: st.fromS + st.seconds, label: `stall p99 ${Math.round(st.peakP99Ms)} ms`, kind: 'stall' }));
  const charts: ChartSpec[] = [
    {
      ...base,
      bands: [...bands, ...stallBands],
      id: 'time-latency',
      title: 'p99 latency and delivery rate per second',
      series: [
        { label: 'p99 latency', scale: 'ms', values: log ? p99 : tl.map((p) => p.p99Ms) },
        { label: 'deliveries/s', scale: 'rate', values: tl.map((p) => p.received) },
        { label: 'published/s', scale: 'rate', values: tl.map((p) => p.sent), dash: true },
      ],
      axes: [
        { scale: 'ms', label: log ? 'p99 ms (log scale)' : 'p99 ms', side: 'left', ...(log ? { log } : {}) },
        { scale: 'rate', label: 'per second', side: 'right' },
      ],
    },
  ];
  const perNode = perNodeSeries(report);
  const connField = perNode && perNode.xKind === 'timeline' ? perNode.fields.find((f) => f.field === 'connections') : undefined;
  if (perNode && connField) {
    // The nodes are scraped from the start (the connect ramp included), on their own clock; the
    // timeline covers the publishing phase. One axis for both: the union of their seconds.
    const cx = [...new Set([...x, ...perNode.x])].sort((a, b) => a - b);
    const marks = eventMarks(report, cx[0], cx[cx.length - 1]);
    charts.push({
      ...base,
      ...marks,
      x: cx,
      id: 'time-connections',
      title: 'Open connections per node',
      series: [
        { label: 'total (clients)', scale: 'conn', values: resample(x, tl.map((p) => p.connections), cx), dash: true },
        ...perNode.nodes.map((node) => ({ label: node, scale: 'conn', values: resample(perNode.x, connField.values[node], cx) })),
      ],
      axes: [{ scale: 'conn', label: 'connections', side: 'left' }],
    });
  } else {
    charts.push({
      ...base,
      id: 'time-connections',
      title: 'Open connections',
      series: [{ label: 'total', scale: 'conn', values: tl.map((p) => p.connections), dash: true }],
      axes: [{ scale: 'conn', label: 'connections', side: 'left' }],
    });
  }
  const extra = [...new Set(tl.flatMap((p) => Object.keys(p).filter((k) => !TIMELINE_KNOWN.has(k) && typeof (p as unknown as Record<string, unknown>)[k] === 'number')))];
  if (extra.length > 0) {
    charts.push({
      ...base,
      id: 'time-other',
      title: 'Other per-second series',
      series: extra.map((k) => ({ label: k, scale: 'v', values: tl.map((p) => num(p, k) ?? null) })),
      axes: [{ scale: 'v', label: '', side: 'left' }],
    });
  }
  return charts;
}

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

/**
 * The knee of `throughput --find-capacity` (`capacitySearch`): per offered rate, the rate achieved
 * and the p99 latency (log axis when it spans decades), with the last step that held and the
 * first that broke marked. Null when the report has no search.
 */
export function capacitySearchChart(report: RunReport): ChartSpec | null {
  const cs = report.capacitySearch;
  if (!cs || !Array.isArray(cs.steps) || cs.steps.length === 0) return null;
  const steps = [...cs.steps].sort((a, b) => a.offeredPerSec - b.offeredPerSec);
  const p99 = steps.map((st) => (st.p99Ms > 0 ? st.p99Ms : null));
  const positive = p99.filter((v): v is number => v !== null);
  const log = positive.length > 0 && Math.max(...positive) / Math.min(...positive) > LOG_RATIO;
  const lines: ChartLine[] = [];
  if (cs.knee.lastGoodPerSec !== null) lines.push({ at: cs.knee.lastGoodPerSec, label: 'last step that held', outcome: 'ok' });
  if (cs.knee.firstBadPerSec !== null) lines.push({ at: cs.knee.firstBadPerSec, label: 'first step that broke', outcome: 'fail' });
  return {
    id: 'chart-capacity-search',
    title: 'Capacity search: achieved rate and p99 latency per offered rate',
    xKind: 'value',
    xLabel: 'offered deliveries/s',
    x: steps.map((st) => st.offeredPerSec),
    series: [
      { label: 'achieved deliveries/s', scale: 'rate', values: steps.map((st) => st.achievedPerSec) },
      { label: 'offered (ideal)', scale: 'rate', values: steps.map((st) => st.offeredPerSec), dash: true },
      { label: 'p99 latency', scale: 'ms', values: log ? p99 : steps.map((st) => st.p99Ms) },
    ],
    axes: [
      { scale: 'rate', label: 'deliveries/s', side: 'left' },
      { scale: 'ms', label: log ? 'p99 ms (log scale)' : 'p99 ms', side: 'right', ...(log ? { log } : {}) },
    ],
    bands: [],
    lines,
  };
}
