/**
 * A k6-operator runner's outputs turned into the ScenarioResult a local `wsbench run --engine k6
 * --shard i/N` produces: the runner wrote `<name>-<i>.summary.json` (the script's handleSummary)
 * and `<name>-<i>.samples.json.gz` (k6's `--out json`: every sample) into the results claim. The
 * summary gives the accounting, the samples the HDR histograms `wsbench merge` can add. What the
 * local engine measures beside k6 (the k6 process from /proc, the nodes' connection counts, chaos)
 * has no harness under the operator and is not in the result: the notes say so.
 *
 * The clock: with `render k6-operator --start-at` the plan carries `t0EpochMs`, every runner's
 * schedule zero; without it each runner counted from its own setup(), whose return value k6 puts in
 * the summary (`setup_data.t0`). Either way a runner's latencies are on its own clock (it holds whole
 * rooms); only the seconds of different runners may be offset by how far apart the operator started them.
 */
import { readFileSync } from 'node:fs';
import { WsbenchError } from '../../common/errors.js';
import { summarizeUs } from '../../model/histogram.js';
import type { ScenarioResult } from '../../scenarios/define.js';
import { ingestBroadcastExtras } from './broadcast-ingest.js';
import { readK6Samples } from './samples.js';
import { K6_ADAPTERS } from './scenarios.js';
import { broadcastTimes, type BroadcastPlan, type K6Plan } from './scripts/lib/plan.js';
import { ingestK6Summary, parseK6Summary } from './summary.js';

export interface RunnerFiles {
  /** `<name>-<i>.summary.json`. */
  summary: string;
  /** `<name>-<i>.samples.json.gz` (or an uncompressed NDJSON file). */
  samples: string;
}

/** One runner's outputs as a ScenarioResult with per-second histograms (what a partial report needs), and the runner's clock zero. */
export async function runnerResult(files: RunnerFiles, plan: K6Plan, nodeIds: readonly string[]): Promise<ScenarioResult & { t0EpochMs: number }> {
  if (plan.scenario === 'connection-capacity') {
    throw new WsbenchError('WSB_INVALID_OPTION', 'merge --k6-operator: connection-capacity runners have no per-delivery samples to merge', { hint: 'merge cross-node-broadcast runners' });
  }
  let summaryJson: unknown;
  try {
    summaryJson = JSON.parse(readFileSync(files.summary, 'utf8'));
  } catch (e) {
    throw new WsbenchError('WSB_MERGE_INVALID', `${files.summary}: not a readable k6 summary: ${(e as Error).message}`, { hint: "copy the runners' files out of the results claim whole" });
  }
  const summary = parseK6Summary(summaryJson, files.summary);
  const own = (summaryJson as { setup_data?: { t0?: unknown } }).setup_data?.t0;
  const t0 = plan.t0EpochMs ?? (typeof own === 'number' && Number.isFinite(own) ? own : undefined);
  if (t0 === undefined) {
    throw new WsbenchError('WSB_MERGE_INVALID', `${files.summary}: no clock zero — the plan has no agreed start and the summary no setup_data.t0`, {
      hint: 'render the TestRun with this wsbench (its script returns t0 from setup(); or give --start-at)',
    });
  }
  const adapter = K6_ADAPTERS[plan.scenario];
  const measuredSeconds = adapter?.measuredSeconds?.(plan);
  const ingested = ingestK6Summary(summary, measuredSeconds ? { measuredSeconds } : {});
  const connectionsPerNode: Record<string, number> = Object.fromEntries(nodeIds.map((id) => [id, 0]));
  Object.assign(connectionsPerNode, ingested.connectionsPerNode);
  const times = broadcastTimes(plan);
  const s = await readK6Samples(files.samples, { fromEpochMs: t0 + times.publishAt, zeroEpochMs: t0 + times.measureFrom });
  for (const [name, h] of Object.entries(s.histograms)) ingested.metrics[name] = summarizeUs(h, 'ms');
  const b = ingestBroadcastExtras(summary, plan as BroadcastPlan, { t0, faults: false });
  Object.assign(ingested.counters, b.counters);
  if (b.losses) Object.assign(ingested.accounting, { losses: b.losses });
  const notes = [
    `k6-operator runner: t0 ${new Date(t0).toISOString()} (${plan.t0EpochMs !== undefined ? 'the agreed start' : "the runner's own setup()"}); summary ${files.summary} (${summary.format}), samples ${files.samples} as HDR histograms (whole ms as k6 measures them)${s.badLines ? `; ${s.badLines} unreadable lines skipped` : ''}`,
    ...ingested.notes,
    ...b.notes,
    'k6-operator runner: no harness beside k6 — the k6 process, its event-loop delay and the nodes were not sampled (generator health and connections_peak not measured)',
  ];
  return {
    t0EpochMs: t0,
    metrics: ingested.metrics,
    counters: ingested.counters,
    accounting: ingested.accounting,
    connectionsPerNode,
    timeline: s.timeline,
    timelineHistograms: s.timelineHistograms,
    measureFromEpochMs: t0 + times.measureFrom,
    generator: { workers: [], bottleneck: false, notes },
  };
}
