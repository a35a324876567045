import { describe, expect, it } from 'vitest';
import { createLatencyHistogram, encodeHistogram } from '../model/histogram.js';
import type { TargetResult } from '../model/run-report.js';
import { describeReceivers, describeStall, explainLatencyTarget, explainTargets, findStalls, perNodeSeconds, secondsP99, STALL_RULE } from './stalls.js';

const sec = (s: number, p99Ms: number | null, count = 100) => ({ s, p99Ms, count });
const target = (actual: number, status: TargetResult['status'] = 'fail'): TargetResult => ({
  id: 'latency-p99',
  description: 'p99',
  metric: 'metrics.broadcast_latency_ms.p99',
  op: '<=',
  value: 50,
  unit: 'ms',
  actual,
  status,
  source: { seed: 's', quote: 'q' },
});

describe('stalls: seconds far above the run\'s typical second', () => {
  it('marks the seconds above max(k × median, median + floor), merging neighbours into one stall', () => {
    // Typical (median) second 12 ms: threshold max(4 × 12, 12 + 25) = 48 ms.
    const seconds = [sec(0, 9), sec(1, 10), sec(2, 11), sec(3, 278), sec(4, 120), sec(5, 10), sec(6, 47), sec(7, 12), sec(8, 49)];
    const r = findStalls(seconds, [], 0);
    expect(r.rule).toEqual(STALL_RULE);
    expect(r.typicalP99Ms).toBe(12);
    expect(r.thresholdMs).toBe(48);
    expect(r.stalls.map((s) => [s.fromS, s.seconds, s.peakP99Ms])).toEqual([
      [3, 2, 278],
      [8, 1, 49],
    ]);
  });

  it('a quiet run\'s jitter of a few ms is no stall: the absolute floor holds', () => {
    const r = findStalls([sec(0, 1), sec(1, 2), sec(2, 2), sec(3, 9), sec(4, 2)], [], 0);
    expect(r.thresholdMs).toBe(27);
    expect(r.stalls).toEqual([]);
  });

  it('does not judge seconds with too few deliveries, nor empty ones', () => {
    const r = findStalls([sec(0, 10), sec(1, 10), sec(2, 900, 3), sec(3, null, 0), sec(4, 10)], [], 0);
    expect(r.stalls).toEqual([]);
  });

  it('names the busiest processes from the stall\'s start until a second after its end', () => {
    const zero = 5_000_000;
    const at = (t: number, cpu: Record<string, number>) => ({ atUs: zero + t * 1e6, cpu });
    const cpu = [at(3, { 'node-2': 99, nginx: 5 }), at(4, { 'node-2': 100, redis: 30, nginx: 7 }), at(5, { 'node-2': 20, 'generator-0': 60 }), at(6, { 'node-2': 1, 'generator-1': 95 })];
    const r = findStalls([sec(0, 10), sec(1, 10), sec(2, 10), sec(3, 300), sec(4, 10), sec(5, 10)], cpu, zero);
    // Stall [3, 4): samples covering (3, 5] are those at 4 and 5.
    expect(r.stalls[0].busiest).toEqual([
      { process: 'node-2', cpuPercent: 100 },
      { process: 'generator-0', cpuPercent: 60 },
      { process: 'redis', cpuPercent: 30 },
    ]);
    expect(r.cpuProcesses).toEqual(['generator-0', 'generator-1', 'nginx', 'node-2', 'redis']);
  });

  it('reads the p99 of each intended second from the workers\' per-second histograms', () => {
    const h = (values: number[]) => {
      const x = createLatencyHistogram();
      for (const v of values) x.recordValue(v);
      return encodeHistogram(x);
    };
    const m = new Map([
      [0, [h([1000, 2000]), h([3000])]],
      [2, [h([500_000])]],
      [7, [h([1])]],
    ]);
    const s = secondsP99(m, 3);
    expect(s.map((x) => x.s)).toEqual([0, 1, 2]);
    expect(s.map((x) => x.count)).toEqual([3, 0, 1]);
    expect(s[1].p99Ms).toBeNull();
    expect(s[0].p99Ms).toBeCloseTo(3, 1);
    expect(s[2].p99Ms).toBeCloseTo(500, 0);
  });
});

describe('a failed latency target says what failed it', () => {
  const stalled = findStalls([sec(0, 10), sec(1, 10), sec(2, 10), sec(3, 300), sec(4, 10), sec(5, 10)], [{ atUs: 4e6, cpu: { 'node-2': 100 } }], 0);

  it('a stall: how many, how long, when, and what was busy', () => {
    expect(explainLatencyTarget(target(53.3), stalled)).toBe('p99 53.3 ms: 1 stall of 1.0 s at +3 s (p99 300 ms, node-2 at 100 % CPU); 1 of 6 seconds above 50 ms');
  });

  it('sustained: half the seconds or more above the threshold', () => {
    const r = findStalls([sec(0, 60), sec(1, 70), sec(2, 65), sec(3, 10), sec(4, 62), sec(5, 61)], [], 0);
    expect(explainLatencyTarget(target(70), r)).toBe('p99 70 ms: sustained: 5 of 6 seconds above 50 ms');
    // A stall on top of a sustained breach is named too.
    const both = findStalls([sec(0, 60), sec(1, 70), sec(2, 65), sec(3, 900), sec(4, 62), sec(5, 61)], [], 0);
    expect(explainLatencyTarget(target(300), both)).toBe('p99 300 ms: sustained: 6 of 6 seconds above 50 ms; also 1 stall of 1.0 s at +3 s (p99 900 ms)');
  });

  it('nothing for a target that passed, one that is not a latency percentile, or a report without stalls', () => {
    expect(explainLatencyTarget(target(20, 'pass'), stalled)).toBeUndefined();
    expect(explainLatencyTarget({ ...target(5), metric: 'accounting.lost' }, stalled)).toBeUndefined();
    expect(explainLatencyTarget(target(53), undefined)).toBeUndefined();
    const [a, b] = explainTargets([target(53), target(20, 'pass')], { stalls: stalled });
    expect(a.explanation).toMatch(/^p99 53 ms: 1 stall of 1\.0 s at \+3 s/);
    expect(b.explanation).toBeUndefined();
  });
});

describe('stalls joined with the per-node timeline: which node\'s receivers were behind', () => {
  const h = (ms: number, n = 100) => {
    const x = createLatencyHistogram();
    for (let i = 0; i < n; i++) x.recordValue(ms * 1000);
    return encodeHistogram(x);
  };
  /** Six seconds; at +3 receivers on `slow` (or every node) were at 300 ms, else 10 ms. */
  function run(slow: string[] | 'all') {
    const nodes = ['node-1', 'node-2', 'node-3'];
    const total = new Map<number, string[]>();
    const workers = [0, 1].map(() =>
      Array.from({ length: 6 }, (_, s) => ({
        s,
        rx: Object.fromEntries(nodes.map((n) => [n, h(s === 3 && (slow === 'all' || slow.includes(n)) ? 300 : 10)])),
      })),
    );
    for (const w of workers) for (const p of w) total.set(p.s, [...(total.get(p.s) ?? []), ...Object.values(p.rx)]);
    return findStalls(secondsP99(total, 6, perNodeSeconds(workers)), [{ atUs: 4e6, cpu: { 'node-2': 100 } }], 0);
  }

  it('each second carries the per-node p99 and count; the stall names the node behind', () => {
    const r = run(['node-2']);
    expect(Object.keys(r.seconds[3].nodes!)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(r.seconds[3].nodes!['node-2'].count).toBe(200);
    expect(r.seconds[3].nodes!['node-2'].p99Ms).toBeCloseTo(300, 0);
    expect(r.seconds[3].nodes!['node-1'].p99Ms).toBeCloseTo(10, 0);
    expect(r.stalls).toHaveLength(1);
    expect(r.stalls[0].behind).toEqual(['node-2']);
    expect(r.stalls[0].receivers!.map((x) => x.node)).toEqual(['node-2', 'node-1', 'node-3']);
    expect(describeStall(r.stalls[0])).toBe('1.0 s at +3 s (p99 300 ms, receivers on node-2 behind (median 300 ms vs ≤ 10 ms elsewhere), node-2 at 100 % CPU)');
    expect(explainLatencyTarget(target(53.3), r)).toBe(
      'p99 53.3 ms: 1 stall of 1.0 s at +3 s (p99 300 ms, receivers on node-2 behind (median 300 ms vs ≤ 10 ms elsewhere), node-2 at 100 % CPU); 1 of 6 seconds above 50 ms',
    );
  });

  it('a paused node: its publishers make a third of the others\' deliveries late too (their p99 jumps), but only its own receivers are mostly late', () => {
    const mix = (lateOf100: number) => {
      const x = createLatencyHistogram();
      for (let i = 0; i < 100; i++) x.recordValue((i < lateOf100 ? 600 : 10) * 1000);
      return encodeHistogram(x);
    };
    const nodes = ['node-1', 'node-2', 'node-3'];
    const worker = Array.from({ length: 6 }, (_, s) => ({ s, rx: Object.fromEntries(nodes.map((n) => [n, s !== 3 ? mix(0) : mix(n === 'node-2' ? 100 : 34)])) }));
    const total = new Map(worker.map((p) => [p.s, Object.values(p.rx)]));
    const r = findStalls(secondsP99(total, 6, perNodeSeconds([worker])), [], 0);
    expect(r.stalls).toHaveLength(1);
    expect(r.stalls[0].receivers!.every((x) => x.p99Ms > r.thresholdMs)).toBe(true);
    expect(r.stalls[0].behind).toEqual(['node-2']);
  });

  it('receivers on every node behind say so (what they share stalled); a report without the per-node timeline names none', () => {
    const all = run('all');
    expect(all.stalls[0].behind).toEqual(['node-1', 'node-2', 'node-3']);
    expect(describeReceivers(all.stalls[0])).toBe('receivers on every node behind');
    const two = run(['node-1', 'node-3']);
    expect(describeReceivers(two.stalls[0])).toBe('receivers on node-1 and node-3 behind (median 300 / 300 ms vs ≤ 10 ms elsewhere)');
    const bare = findStalls([sec(0, 10), sec(1, 10), sec(2, 10), sec(3, 300), sec(4, 10), sec(5, 10)], [], 0);
    expect(bare.stalls[0].behind).toBeUndefined();
    expect(describeReceivers(bare.stalls[0])).toBe('');
  });
});
