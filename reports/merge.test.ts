import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WsbenchError } from '../common/errors.js';
import { createLatencyHistogram, summarizeUs } from '../model/histogram.js';
import { recordUs } from '../load/histogram-record.js';
import { checkShards, mergePartials, timelineShifts } from './merge.js';
import type { PartialReport } from './partial.js';
import type { RunReport } from '../model/run-report.js';
import { evaluateTargets } from '../model/evaluate.js';
import { validateReport } from '../model/schema.js';

const fixture = (): RunReport => JSON.parse(readFileSync(new URL('../fixtures/report-default-run.json', import.meta.url), 'utf8')) as RunReport;

/** A partial of shard `index`/`count` whose latencies are `samplesUs` and whose accounting is `expected`/`received`. */
function partial(index: number, count: number, samplesUs: number[], o: { planId?: string; expected?: number; received?: number } = {}): PartialReport {
  const r = fixture();
  const h = createLatencyHistogram();
  for (const v of samplesUs) recordUs(h, v);
  const expected = o.expected ?? samplesUs.length;
  const received = o.received ?? expected;
  const acc = { expected, received, lost: expected - received, duplicated: 0, reordered: 0, deliveryRatio: expected ? received / expected : 1 };
  return {
    ...r,
    runId: `${r.runId}-shard-${index}of${count}`,
    metrics: { ...r.metrics, broadcast_latency_ms: summarizeUs(h, 'ms') },
    accounting: { ...acc, sameNode: { ...acc }, crossNode: { ...acc, expected: 0, received: 0, lost: 0, deliveryRatio: 1 } },
    counters: { ...r.counters, connections: 100, deliveries_expected: expected },
    connectionsPerNode: { 'node-1': 50, 'node-2': 50 },
    timeline: [{ t: 1, sent: 10, received: samplesUs.length, connections: 100, p99Ms: null }],
    timelineHistograms: samplesUs.length ? [{ t: 1, hdr: summarizeUs(h, 'ms').hdr! }] : [],
    shard: { index, count, planId: o.planId ?? 'plan-a', rooms: 2, connections: 100, members: 98 },
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as WsbenchError).code;
  }
  return 'no error';
}

describe('checkShards', () => {
  const files = (ps: PartialReport[]) => ps.map((report, i) => ({ file: `p${i}.json`, report }));
  it('accepts every shard of one plan once, in any order, and sorts them', () => {
    expect(checkShards(files([partial(2, 2, [1000]), partial(1, 2, [1000])])).map((p) => p.shard.index)).toEqual([1, 2]);
  });
  it('refuses a missing shard, a shard given twice, mixed plans, a full report, a failed shard', () => {
    expect(codeOf(() => checkShards(files([partial(1, 3, [1]), partial(3, 3, [1])])))).toBe('WSB_MERGE_MISSING_SHARD');
    expect(codeOf(() => checkShards(files([partial(1, 2, [1]), partial(1, 2, [1]), partial(2, 2, [1])])))).toBe('WSB_MERGE_MISSING_SHARD');
    expect(codeOf(() => checkShards(files([partial(1, 2, [1]), partial(2, 2, [1], { planId: 'plan-b' })])))).toBe('WSB_MERGE_MIXED_PLANS');
    expect(codeOf(() => checkShards(files([partial(1, 1, [1]), partial(2, 2, [1])])))).toBe('WSB_MERGE_MIXED_PLANS');
    expect(codeOf(() => checkShards([{ file: 'report.json', report: fixture() }]))).toBe('WSB_MERGE_INVALID');
    expect(codeOf(() => checkShards(files([{ ...partial(1, 1, [1]), verdict: 'error' }])))).toBe('WSB_MERGE_INVALID');
    expect(codeOf(() => checkShards([]))).toBe('WSB_MERGE_INVALID');
  });
});

describe('mergePartials', () => {
  it('percentiles of the merged report are those of all samples in one histogram; counts and accounting add up', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 1, max: 5_000_000 }), { maxLength: 200 }), { minLength: 1, maxLength: 5 }), (shards) => {
        const n = shards.length;
        const ps = shards.map((s, i) => partial(i + 1, n, s));
        const { base } = mergePartials(checkShards(ps.map((report) => ({ file: 'x', report }))), { runId: 'merged' });
        const all = createLatencyHistogram();
        for (const v of shards.flat()) recordUs(all, v);
        const { hdr: _a, ...want } = summarizeUs(all, 'ms');
        const { hdr: _b, ...got } = base.metrics.broadcast_latency_ms;
        expect(got).toEqual(want);
        expect(base.accounting.expected).toBe(shards.flat().length);
        expect(base.counters.connections).toBe(100 * n);
        expect(base.connectionsPerNode).toEqual({ 'node-1': 50 * n, 'node-2': 50 * n });
        expect(base.timeline.find((p) => p.t === 1)?.received ?? 0).toBe(shards.flat().length);
      }),
      { numRuns: 40 },
    );
  });

  it('judges the targets once on the whole: one shard\'s loss fails no-loss of the merged report', () => {
    const ps = [partial(1, 2, [2000, 3000]), partial(2, 2, [2000], { expected: 5, received: 4 })];
    const { base, specs } = mergePartials(ps, { runId: 'merged' });
    expect(base.accounting).toMatchObject({ expected: 7, received: 6, lost: 1 });
    expect(base.accounting.deliveryRatio).toBeCloseTo(6 / 7, 10);
    const targets = evaluateTargets(base, specs);
    expect(targets.find((t) => t.id === 'no-loss')?.status).toBe('fail');
    expect(validateReport({ ...base, targets, verdict: 'fail' })).toEqual([]);
    expect(base.mergedFrom).toMatchObject({ planId: 'plan-a', shards: [{ index: 1 }, { index: 2 }] });
  });

  it('says when a shard was generator-bound', () => {
    const ps = [partial(1, 2, [1000]), { ...partial(2, 2, [1000]), generator: { workers: [], bottleneck: true, notes: [] } }];
    const { base } = mergePartials(ps, { runId: 'merged' });
    expect(base.generator.bottleneck).toBe(true);
    expect(base.generator.notes.some((n) => n.startsWith('GENERATOR-BOUND in shard(s) 2'))).toBe(true);
  });

  it('connections_peak: at least what the shards held in one wall-clock second together (a Node shard counts only its own workers)', () => {
    const peak = (p: PartialReport, v: number) => ({ ...p, counters: { ...p.counters, connections_peak: v } });
    // Node engine shards: each its own 100 (the timeline's seconds, summed, hold 200).
    expect(mergePartials([peak(partial(1, 2, [1]), 100), peak(partial(2, 2, [1]), 100)], { runId: 'm' }).base.counters.connections_peak).toBe(200);
    // k6 shards: each saw the nodes' 250 (more than the shards' seconds sum to): the nodes' count stands.
    expect(mergePartials([peak(partial(1, 2, [1]), 250), peak(partial(2, 2, [1]), 250)], { runId: 'm' }).base.counters.connections_peak).toBe(250);
  });

  describe('shards that started apart (no --start-at): the timeline on wall-clock seconds', () => {
    const T = Date.parse('2026-12-07T10:00:00.000Z');
    /** Shard `index` of 2 whose measured phase began at `zeroMs`; its second t received `recv[t-1]` deliveries of latency `(t × 10 + index) ms`. */
    function started(index: number, zeroMs: number | undefined, recv: number[]): PartialReport {
      const p = partial(index, 2, []);
      const seconds = recv.map((n, k) => {
        const h = createLatencyHistogram();
        for (let j = 0; j < n; j++) recordUs(h, ((k + 1) * 10 + index) * 1000);
        return { t: k + 1, n, hdr: summarizeUs(h, 'ms').hdr! };
      });
      return {
        ...p,
        options: { ...p.options, duration: recv.length },
        counters: { ...p.counters, deliveries_per_sec: 0 },
        timeline: seconds.map((x) => ({ t: x.t, sent: 1, received: x.n, connections: 100, p99Ms: null })),
        timelineHistograms: seconds.map((x) => ({ t: x.t, hdr: x.hdr })),
        shard: { ...p.shard, ...(zeroMs !== undefined ? { measureFrom: new Date(zeroMs).toISOString() } : {}) },
      };
    }

    it('a shard whose measured phase began 2 s later lands 2 s later: each merged second holds what every shard did in it', () => {
      const a = started(1, T, [100, 200, 300]);
      const b = started(2, T + 2000, [1000, 2000, 3000]);
      expect(timelineShifts([a, b])).toEqual({ shifts: [0, 2], spreadMs: 2000 });
      const { base } = mergePartials(checkShards([{ file: 'b', report: b }, { file: 'a', report: a }]), { runId: 'merged' });
      // Shard 2's second 1 is shard 1's second 3 on the wall clock.
      expect(base.timeline.map((x) => [x.t, x.received])).toEqual([
        [1, 100],
        [2, 200],
        [3, 300 + 1000],
        [4, 2000],
        [5, 3000],
      ]);
      // Each second's p99 from that wall-clock second's histograms: second 3 holds shard 1's 31 ms and shard 2's 12 ms deliveries.
      const p99 = (t: number) => base.timeline.find((x) => x.t === t)!.p99Ms!;
      expect(p99(3)).toBeCloseTo(31, 0);
      expect(p99(4)).toBeCloseTo(22, 0);
      // The rate is the plan's: each shard's over its own measured seconds, summed (not diluted by the spread).
      expect(base.counters.deliveries_per_sec).toBe(200 + 2000);
      expect(base.generator.notes.find((n) => n.startsWith('timeline:'))).toContain('within 2.000 s');
      expect(base.generator.notes.find((n) => n.startsWith('timeline:'))).toContain('shard 2/2 moved 2 s');
      expect(validateReport({ ...b, verdict: 'pass' })).toEqual([]);
    });

    it('a shard counts no connections outside its own seconds: two shards that ran one after the other do not add up', () => {
      const held = (p: PartialReport, n: number): PartialReport => ({ ...p, counters: { ...p.counters, connections_peak: n }, timeline: p.timeline.map((x) => ({ ...x, connections: n })) });
      // Shard 2's measured phase began when shard 1's had ended: never 10,000 at once.
      const a = held(started(1, T, [1, 1, 1]), 5000);
      const b = held(started(2, T + 3000, [1, 1, 1]), 5000);
      const { base } = mergePartials([a, b], { runId: 'm' });
      expect(base.timeline.map((x) => [x.t, x.connections])).toEqual([
        [1, 5000],
        [2, 5000],
        [3, 5000],
        [4, 5000],
        [5, 5000],
        [6, 5000],
      ]);
      expect(base.counters.connections_peak).toBe(5000);
      // A gap inside a shard's own seconds still carries its connections forward.
      const gap = held(started(2, T + 1000, [1, 1, 1]), 300);
      const withGap = { ...gap, timeline: gap.timeline.filter((x) => x.t !== 2) };
      expect(mergePartials([held(started(1, T, [1, 1, 1, 1]), 100), withGap], { runId: 'm' }).base.timeline.map((x) => x.connections)).toEqual([100, 400, 400, 400]);
    });

    it('rounds a sub-second offset to the nearest second, and agrees with merging by t when the starts agree', () => {
      expect(timelineShifts([started(1, T + 2400, [1]), started(2, T, [1])])).toEqual({ shifts: [2, 0], spreadMs: 2400 });
      expect(timelineShifts([started(1, T, [1]), started(2, T + 2600, [1])]).shifts).toEqual([0, 3]);
      const same = mergePartials([started(1, T, [5, 6]), started(2, T + 3, [7, 8])], { runId: 'm' }).base;
      expect(same.timeline.map((x) => [x.t, x.received])).toEqual([
        [1, 12],
        [2, 14],
      ]);
      expect(same.generator.notes.find((n) => n.startsWith('timeline:'))).toContain('no shard moved');
    });

    it('partials without measureFrom (an older wsbench) are merged by t, and the note says their seconds are not lined up', () => {
      const { base } = mergePartials([started(1, undefined, [5, 6]), started(2, T, [7, 8])], { runId: 'm' });
      expect(timelineShifts([started(1, undefined, [1]), started(2, T, [1])])).toEqual({ shifts: [0, 0], spreadMs: null });
      expect(base.timeline.map((x) => x.received)).toEqual([12, 14]);
      expect(base.generator.notes.find((n) => n.startsWith('timeline:'))).toContain('not lined up');
    });
  });
});
