/**
 * Per-node attribution of a broadcast run (issue 15 part 6): latency percentiles and delivery
 * counts by the node the RECEIVING clients sat on and by the node the PUBLISHING clients sent
 * through, for the whole measured window and for each chaos window. A paused or partitioned node
 * shows up as the row that stands out, instead of only as a worse total.
 *
 * Also the measured connection peak (part 4): the highest concurrently-open count the workers
 * reported at one tick.
 */
import { createLatencyHistogram, decodeHistogram, summarizeUs } from '../model/histogram.js';
import type { NodeCounts, NodeTallies, WorkerResults, WorkerTick } from '../load/ipc.js';
import type { NodeAttribution, PerNodeReport } from '../model/run-report.js';

type Side = 'rx' | 'px';

function rows(collected: WorkerResults[], tallies: NodeTallies[], side: Side, seconds: (s: number) => boolean): NodeAttribution[] {
  const hist = new Map<string, ReturnType<typeof createLatencyHistogram>>();
  for (const r of collected) {
    for (const p of r.perSecond) {
      if (!seconds(p.s)) continue;
      for (const [node, enc] of Object.entries(p[side] ?? {})) {
        let h = hist.get(node);
        if (h === undefined) hist.set(node, (h = createLatencyHistogram()));
        h.add(decodeHistogram(enc));
      }
    }
  }
  const counts = new Map<string, NodeCounts>();
  for (const t of tallies) {
    for (const [node, c] of Object.entries(t[side])) {
      const acc = counts.get(node) ?? { expected: 0, lost: 0, neverSent: 0, late: 0 };
      acc.expected += c.expected;
      acc.lost += c.lost;
      acc.neverSent += c.neverSent;
      acc.late += c.late;
      counts.set(node, acc);
    }
  }
  const nodes = [...new Set([...hist.keys(), ...counts.keys()])].sort();
  return nodes.map((node) => {
    const c = counts.get(node) ?? { expected: 0, lost: 0, neverSent: 0, late: 0 };
    const { hdr: _hdr, ...latency } = summarizeUs(hist.get(node) ?? createLatencyHistogram(), 'ms');
    return { node, latency_ms: latency, expected: c.expected, received: c.expected - c.lost, lost: c.lost, neverSent: c.neverSent, late: c.late };
  });
}

/** The whole measured window: every intended second from the measured phase's start. */
export function perNodeReport(collected: WorkerResults[]): PerNodeReport {
  const tallies = collected.map((r) => r.perNode);
  const all = (s: number) => s >= 0;
  return { receiving: rows(collected, tallies, 'rx', all), publishing: rows(collected, tallies, 'px', all) };
}

/**
 * One window: latency of the whole intended seconds inside it ([fromS, toS) relative to the
 * measured phase, as the window's own latency), counts of the deliveries intended inside it.
 */
export function perNodeWindow(collected: WorkerResults[], name: string, fromS: number, toS: number): PerNodeReport {
  const tallies = collected.map((r) => r.windows.find((w) => w.name === name)?.perNode).filter((t): t is NodeTallies => t !== undefined);
  const inside = (s: number) => s >= fromS && s < toS;
  return { receiving: rows(collected, tallies, 'rx', inside), publishing: rows(collected, tallies, 'px', inside) };
}

/**
 * The highest number of connections open at once: the workers report their open connections
 * every second; at each report the latest count of every worker is summed, and the largest sum is
 * the peak. Null when no worker reported (not measured).
 */
export function peakConnections(ticks: readonly WorkerTick[]): number | null {
  if (ticks.length === 0) return null;
  const latest = new Map<number, number>();
  let peak = 0;
  for (const t of [...ticks].sort((a, b) => a.atUs - b.atUs)) {
    latest.set(t.workerId, t.connections);
    let sum = 0;
    for (const v of latest.values()) sum += v;
    if (sum > peak) peak = sum;
  }
  return peak;
}
