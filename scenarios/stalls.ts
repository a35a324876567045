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
export function secondsP99(perSecond: Map<number, string[]>, duration: number): StallsReport['seconds'] {
  const out: StallsReport['seconds'] = [];
  for (let s = 0; s < Math.floor(duration); s++) {
    const h = mergeEncoded(perSecond.get(s) ?? []);
    out.push({ s, p99Ms: h.totalCount > 0 ? Math.round(h.getValueAtPercentile(99)) / 1000 : null, count: h.totalCount });
  }
  return out;
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

/** "1.0 s at +8 s (p99 278 ms, node-2 at 100 % CPU)": the busiest process named. */
export function describeStall(st: StallsReport['stalls'][number]): string {
  const busy = st.busiest[0];
  return `${fmtS(st.seconds)} s at +${st.fromS} s (p99 ${Math.round(st.peakP99Ms)} ms${busy ? `, ${busy.process} at ${Math.round(busy.cpuPercent)} % CPU` : ''})`;
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
