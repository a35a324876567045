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
import { eventMarks, num, round, type ChartBand, type ChartLine, type ChartSpec } from './chart-spec.js';
import { perNodeSeries, resample } from './chart-per-node.js';

export { eventMarks, timelineAnchorMs, type ChartAxis, type ChartBand, type ChartLine, type ChartSeries, type ChartSpec } from './chart-spec.js';
export { perNodeCharts, perNodeSeries, resample, type PerNodeSeries } from './chart-per-node.js';


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
  const stallBands: ChartBand[] = (report.stalls?.stalls ?? []).map((st) => ({ from: st.fromS, to: st.fromS + st.seconds, label: `stall p99 ${Math.round(st.peakP99Ms)} ms${st.behind?.length && st.receivers && st.behind.length < st.receivers.length ? ` (${st.behind.join(', ')})` : ''}`, kind: 'stall' }));
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
