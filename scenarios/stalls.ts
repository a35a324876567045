import { mergeEncoded } from '../model/histogram.js';
import type { CpuSample } from '../cluster/cpu-sampler.js';
import type { StallsReport, TargetResult } from '../model/run-report.js';

/**
 * The stall rule (docs/stability.md): a second is a stall when its p99 exceeds
 * max(k × the median second's p99, the median + floorMs). k = 4 and a 25 ms floor: a run whose
 * seconds sit at 5–26 ms (median ≈ 10) marks seconds above 40 ms; a quiet 2 ms run marks seconds
 * above 27 ms, so ordinary jitter of a few ms is never a stall.
 */
export const STALL_RULE = { k: 4, floorMs: 25 };

/** Seconds with fewer timed deliveries than this are not judged (their p99 rests on too little). */
const MIN_SECOND_SAMPLES = 20;

/**
 * p99 of the deliveries *intended* in each second of the measured phase (the workers' per-second
 * histograms), s = 0 … duration−1: a stall is placed at the second it hit the schedule, which is
 * where a fault or pause happened, not where its late deliveries landed.
 */
export function secondsP99(perSecond: Map<number, string[]>, duration: number, perNode?: Map<number, Map<string, string[]>>): StallsReport['seconds'] {
  const out: StallsReport['seconds'] = [];
  for (let s = 0; s < Math.floor(duration); s++) {
    const h = mergeEncoded(perSecond.get(s) ?? []);
    const nodes = perNode?.get(s);
    out.push({
      s,
      p99Ms: p99Of(h),
      count: h.totalCount,
      // The per-node timeline: the same second by the node the receivers sat on.
      ...(perNode ? { nodes: Object.fromEntries([...(nodes ?? new Map<string, string[]>())].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([node, hdrs]) => [node, nodeSecond(hdrs)])) } : {}),
    });
  }
  return out;
}

function p99Of(h: { totalCount: number; getValueAtPercentile(p: number): number }, p = 99): number | null {
  return h.totalCount > 0 ? Math.round(h.getValueAtPercentile(p)) / 1000 : null;
}

function nodeSecond(hdrs: string[]): { p50Ms: number | null; p99Ms: number | null; count: number } {
  const h = mergeEncoded(hdrs);
  return { p50Ms: p99Of(h, 50), p99Ms: p99Of(h), count: h.totalCount };
}

/**
 * Per-second histograms by receiving node (the workers' `rx` per intended second) gathered across
 * workers: second → node → encoded histograms. The input of `secondsP99`'s per-node timeline.
 */
export function perNodeSeconds(perSecond: ReadonlyArray<{ s: number; rx?: Record<string, string> }>[]): Map<number, Map<string, string[]>> {
  const out = new Map<number, Map<string, string[]>>();
  for (const worker of perSecond) {
    for (const p of worker) {
      for (const [node, enc] of Object.entries(p.rx ?? {})) {
        let m = out.get(p.s);
        if (!m) out.set(p.s, (m = new Map()));
        m.set(node, [...(m.get(node) ?? []), enc]);
      }
    }
  }
  return out;
}

/**
 * Each receiving node's worst second inside a stall (from the per-node timeline), worst median
 * first, and which were behind: the node whose receivers' MEDIAN delivery of a stall second was
 * above the stall threshold — most of what they were due came late. The median, not the p99: a
 * paused node's publishers make a third of every other node's deliveries late too (their p99 jumps),
 * but only the paused node's own receivers are late for most of what they get. Receivers on every
 * node behind points at what they share (the publishers, the generator, Redis); one node behind
 * points at that node.
 */
function receiversIn(seconds: StallsReport['seconds'], fromS: number, n: number, threshold: number): Partial<Pick<StallsReport['stalls'][number], 'receivers' | 'behind'>> {
  const inside = seconds.filter((y) => y.s >= fromS && y.s < fromS + n && y.nodes);
  if (inside.length === 0) return {};
  const byNode = new Map<string, { p50: number; p99: number; count: number }>();
  for (const y of inside) {
    for (const [node, v] of Object.entries(y.nodes!)) {
      const acc = byNode.get(node) ?? { p50: 0, p99: 0, count: 0 };
      // The worst second of this node inside the stall (one-second histograms are what the report keeps).
      if (v.p50Ms !== null) acc.p50 = Math.max(acc.p50, v.p50Ms);
      if (v.p99Ms !== null) acc.p99 = Math.max(acc.p99, v.p99Ms);
      acc.count += v.count;
      byNode.set(node, acc);
    }
  }
  const receivers = [...byNode]
    .filter(([, v]) => v.count > 0)
    .map(([node, v]) => ({ node, p50Ms: v.p50, p99Ms: v.p99, count: v.count }))
    .sort((a, b) => b.p50Ms - a.p50Ms || b.p99Ms - a.p99Ms || a.node.localeCompare(b.node, 'en', { numeric: true }));
  return { receivers, behind: receivers.filter((r) => r.p50Ms > threshold).map((r) => r.node) };
}

const median = (v: number[]) => {
  const a = [...v].sort((x, y) => x - y);
  return a.length ? (a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2) : 0;
};

/**
 * Marks the stalls of a run: consecutive seconds above the threshold form one stall, with the
 * processes that were busiest from its start until one second after its end (late deliveries land
 * there), from the CPU samples (`atUs` relative to `zeroUs`, the start of the measured phase).
 */
export function findStalls(seconds: StallsReport['seconds'], cpu: CpuSample[], zeroUs: number, rule = STALL_RULE): StallsReport {
  const judged = seconds.filter((x) => x.p99Ms !== null && x.count >= MIN_SECOND_SAMPLES);
  const typical = median(judged.map((x) => x.p99Ms!));
  const threshold = Math.round(Math.max(rule.k * typical, typical + rule.floorMs) * 1000) / 1000;
  const above = new Set(judged.filter((x) => x.p99Ms! > threshold).map((x) => x.s));
  const stalls: StallsReport['stalls'] = [];
  for (const x of judged) {
    if (!above.has(x.s) || above.has(x.s - 1)) continue;
    let n = 1;
    while (above.has(x.s + n)) n++;
    const inside = seconds.filter((y) => y.s >= x.s && y.s < x.s + n && y.p99Ms !== null).map((y) => y.p99Ms!);
    const busiest: Record<string, number> = {};
    for (const c of cpu) {
      const t = (c.atUs - zeroUs) / 1e6;
      if (t <= x.s || t > x.s + n + 1) continue;
      for (const [name, v] of Object.entries(c.cpu)) busiest[name] = Math.max(busiest[name] ?? 0, v);
    }
    stalls.push({
      fromS: x.s,
      seconds: n,
      peakP99Ms: Math.max(...inside),
      ...receiversIn(seconds, x.s, n, threshold),
      busiest: Object.entries(busiest)
        .sort(([, a], [, b]) => b - a)
        .slice(0, 3)
        .map(([process, cpuPercent]) => ({ process, cpuPercent })),
    });
  }
  return {
    rule: { k: rule.k, floorMs: rule.floorMs },
    typicalP99Ms: typical,
    thresholdMs: threshold,
    seconds,
    stalls,
    cpuProcesses: [...new Set(cpu.flatMap((c) => Object.keys(c.cpu)))].sort(),
  };
}

const fmtS = (n: number) => (Number.isInteger(n) ? `${n}.0` : String(n));

/**
 * Which node's receivers were behind in a stall: "receivers on node-2 behind (median 480 ms vs
 * ≤ 3 ms elsewhere)", "receivers on every node behind" (what they share stalled: publishers, the
 * generator, Redis), or '' without the per-node timeline.
 */
export function describeReceivers(st: StallsReport['stalls'][number]): string {
  const rx = st.receivers;
  if (!rx?.length || !st.behind) return '';
  const behind = rx.filter((r) => st.behind!.includes(r.node));
  const others = rx.filter((r) => !st.behind!.includes(r.node));
  if (behind.length === 0) return `no node's receivers mostly late (worst ${rx[0].node}, median ${Math.round(rx[0].p50Ms)} ms)`;
  if (others.length === 0) return 'receivers on every node behind';
  return `receivers on ${behind.map((r) => r.node).join(' and ')} behind (median ${behind.map((r) => Math.round(r.p50Ms)).join(' / ')} ms vs ≤ ${Math.round(others[0].p50Ms)} ms elsewhere)`;
}

/** "1.0 s at +8 s (p99 278 ms, receivers on node-2 behind (…), node-2 at 100 % CPU)": which node's receivers, the busiest process. */
export function describeStall(st: StallsReport['stalls'][number]): string {
  const busy = st.busiest[0];
  const rx = describeReceivers(st);
  return `${fmtS(st.seconds)} s at +${st.fromS} s (p99 ${Math.round(st.peakP99Ms)} ms${rx ? `, ${rx}` : ''}${busy ? `, ${busy.process} at ${Math.round(busy.cpuPercent)} % CPU` : ''})`;
}

/**
 * Why a latency target failed, so the reader knows which it was: "p99 53 ms: 1 stall of 1.0 s at
 * +8 s (…)" when fewer than half the seconds were above the threshold and the stall rule marked
 * some, "sustained: 14 of 20 seconds above 50 ms" (and "; also 1 stall of …" when it marked some)
 * when half or more were. Only for failed targets
 * on a broadcast latency percentile; undefined otherwise.
 */
export function explainLatencyTarget(t: TargetResult, stalls: StallsReport | undefined): string | undefined {
  if (t.status !== 'fail' || !stalls || t.actual === null || !/^metrics\.broadcast_latency[a-z_]*\.p\d+$/.test(t.metric)) return undefined;
  const judged = stalls.seconds.filter((x) => x.p99Ms !== null);
  const above = judged.filter((x) => x.p99Ms! > t.value).length;
  const head = `${t.metric.split('.').pop()} ${Math.round(t.actual * 10) / 10} ${t.unit}`;
  const n = stalls.stalls.length;
  const listed = `${n} stall${n === 1 ? ' of' : 's:'} ${stalls.stalls.map(describeStall).join(', ')}`;
  const count = `${above} of ${judged.length} seconds above ${t.value} ${t.unit}`;
  // Sustained first when half the seconds or more were above: the stalls then only add to it.
  if (above * 2 >= judged.length || n === 0) return `${head}: sustained: ${count}${n ? `; also ${listed}` : ''}`;
  return `${head}: ${listed}; ${count}`;
}

/** Adds `explanation` to each failed latency target of a report that has `stalls`. */
export function explainTargets(targets: TargetResult[], report: { stalls?: StallsReport }): TargetResult[] {
  return targets.map((t) => {
    const e = explainLatencyTarget(t, report.stalls);
    return e ? { ...t, explanation: e } : t;
  });
}
