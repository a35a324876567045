/**
 * The chart shapes the HTML report draws (uPlot series, axes, bands, lines) and how the run's
 * events are placed on a timeline chart. Pure.
 */
import type { RunReport } from '../model/run-report.js';

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

/** Rounded to 6 decimals (axis values without float noise). */
export function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/**
 * ms after `startedAt` that is second 0 of `timeline`: the `phase` event `measure` (of the judged
 * run, for repeated runs). Null when the report has none (events then cannot be placed on the time charts).
 */
export function timelineAnchorMs(report: RunReport): number | null {
  const measures = report.events.filter((ev) => ev.type === 'phase' && ev.detail === 'measure');
  // Repeated runs: the timeline is the judged run's, the events every run's — its own measure phase is second 0.
  const e = measures[(report.repeat?.judgedRun ?? 1) - 1] ?? measures[0];
  return e ? e.atMs : null;
}

/** A number field of an unknown object, or undefined. */
export function num(o: unknown, key: string): number | undefined {
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
