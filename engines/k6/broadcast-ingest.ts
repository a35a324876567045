/**
 * What the broadcast family of k6 scripts (engines/k6/scripts/lib/broadcast.ts) adds to the report
 * beyond engines/k6/summary.ts's metrics and accounting: the loss classes (lost while connected,
 * while the receiver was down, while the publisher was down — "never sent" included), the planned
 * windows of redis-outage, when cross-node delivery resumed, and the reconnection figures. Pure.
 */
import type { Accounting, LossBreakdown, ReconnectionReport, WindowReport } from '../../model/run-report.js';
import { K6_TRENDS, trendToMetricSummary, type K6Summary } from './summary.js';
import { broadcastTimes, messagesPerPublisher, type BroadcastPlan } from './scripts/lib/plan.js';

function count(summary: K6Summary, name: string): number | null {
  const m = summary.metrics[name];
  return m && typeof m.values.count === 'number' ? m.values.count : null;
}

function accounting(expected: number, received: number, duplicated: number, reordered: number): Accounting {
  return { expected, received, lost: Math.max(0, expected - received), duplicated, reordered, deliveryRatio: expected === 0 ? 1 : received / expected };
}

export interface BroadcastExtras {
  losses?: LossBreakdown & { sameNode: LossBreakdown; crossNode: LossBreakdown };
  windows?: Record<string, WindowReport>;
  counters: Record<string, number>;
  reconnection?: ReconnectionReport;
  notes: string[];
}

/**
 * Reads the loss classes, windows and reconnection figures of a broadcast-family k6 run.
 * `t0` is the script's start (epoch ms); `redisBackEpochMs` when the harness saw Redis answer again.
 */
export function ingestBroadcastExtras(summary: K6Summary, plan: BroadcastPlan, opts: { t0: number | null; redisBackEpochMs?: number; faults: boolean }): BroadcastExtras {
  const notes: string[] = [];
  const counters: Record<string, number> = {};
  const c = (name: string) => count(summary, name) ?? 0;
  const loss = (path?: 'same' | 'cross'): LossBreakdown => {
    const sel = (cls: string) => `deliveries_lost{class:${cls}${path ? `,path:${path}` : ''}}`;
    return {
      lostConnected: c(sel('connected')),
      lostDisconnected: c(sel('disconnected')),
      lostPublisherDown: c(sel('publisher_down')),
      late: c(path ? `deliveries_late{path:${path}}` : 'deliveries_late'),
    };
  };
  const out: BroadcastExtras = { counters, notes };
  if (summary.metrics['deliveries_lost{class:connected}']) out.losses = { ...loss(), sameNode: loss('same'), crossNode: loss('cross') };
  const neverSent = count(summary, 'publish_failures');
  if (neverSent !== null) counters.messages_never_sent = neverSent;
  // A publisher VU whose timers fell more than the drain behind ends with messages it never got to.
  // No later payload tells its receivers, so they count those deliveries as lost while connected:
  // say whose loss it is (issue 15: what never left the publisher is its own class).
  const scheduled = count(summary, 'messages_scheduled');
  const planned = plan.segments === undefined ? plan.rooms * plan.publishersPerRoom * messagesPerPublisher(plan) : null;
  if (scheduled !== null && planned !== null && scheduled < planned) {
    const tail = planned - scheduled;
    counters.messages_never_sent = (counters.messages_never_sent ?? 0) + tail;
    notes.push(
      `k6 engine: ${tail} of ${planned} scheduled messages never left their publisher VUs (k6's timers fell more than --drain behind the schedule); their receivers count those deliveries as lost while connected — the generator's loss, not the cluster's`,
    );
  }

  const t = broadcastTimes(plan);
  if (plan.windows?.length) {
    const windows: Record<string, WindowReport> = {};
    for (const w of plan.windows) {
      const acc = (path?: 'same' | 'cross') => {
        const sel = (m: string) => `${m}{window:${w.name}${path ? `,path:${path}` : ''}}`;
        return accounting(c(sel('deliveries_expected')), c(sel('deliveries_first_arrivals')), c(sel('deliveries_duplicated')), c(sel('deliveries_reordered')));
      };
      const lat = summary.metrics[`broadcast_latency_ms{window:${w.name}}`];
      const s = lat ? trendToMetricSummary(lat, 'ms') : null;
      const latency = s && !('missing' in s) ? s : { unit: 'ms' as const, count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
      windows[w.name] = { startMs: w.fromMs - t.measureFrom, endMs: w.toMs - t.measureFrom, broadcast_latency_ms: latency, accounting: acc(), sameNode: acc('same'), crossNode: acc('cross') };
    }
    out.windows = windows;
  }

  if (plan.resumeFromMs !== undefined && opts.t0 !== null) {
    if (opts.redisBackEpochMs === undefined) notes.push('k6 engine: Redis was not seen back, so when cross-node delivery resumed is unknown');
    else {
      counters.redis_back_at_ms = opts.redisBackEpochMs - (opts.t0 + t.measureFrom);
      const first = summary.metrics.cross_resume_at_ms;
      const min = first && typeof first.values.min === 'number' && (first.values.count ?? 1) > 0 ? first.values.min : null;
      if (min === null) notes.push('cross-node delivery did not resume before the run ended');
      else {
        const after = opts.t0 + min - opts.redisBackEpochMs;
        // A cross-node arrival between the planned end and Redis answering: the measurement cannot say when it resumed.
        if (after >= 0) counters.cross_node_resumed_after_ms = Math.round(after);
        else notes.push(`k6 engine: a cross-node delivery arrived ${-after} ms before the harness saw Redis back; when it resumed is unknown`);
      }
    }
  }

  if (opts.faults && c('disconnects') > 0) {
    const reconnect = summary.metrics[K6_TRENDS.reconnect_time_ms];
    const disconnections = c('disconnects');
    const reconnected = c('reconnects');
    out.reconnection = {
      policy: plan.reconnect ?? 'none',
      disconnections,
      reconnected,
      neverBack: c('never_back'),
      attempts: c('reconnect_attempts'),
      failedAttempts: c('reconnect_failures'),
      faults: [],
    };
    if (!reconnect) notes.push('k6 engine: no client reconnected (no reconnect_time_ms samples)');
  }
  return out;
}
