/**
 * What `wsbench compare` compares: every value a target judges (in either report), every latency
 * percentile, throughput, the delivery accounting and its loss classes, each window of a fault
 * scenario (before / during / after), capacity figures, reconnection times per fault, probe
 * failures, unexpected arrivals and the knee of `throughput --find-capacity`. Each value has a kind
 * that decides how it is judged (reports/compare.ts). Pure functions of two reports.
 */
import type { RunReport } from '../model/run-report.js';
import { measuredValue } from '../model/evaluate.js';

/** Which way is better for a value. */
export type Better = 'lower' | 'higher';

/**
 * How a value is judged:
 * - `latency`: ms; relative tolerance, and a change smaller than the absolute floor (default 1 ms)
 *   is never a regression (0.4 ms → 0.5 ms is noise, not a regression);
 * - `ratio`: a share (delivery ratio); tolerance in percentage points, not relative;
 * - `count`: events that should not happen (lost, failed, leaked); a baseline of 0 must stay 0;
 *   otherwise relative;
 * - `relative`: anything else (throughput, bytes per connection, the knee): relative tolerance.
 */
export type ValueKind = 'latency' | 'ratio' | 'count' | 'relative';

/** One value the comparison considers, with both sides (null: not measured there). */
export interface Candidate {
  metric: string;
  unit: string;
  better: Better;
  kind: ValueKind;
  baseline: number | null;
  current: number | null;
}

/** The percentiles compared for every latency metric. */
export const COMPARED_PERCENTILES = ['p50', 'p90', 'p99', 'p999', 'max'] as const;
/** The percentiles compared for each window's latency. */
const WINDOW_PERCENTILES = ['p50', 'p99', 'max'] as const;

/** Counters compared when present, and how. Counters not listed are compared only when a target judges them. */
const COUNTERS: Record<string, { better: Better; kind: ValueKind; unit: string }> = {
  deliveries_per_sec: { better: 'higher', kind: 'relative', unit: 'deliveries/s' },
  messages_published_per_sec: { better: 'higher', kind: 'relative', unit: 'msg/s' },
  unexpected_arrivals: { better: 'lower', kind: 'count', unit: 'deliveries' },
  connect_failures: { better: 'lower', kind: 'count', unit: 'connections' },
  connections_failed: { better: 'lower', kind: 'count', unit: 'connections' },
  messages_never_flushed: { better: 'lower', kind: 'count', unit: 'messages' },
  probes_failed: { better: 'lower', kind: 'count', unit: 'probes' },
  nodes_down_during_probes: { better: 'lower', kind: 'count', unit: 'nodes' },
  server_bytes_per_connection: { better: 'lower', kind: 'relative', unit: 'bytes' },
  reconnect_all_back_ms: { better: 'lower', kind: 'latency', unit: 'ms' },
  cross_node_resumed_after_ms: { better: 'lower', kind: 'latency', unit: 'ms' },
  latency_values_clamped: { better: 'lower', kind: 'count', unit: 'deliveries' },
  chaos_actions_failed: { better: 'lower', kind: 'count', unit: 'actions' },
  chaos_actions_unobserved: { better: 'lower', kind: 'count', unit: 'actions' },
};

function counterSpec(name: string): { better: Better; kind: ValueKind; unit: string } | undefined {
  if (COUNTERS[name]) return COUNTERS[name];
  if (name.startsWith('probes_failed_')) return { better: 'lower', kind: 'count', unit: 'probes' };
  return undefined;
}

/** The kind and direction of a value a target judges, from the target itself. */
function targetSpec(t: { metric: string; op: string; value: number; unit: string }): { better: Better; kind: ValueKind } {
  const better: Better = t.op === '>=' || t.op === '>' ? 'higher' : 'lower';
  if (t.unit === 'ratio' || t.metric.endsWith('.deliveryRatio')) return { better: 'higher', kind: 'ratio' };
  if (t.unit === 'ms') return { better, kind: 'latency' };
  if (better === 'lower' && t.value === 0) return { better, kind: 'count' };
  return { better, kind: 'relative' };
}

function keysOf(...objs: Array<Record<string, unknown> | undefined>): string[] {
  return [...new Set(objs.flatMap((o) => Object.keys(o ?? {})))];
}

/**
 * Every value the comparison considers, in display order, with both sides. A value counts as
 * measured only as the targets see it (reports/evaluate.ts measuredValue): a histogram without
 * samples or an accounting with nothing expected is not measured.
 */
export function candidates(b: RunReport, c: RunReport): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const add = (metric: string, unit: string, better: Better, kind: ValueKind, vb = measuredValue(b, metric), vc = measuredValue(c, metric)) => {
    if (seen.has(metric)) return;
    seen.add(metric);
    // A size per connection below zero is not a measurement (memory shrank meanwhile): unknown.
    const clean = (v: number | null) => (v !== null && unit === 'bytes' && v < 0 ? null : v);
    out.push({ metric, unit, better, kind, baseline: clean(vb), current: clean(vc) });
  };

  for (const name of keysOf(b.metrics, c.metrics)) {
    const unit = (b.metrics[name] ?? c.metrics[name])?.unit ?? '';
    for (const p of COMPARED_PERCENTILES) add(`metrics.${name}.${p}`, unit, 'lower', unit === 'ms' ? 'latency' : 'relative');
  }
  for (const name of keysOf(b.counters, c.counters)) {
    const s = counterSpec(name);
    if (s) add(`counters.${name}`, s.unit, s.better, s.kind);
  }
  add('accounting.deliveryRatio', 'ratio', 'higher', 'ratio');
  for (const k of ['lost', 'duplicated', 'reordered']) add(`accounting.${k}`, 'deliveries', 'lower', 'count');
  for (const k of keysOf(b.accounting.losses as unknown as Record<string, unknown>, c.accounting.losses as unknown as Record<string, unknown>)) {
    if (k === 'sameNode' || k === 'crossNode') continue;
    add(`accounting.losses.${k}`, 'deliveries', 'lower', 'count');
  }
  // Windows of fault scenarios (before / during / after each fault), by name.
  for (const w of keysOf(b.windows, c.windows)) {
    for (const p of WINDOW_PERCENTILES) add(`windows.${w}.broadcast_latency_ms.${p}`, 'ms', 'lower', 'latency');
    add(`windows.${w}.accounting.lost`, 'deliveries', 'lower', 'count');
    add(`windows.${w}.accounting.deliveryRatio`, 'ratio', 'higher', 'ratio');
    add(`windows.${w}.sameNode.deliveryRatio`, 'ratio', 'higher', 'ratio');
    add(`windows.${w}.crossNode.deliveryRatio`, 'ratio', 'higher', 'ratio');
  }
  // Reconnection per fault (faults are an array: matched by the fault's name).
  const faults = (r: RunReport) => new Map((r.reconnection?.faults ?? []).map((f) => [f.fault, f]));
  const fb = faults(b);
  const fc = faults(c);
  for (const name of keysOf(Object.fromEntries(fb), Object.fromEntries(fc))) {
    for (const k of ['backWithin99PercentMs', 'backWithin100PercentMs'] as const) {
      add(`reconnection.faults[${name}].${k}`, 'ms', 'lower', 'latency', fb.get(name)?.[k] ?? null, fc.get(name)?.[k] ?? null);
    }
  }
  if (b.reconnection || c.reconnection) add('reconnection.neverBack', 'clients', 'lower', 'count');
  // Capacity: failed connections by cause, failed pings.
  for (const cause of keysOf(b.capacity?.failuresByCause, c.capacity?.failuresByCause)) add(`capacity.failuresByCause.${cause}`, 'connections', 'lower', 'count');
  if (b.capacity || c.capacity) add('capacity.pings.failed', 'pings', 'lower', 'count');
  // The knee of find-capacity.
  if (b.capacitySearch || c.capacitySearch) add('capacitySearch.knee.lastGoodPerSec', 'deliveries/s', 'higher', 'relative');
  // Every value a target judges, in either report (most are already in; the rest get the target's direction).
  for (const t of [...b.targets, ...c.targets]) {
    const s = targetSpec(t);
    add(t.metric, t.unit, s.better, s.kind);
  }
  // Rows absent from both sides say nothing.
  return out.filter((x) => x.baseline !== null || x.current !== null);
}
