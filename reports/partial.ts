/**
 * A shard's partial report (`<out>/partial.json` of `wsbench run … --shard i/N`): the RunReport of
 * its share, plus what `wsbench merge` needs to make one report of all shards — its shard and plan
 * identity, and each timeline second's HDR histogram. The whole-run histograms travel in
 * `metrics.<name>.hdr` as in every report; accounting and counters are plain sums.
 */
import type { RunReport } from '../model/run-report.js';

/** `shard` of a partial report. */
export interface ShardInfo {
  /** 1-based. */
  index: number;
  count: number;
  /** Same on every shard of one plan; `merge` refuses partials of different plans. */
  planId: string;
  /** The agreed wall-clock start of publishing (`--start-at`), if any. */
  startAt?: string;
  /**
   * The wall-clock time of this shard's timeline zero (the start of its measured phase; ISO, ms):
   * `wsbench merge` puts every shard's second t at measureFrom + t, so that shards started apart
   * share seconds. Absent in partials of older versions (merged by `t` alone).
   */
  measureFrom?: string;
  /** Rooms, connections and members of this share. */
  rooms: number;
  connections: number;
  members: number;
  /** The `wsbench cluster up` cluster it ran against (`--cluster`), if any. */
  cluster?: string;
}

export interface PartialReport extends RunReport {
  shard: ShardInfo;
  /** Encoded HDR histogram (µs) of each timeline second's deliveries, by `t`. */
  timelineHistograms: Array<{ t: number; hdr: string }>;
}

/** `mergedFrom` of a merged report: the plan and each shard's run. */
export interface MergedFrom {
  planId: string;
  shards: Array<{ index: number; runId: string; hostname: string; startedAt: string; finishedAt: string; connections: number; rooms: number }>;
}

export function partialOf(
  report: RunReport,
  shard: { ref: { index: number; count: number }; planId: string; startAt?: string; share: { rooms: number[]; connections: number; members: number } },
  timeline: { timelineHistograms?: Array<{ t: number; hdr: string }>; measureFromEpochMs?: number },
  cluster?: string,
): PartialReport {
  return {
    ...report,
    shard: {
      index: shard.ref.index,
      count: shard.ref.count,
      planId: shard.planId,
      ...(shard.startAt ? { startAt: shard.startAt } : {}),
      ...(timeline.measureFromEpochMs !== undefined ? { measureFrom: new Date(timeline.measureFromEpochMs).toISOString() } : {}),
      rooms: shard.share.rooms.length,
      connections: shard.share.connections,
      members: shard.share.members,
      ...(cluster ? { cluster } : {}),
    },
    timelineHistograms: timeline.timelineHistograms ?? [],
  };
}

export function isPartial(r: unknown): r is PartialReport {
  const s = (r as { shard?: unknown } | null)?.shard as Partial<ShardInfo> | undefined;
  return typeof s === 'object' && s !== null && Number.isInteger(s.index) && Number.isInteger(s.count) && typeof s.planId === 'string';
}
