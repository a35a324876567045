/**
 * `wsbench merge`: one report from the partial reports of one sharded plan. Percentiles come from
 * the shards' HDR histograms added together (never from averaging percentiles), accounting and
 * counters are summed, timelines are combined second by second (each second's p99 from the merged
 * histograms of that second), and the targets are judged once, on the whole (by the caller, with
 * evaluateTargets). Pure: reads nothing, writes nothing.
 */
import { WsbenchError } from '../common/errors.js';
import { addAccounting, emptyAccounting } from '../model/accounting.js';
import { mergeEncoded, summarizeUs } from '../model/histogram.js';
import type { Accounting, LossBreakdown, MetricSummary, RunReport, TimelinePoint } from '../model/run-report.js';
import { isPartial, type MergedFrom, type PartialReport } from './partial.js';
import type { TargetSpec } from '../model/targets.js';

/**
 * Counters that are a worst case over the shards rather than a sum. `connections_peak` is also at
 * least the merged timeline's largest second (below): the k6 engine's is what the nodes held at once
 * (every shard scrapes the same nodes, so each saw every shard's connections), the Node engine's is
 * what the shard's own workers held — a share, which only the seconds summed over the shards add up.
 */
const MAX_COUNTERS = new Set(['publisher_stall_ms', 'reconnect_all_back_ms', 'connections_peak']);

export type MergedBase = Omit<RunReport, 'targets' | 'verdict'> & { mergedFrom: MergedFrom };

/** Checks that `partials` are all the shards of one plan, each once; throws a coded error if not. */
export function checkShards(partials: Array<{ file: string; report: unknown }>): PartialReport[] {
  const out: PartialReport[] = [];
  for (const { file, report } of partials) {
    if (!isPartial(report)) {
      throw new WsbenchError('WSB_MERGE_INVALID', `${file} is not a partial report (no shard {index, count, planId})`, { hint: 'merge the partial.json files that `wsbench run … --shard i/N` writes' });
    }
    if (report.verdict === 'error' || report.verdict === 'interrupted') {
      throw new WsbenchError('WSB_MERGE_INVALID', `${file}: shard ${report.shard.index}/${report.shard.count} did not finish (verdict ${report.verdict}${report.error ? `: ${report.error.code} ${report.error.message}` : ''})`, {
        hint: `run the plan again: every shard, with one new --start-at (a shard started late would not line up with the others)`,
      });
    }
    out.push(report);
  }
  if (out.length === 0) throw new WsbenchError('WSB_MERGE_INVALID', 'no partial reports given', { hint: 'wsbench merge <partial.json…>' });
  const plans = [...new Set(out.map((p) => `${p.shard.planId} (${p.shard.count} shards, ${p.scenario.name})`))];
  if (plans.length > 1) {
    throw new WsbenchError('WSB_MERGE_MIXED_PLANS', `the partial reports come from ${plans.length} different plans: ${plans.join(', ')}`, {
      hint: 'merge only the shards of one plan: same scenario, options, shard count, engine (k6 and Node shards are different plans), targets and --start-at on every shard',
    });
  }
  const count = out[0].shard.count;
  const seen = new Map<number, number>();
  for (const p of out) seen.set(p.shard.index, (seen.get(p.shard.index) ?? 0) + 1);
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([i]) => i);
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (duplicated.length || missing.length) {
    throw new WsbenchError(
      'WSB_MERGE_MISSING_SHARD',
      `plan ${out[0].shard.planId} has ${count} shards: ${[missing.length ? `missing ${missing.map((i) => `${i}/${count}`).join(', ')}` : '', duplicated.length ? `given more than once ${duplicated.map((i) => `${i}/${count}`).join(', ')}` : ''].filter(Boolean).join('; ')}`,
      { hint: `give exactly one partial.json of each shard 1/${count} … ${count}/${count}` },
    );
  }
  return out.sort((a, b) => a.shard.index - b.shard.index);
}

function sumLoss(a: LossBreakdown, b: LossBreakdown): LossBreakdown {
  return { lostConnected: a.lostConnected + b.lostConnected, lostDisconnected: a.lostDisconnected + b.lostDisconnected, lostPublisherDown: a.lostPublisherDown + b.lostPublisherDown, late: a.late + b.late };
}

/** Metrics from merged histograms; a metric some shard has without its histogram cannot be merged and is left out (so its target is unknown). */
function mergeMetrics(ps: PartialReport[], notes: string[]): Record<string, MetricSummary> {
  const names = [...new Set(ps.flatMap((p) => Object.keys(p.metrics)))];
  const out: Record<string, MetricSummary> = {};
  for (const name of names) {
    const have = ps.map((p) => p.metrics[name]).filter((m): m is MetricSummary => m !== undefined);
    if (have.some((m) => !m.hdr || (m.unit !== 'ms' && m.unit !== 'us'))) {
      notes.push(`merge: ${name} left out: a shard reported it without an HDR histogram, so its percentiles cannot be merged`);
      continue;
    }
    out[name] = summarizeUs(mergeEncoded(have.map((m) => m.hdr!)), have[0].unit as 'ms' | 'us');
  }
  return out;
}

/**
 * Where each shard's seconds go on the merged timeline. A shard's second t happened at its
 * `measureFrom` + t on the wall clock; without an agreed start the shards' zeros differ by however
 * far apart they got ready. The merged zero is the earliest shard's, and every other shard's
 * seconds move by its zero's distance from it, rounded to a whole second (a shard's seconds are
 * whole buckets: within ±0.5 s of the wall-clock second they land in). Partials without
 * `measureFrom` (older versions) are merged by `t` alone: `spreadMs` is then null.
 */
export function timelineShifts(ps: readonly PartialReport[]): { shifts: number[]; spreadMs: number | null } {
  const zeros = ps.map((p) => (p.shard.measureFrom ? Date.parse(p.shard.measureFrom) : NaN));
  if (zeros.some((z) => !Number.isFinite(z))) return { shifts: ps.map(() => 0), spreadMs: null };
  const first = Math.min(...zeros);
  return { shifts: zeros.map((z) => Math.round((z - first) / 1000)), spreadMs: Math.max(...zeros) - first };
}

/** Whether second `t` lies between a shard's first and last timeline points (inclusive). */
function inSpan(timeline: readonly TimelinePoint[], t: number): boolean {
  if (timeline.length === 0) return false;
  const ts = timeline.map((x) => x.t);
  return t >= Math.min(...ts) && t <= Math.max(...ts);
}

/** Second by second on the wall clock (each shard's seconds moved by its shift): counts summed, p99 from that second's histograms of every shard. */
function mergeTimeline(unshifted: PartialReport[], shifts: readonly number[]): TimelinePoint[] {
  const ps = unshifted.map((p, i) => ({
    timeline: p.timeline.map((x) => ({ ...x, t: x.t + shifts[i] })),
    timelineHistograms: p.timelineHistograms.map((h) => ({ ...h, t: h.t + shifts[i] })),
  }));
  const ts = [...new Set(ps.flatMap((p) => p.timeline.map((x) => x.t)))].sort((a, b) => a - b);
  return ts.map((t) => {
    const pts = ps.map((p) => p.timeline.find((x) => x.t === t));
    const hdrs = ps.flatMap((p) => p.timelineHistograms.filter((h) => h.t === t).map((h) => h.hdr));
    const h = mergeEncoded(hdrs);
    // A shard without a point in this second keeps its connections of the second before — but only
    // between its own first and last seconds: before and after them it held none, so shards that ran
    // one after the other never add up to more than was held at once.
    const connections = ps.reduce((a, p, i) => a + (pts[i]?.connections ?? (inSpan(p.timeline, t) ? [...p.timeline].reverse().find((x) => x.t < t)?.connections : undefined) ?? 0), 0);
    return {
      t,
      sent: pts.reduce((a, x) => a + (x?.sent ?? 0), 0),
      received: pts.reduce((a, x) => a + (x?.received ?? 0), 0),
      connections,
      p99Ms: h.totalCount > 0 ? Math.round(h.getValueAtPercentile(99)) / 1000 : null,
    };
  });
}

/** What the merged timeline's seconds are: the shards' measured phases' start spread and each shard's shift. */
export function startSpreadNote(ps: readonly PartialReport[], shifts: readonly number[], spreadMs: number | null): string {
  if (spreadMs === null) return "timeline: merged by each shard's own second t (a partial without measureFrom, from an older wsbench): seconds of shards that started apart are not lined up";
  const moved = ps.map((p, i) => ({ i: p.shard.index, s: shifts[i] })).filter((x) => x.s !== 0);
  return `timeline: the shards' measured phases started within ${(spreadMs / 1000).toFixed(3)} s of each other (wall clock); merged on wall-clock seconds from the earliest shard's start${moved.length ? `, ${moved.map((x) => `shard ${x.i}/${ps.length} moved ${x.s} s`).join(', ')}` : ', no shard moved'} (each to within ±0.5 s)`;
}

/** The merged report before its targets are judged, and the target specs the shards were run with. */
export function mergePartials(ps: PartialReport[], opts: { runId: string; now?: Date }): { base: MergedBase; specs: TargetSpec[]; spreadMs: number | null } {
  const first = ps[0];
  const notes: string[] = [];
  const metrics = mergeMetrics(ps, notes);
  const counters: Record<string, number> = {};
  for (const p of ps) {
    for (const [k, v] of Object.entries(p.counters)) counters[k] = MAX_COUNTERS.has(k) ? Math.max(counters[k] ?? v, v) : (counters[k] ?? 0) + v;
  }
  const { shifts, spreadMs } = timelineShifts(ps);
  const timeline = mergeTimeline(ps, shifts);
  if ('connections_peak' in counters) counters.connections_peak = Math.max(counters.connections_peak, ...timeline.map((x) => x.connections));
  const duration = Number(first.options.duration);
  // Each shard's rate over its own measured seconds, summed: the plan's rate, however far apart the shards started.
  const rate = (p: PartialReport) => {
    const measured = p.timeline.filter((x) => x.t > 0 && (!Number.isFinite(duration) || x.t <= duration));
    return measured.length ? measured.reduce((a, x) => a + x.received, 0) / measured.length : 0;
  };
  if ('deliveries_per_sec' in counters) counters.deliveries_per_sec = Math.round(ps.reduce((a, p) => a + rate(p), 0));
  const sum = (pick: (p: PartialReport) => Accounting) => ps.reduce((a, p) => addAccounting(a, pick(p)), emptyAccounting());
  // A shard that could not tell the nodes apart makes the merged split unknown too.
  const splitKnown = ps.every((p) => p.accounting.sameNode !== null && p.accounting.crossNode !== null);
  const withLosses = ps.filter((p) => p.accounting.losses);
  const zero: LossBreakdown = { lostConnected: 0, lostDisconnected: 0, lostPublisherDown: 0, late: 0 };
  const accounting: RunReport['accounting'] = {
    ...sum((p) => p.accounting),
    sameNode: splitKnown ? sum((p) => p.accounting.sameNode!) : null,
    crossNode: splitKnown ? sum((p) => p.accounting.crossNode!) : null,
    ...(withLosses.length
      ? {
          losses: {
            ...withLosses.reduce((a, p) => sumLoss(a, p.accounting.losses!), zero),
            sameNode: splitKnown ? withLosses.reduce((a, p) => sumLoss(a, p.accounting.losses!.sameNode!), zero) : null,
            crossNode: splitKnown ? withLosses.reduce((a, p) => sumLoss(a, p.accounting.losses!.crossNode!), zero) : null,
          },
        }
      : {}),
  };
  const connectionsPerNode: Record<string, number> = {};
  for (const p of ps) for (const [n, v] of Object.entries(p.connectionsPerNode)) connectionsPerNode[n] = (connectionsPerNode[n] ?? 0) + v;
  // Events on one axis: each shard's are shifted by its start (wall clocks; for reading, not for measuring).
  const t0 = Math.min(...ps.map((p) => Date.parse(p.startedAt)));
  const events = ps
    .flatMap((p) => p.events.map((e) => ({ ...e, atMs: e.atMs + (Date.parse(p.startedAt) - t0), ...(e.endMs !== undefined ? { endMs: e.endMs + (Date.parse(p.startedAt) - t0) } : {}), detail: `shard ${p.shard.index}/${p.shard.count}${e.detail ? `: ${e.detail}` : ''}` })))
    .sort((a, b) => a.atMs - b.atMs);
  const finished = Math.max(...ps.map((p) => Date.parse(p.finishedAt)));
  const bottleneck = ps.filter((p) => p.generator.bottleneck).map((p) => p.shard.index);
  if (bottleneck.length) notes.push(`GENERATOR-BOUND in shard(s) ${bottleneck.join(', ')}: that shard's generator was saturated; add shards (machines) rather than trusting these latencies`);
  const hosts = new Set(ps.map((p) => p.environment.hostname));
  notes.push(
    `merged from ${ps.length} shards of plan ${first.shard.planId} on ${hosts.size} host(s); every room ran in one shard, so every latency was measured on one clock${first.shard.startAt ? `; publishing started at ${first.shard.startAt} on every shard` : '; no --start-at: each shard started publishing when it was ready'}`,
    startSpreadNote(ps, shifts, spreadMs),
  );
  // The shards scrape the same nodes: one shard's scrape stands for the cluster.
  const nodeMetrics = ps.find((p) => p.nodeMetrics?.length)?.nodeMetrics;
  const specs: TargetSpec[] = first.targets.map((t) => ({ id: t.id, description: t.description, metric: t.metric, op: t.op, value: t.value, unit: t.unit, source: t.source, ...(t.override ? { override: t.override } : {}), ...(t.status === 'off' ? { off: true as const } : {}) }));
  const base: MergedBase = {
    schemaVersion: first.schemaVersion,
    tool: first.tool,
    runId: opts.runId,
    startedAt: new Date(t0).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - t0,
    environment: first.environment,
    topology: first.topology,
    scenario: first.scenario,
    options: first.options,
    metrics,
    counters,
    accounting,
    connectionsPerNode,
    timeline,
    events,
    ...(nodeMetrics ? { nodeMetrics } : {}),
    generator: {
      workers: ps.flatMap((p) => p.generator.workers.map((w) => ({ ...w, worker: p.shard.index * 1000 + w.worker }))),
      bottleneck: bottleneck.length > 0,
      notes: [...ps.flatMap((p) => p.generator.notes.map((n) => `shard ${p.shard.index}/${p.shard.count}: ${n}`)), ...notes],
    },
    mergedFrom: {
      planId: first.shard.planId,
      shards: ps.map((p) => ({ index: p.shard.index, runId: p.runId, hostname: p.environment.hostname, startedAt: p.startedAt, finishedAt: p.finishedAt, connections: p.shard.connections, rooms: p.shard.rooms })),
    },
  };
  return { base, specs, spreadMs };
}
