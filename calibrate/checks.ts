/**
 * The checks of `wsbench calibrate`: for each case, what its injected fault must show in the
 * report (expected counts, added latency, samples) against what the run measured.
 */
import type { RunReport } from '../model/run-report.js';
import { decodeHistogram } from '../model/histogram.js';
import { shapeOf, type CalibrateOptions, type CalibrationCase, type Shape } from './options.js';
import type { WireCheckResult } from './wire-check.js';

/** One comparison of what was injected with what wsbench measured. */
export interface Check {
  check: string;
  expected: string;
  measured: string;
  agrees: boolean;
}

export interface CaseResult {
  case: CalibrationCase | 'wire';
  injected: string;
  checks: Check[];
  /** Folder of the case's run (report.json, logs). */
  runDir: string;
  /** Machine-readable figures behind the checks. */
  figures: Record<string, number | null>;
  /** Figures shown for information, apart from the checks: they judge nothing and are not counted. */
  info?: Array<{ what: string; measured: string }>;
}

export interface CalibrationResult {
  cases: CaseResult[];
  wire?: WireCheckResult & { connections: number; sampleEvery: number; captured: number | null; dropped: number | null };
  agrees: boolean;
  outDir: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const ms = (v: number) => `${v.toFixed(2)} ms`;

function counts(r: RunReport): [number, number, number] {
  return [r.accounting.lost, r.accounting.duplicated, r.accounting.reordered];
}

function countCheck(r: RunReport, expected: [number, number, number]): Check {
  const got = counts(r);
  return {
    check: 'lost / duplicated / reordered',
    expected: expected.map(fmt).join(' / '),
    measured: got.map(fmt).join(' / '),
    agrees: got.every((v, i) => v === expected[i]),
  };
}

/** The run published everything it should and the ledger expected every delivery. */
function accountedCheck(r: RunReport, s: Shape): Check {
  const expected = s.n * s.rooms * s.members;
  return {
    check: 'deliveries accounted (published × members)',
    expected: fmt(expected),
    measured: fmt(r.accounting.expected),
    agrees: r.accounting.expected === expected && r.counters.messages_published === s.n * s.rooms && r.counters.unexpected_arrivals === 0,
  };
}

/** Every measured delivery was timed: latency samples = measured messages × members (no coordinated omission). */
function samplesCheck(r: RunReport, s: Shape, what = 'latency samples (measured messages × members)'): Check {
  const expected = s.measured * s.rooms * s.members;
  const got = r.metrics.broadcast_latency_ms?.count ?? 0;
  return { check: what, expected: fmt(expected), measured: fmt(got), agrees: got === expected };
}

/** Expected counts of each fault case (module comment of reference-server/calibration-faults.ts). */
export function expectedCounts(c: CalibrationCase, o: Pick<CalibrateOptions, 'dropEvery' | 'dupEvery'>, s: Shape): [number, number, number] {
  switch (c) {
    case 'drop':
      return [Math.floor(s.n / o.dropEvery) * s.members, 0, 0];
    case 'dup':
      return [0, Math.floor(s.n / o.dupEvery) * s.members * s.rooms, 0];
    case 'swap':
      return [0, 0, Math.floor(s.n / 2) * s.members * s.rooms];
    default:
      return [0, 0, 0];
  }
}

/**
 * The delay case's measured added latency:
 * (cross p50 − same p50 with the fault) − (cross p50 − same p50 without it).
 *
 * Both p50s of a run come from the same seconds on the same loaded machine, so a shift that hits
 * the whole run (another process, CPU frequency, a slower run) cancels in the difference. The
 * baseline's difference then removes the Redis hop, which cross-node deliveries always take. Cross
 * p50 with the fault minus cross p50 of the baseline would keep the run-to-run drift. Cross minus
 * same within the faulted run alone would keep the Redis hop (a fraction of a millisecond here).
 */
export function addedLatencyMs(faulted: RunReport, baseline: RunReport): number {
  const d = (r: RunReport) => r.metrics.broadcast_latency_cross_node_ms.p50 - r.metrics.broadcast_latency_same_node_ms.p50;
  return Math.round((d(faulted) - d(baseline)) * 1000) / 1000;
}

/** The checks of one case, from its report (and the baseline's, for delay and stall). */
export function checksFor(c: CalibrationCase, o: CalibrateOptions, r: RunReport, baseline: RunReport | undefined): { injected: string; checks: Check[]; figures: Record<string, number | null> } {
  const s = shapeOf(o);
  const lost = r.accounting.lost;
  const figures: Record<string, number | null> = { lost, duplicated: r.accounting.duplicated, reordered: r.accounting.reordered, samples: r.metrics.broadcast_latency_ms?.count ?? 0 };
  switch (c) {
    case 'baseline':
      return { injected: 'nothing', checks: [accountedCheck(r, s), countCheck(r, [0, 0, 0]), samplesCheck(r, s)], figures };
    case 'delay': {
      const cross = r.metrics.broadcast_latency_cross_node_ms;
      const added = baseline ? addedLatencyMs(r, baseline) : null;
      figures.addedP50Ms = added;
      figures.crossMinMs = cross.min;
      figures.crossMinShiftMs = baseline ? Math.round((cross.min - baseline.metrics.broadcast_latency_cross_node_ms.min) * 1000) / 1000 : null;
      return {
        injected: `delay-cross=${o.delayMs} (every cross-node delivery)`,
        checks: [
          {
            check: 'added cross-node p50 (Δ cross − same p50 vs baseline)',
            expected: `${ms(o.delayMs)} ± 1 ms`,
            measured: added === null ? 'no baseline' : `${ms(added)} (${ms(cross.p50)} − ${ms(r.metrics.broadcast_latency_same_node_ms.p50)}; baseline ${ms(baseline!.metrics.broadcast_latency_cross_node_ms.p50)} − ${ms(baseline!.metrics.broadcast_latency_same_node_ms.p50)})`,
            agrees: added !== null && Math.abs(added - o.delayMs) <= 1,
          },
          // HDR keeps 3 significant digits: `min` may read up to 0.1 % below the real smallest value.
          {
            check: 'smallest cross-node latency',
            expected: `≥ ${ms(o.delayMs)}`,
            measured: baseline ? `${ms(cross.min)} (baseline ${ms(baseline.metrics.broadcast_latency_cross_node_ms.min)}: +${ms(cross.min - baseline.metrics.broadcast_latency_cross_node_ms.min)})` : ms(cross.min),
            agrees: cross.count > 0 && cross.min >= o.delayMs * 0.999,
          },
          countCheck(r, [0, 0, 0]),
          samplesCheck(r, s),
        ],
        figures,
      };
    }
    case 'drop':
      return {
        injected: `drop-every=${o.dropEvery}:${o.dropRoom} (on every node)`,
        checks: [accountedCheck(r, s), { ...countCheck(r, expectedCounts(c, o, s)), check: `lost / duplicated / reordered (⌊${s.n}/${o.dropEvery}⌋ × ${s.members} members)` }],
        figures,
      };
    case 'dup':
      return {
        injected: `dup-every=${o.dupEvery} (every room, every node)`,
        checks: [accountedCheck(r, s), { ...countCheck(r, expectedCounts(c, o, s)), check: `lost / duplicated / reordered (⌊${s.n}/${o.dupEvery}⌋ × ${s.members} × ${s.rooms} rooms)` }, samplesCheck(r, s)],
        figures,
      };
    case 'swap':
      return {
        injected: 'swap-pairs (every room, every node)',
        checks: [accountedCheck(r, s), { ...countCheck(r, expectedCounts(c, o, s)), check: `lost / duplicated / reordered (⌊${s.n}/2⌋ × ${s.members} × ${s.rooms} rooms)` }, samplesCheck(r, s)],
        figures,
      };
    case 'stall': {
      // The stall begins at an intended send time of publisher 0, so that message waits the whole
      // stall. "The whole stall" is what the worker measured: from the stall's start until its
      // pump ran again (`publisher_stall_ms`, the requested stall plus the timer's lateness). Each
      // of the message's `members` deliveries takes that long plus its own delivery time. The
      // other held messages wait less, because they were due later. So the `members` slowest
      // deliveries must all be ≥ the hold (structural). The fastest of them must be the hold plus
      // an ordinary delivery time: at most the baseline's p99, plus 1 ms for HDR's 0.1 %. That is
      // the fastest, not the median or the max: the stall releases every held message at once (10
      // with the defaults, 290 deliveries). A worker then reads its sockets in the order epoll
      // reports them, not in message order, so the held message's other deliveries wait behind
      // parts of that burst. A generator with coordinated omission would time the held messages
      // from when they left (nothing near the stall), or lose them (fewer samples).
      const held = r.counters.publisher_stall_ms ?? o.stallMs;
      const lowest = topMs(r, s.members);
      const median = topMs(r, Math.ceil(s.members / 2));
      const slack = (baseline?.metrics.broadcast_latency_ms.p99 ?? 10) + 1;
      figures.heldMs = r.counters.publisher_stall_ms ?? null;
      figures.maxMs = r.metrics.broadcast_latency_ms.max;
      figures.heldLowestMs = lowest;
      figures.heldMedianMs = median;
      figures.lateSends = r.counters.late_sends ?? null;
      return {
        injected: `publisher stall ${o.stallMs} ms at ${o.stallAt} s (generator)`,
        checks: [
          countCheck(r, [0, 0, 0]),
          samplesCheck(r, s, 'latency samples = measured messages × members (no coordinated omission)'),
          {
            check: 'the publisher was held (stall start → pump ran again)',
            expected: `≥ ${ms(o.stallMs)}`,
            measured: r.counters.publisher_stall_ms === undefined ? 'not reported' : ms(held),
            agrees: r.counters.publisher_stall_ms !== undefined && held >= o.stallMs,
          },
          {
            check: `the ${s.members} slowest deliveries (the message held the whole stall) all ≥ the hold`,
            expected: `≥ ${ms(held)}`,
            measured: lowest === null ? 'no samples' : `${ms(lowest)} … ${ms(r.metrics.broadcast_latency_ms.max)} (${fmt(r.counters.late_sends ?? 0)} messages left > 10 ms late)`,
            agrees: lowest !== null && lowest >= held * 0.999,
          },
          {
            check: 'the fastest of them ≈ the hold + one delivery (≤ baseline p99 + 1 ms)',
            expected: `${ms(held)} … ${ms(held + slack)}`,
            measured: lowest === null ? 'no samples' : `${ms(lowest)} (their median ${median === null ? '–' : ms(median)}: the released burst)`,
            agrees: lowest !== null && lowest >= held * 0.999 && lowest <= held + slack,
          },
        ],
        figures,
      };
    }
  }
}

/**
 * The n-th largest latency of a run, ms, from its merged HDR histogram (null without one). HDR
 * keeps 3 significant digits, so it is within 0.1 % of the recorded value.
 */
export function topMs(r: RunReport, n: number): number | null {
  const m = r.metrics.broadcast_latency_ms;
  if (m?.hdr === undefined || m.count < n || n < 1) return null;
  // The (count − n + 1)-th smallest; the half keeps HDR's ceil() off a rounding error.
  return decodeHistogram(m.hdr).getValueAtPercentile((100 * (m.count - n + 0.5)) / m.count) / 1000;
}

function us(p: { p50: number; p99: number } | null): string {
  return p === null ? 'none matched' : `${p.p50.toFixed(1)} / ${p.p99.toFixed(1)} µs`;
}

export function wireCase(w: NonNullable<CalibrationResult['wire']>, dir: string, ports: { lb: number; node: number }): CaseResult {
  const share = w.samples ? w.matched / w.samples : 0;
  return {
    case: 'wire',
    injected: `capture on lo (nginx :${ports.lb} → clients, node-1 :${ports.node}), every ${w.sampleEvery}th arrival, ${fmt(w.connections)} connections`,
    runDir: dir,
    figures: {
      samples: w.samples,
      matched: w.matched,
      overheadP50Us: w.overheadUs?.p50 ?? null,
      overheadP99Us: w.overheadUs?.p99 ?? null,
      overheadMaxUs: w.overheadUs?.max ?? null,
      nodeToRecordedP50Us: w.nodeToRecordedUs?.p50 ?? null,
      nodeToRecordedP99Us: w.nodeToRecordedUs?.p99 ?? null,
      clockErrorUs: w.clock.errorUs,
      droppedPackets: w.dropped,
    },
    checks: [
      { check: 'logged arrivals matched to a captured frame', expected: `≥ 95 % of ${fmt(w.samples)}`, measured: `${fmt(w.matched)} (${(share * 100).toFixed(1)} %)`, agrees: w.samples > 0 && share >= 0.95 },
      {
        check: 'recorded before the frame reached the socket',
        expected: `0 (clock mapping ± ${w.clock.errorUs} µs)`,
        measured: fmt(w.beforeFrame),
        agrees: w.beforeFrame === 0,
      },
    ],
    // Measured, not checked against anything: shown apart, never counted as agreeing checks.
    info: [
      { what: 'generator receive overhead p50 / p99 (socket → recorded)', measured: us(w.overheadUs) },
      { what: 'node-1 wrote → recorded p50 / p99 (nginx + generator)', measured: us(w.nodeToRecordedUs) },
    ],
  };
}
