/**
 * The k6 process watched from outside (issue 15 part 3): every second wsbench reads its CPU time
 * and RSS from /proc/<pid>/stat and /proc/<pid>/status, and the nodes' /metrics (connections held:
 * the measured peak of concurrently-open connections, as the nodes count them). k6 reports neither
 * to wsbench; the Node engine's workers watch themselves (load/self-monitor.ts) — the same CPU
 * figure (percent of one core) goes through the same saturation rule (scenarios/run-monitor.ts).
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { NodeMetrics } from '../../cluster/types.js';
import type { WorkerHealth } from '../../model/run-report.js';
import { saturatedWorkers, workerHealth } from '../../scenarios/run-monitor.js';

/** One second of the k6 process. */
export interface K6ProcessSample {
  /** Epoch ms. */
  atMs: number;
  /** CPU used since the previous sample, percent of one core (user + system; k6 may use several). */
  cpuPercent: number;
  rssBytes: number | null;
}

/** One scrape of the nodes' /metrics. */
export interface NodeSample {
  atMs: number;
  nodes: NodeMetrics[];
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/** utime + stime in seconds from the text of /proc/<pid>/stat, or null. */
export function cpuSecondsFromStat(stat: string): number | null {
  // Fields after the parenthesised command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / USER_HZ : null;
}

/** VmRSS in bytes from the text of /proc/<pid>/status, or null. */
export function rssFromStatus(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

export interface K6Monitor {
  samples: K6ProcessSample[];
  nodeSamples: NodeSample[];
  stop(): Promise<void>;
}

/**
 * Samples `pid` and the nodes every `intervalMs` until stop(). A sample that cannot be read (the
 * process is gone) is skipped: the series says what was measured, nothing is filled in.
 */
export function startK6Monitor(pid: number, metrics: () => Promise<NodeMetrics[]>, intervalMs = 1000): K6Monitor {
  const samples: K6ProcessSample[] = [];
  const nodeSamples: NodeSample[] = [];
  let last: { atMs: number; cpuS: number } | null = null;
  let running = true;
  let wake: (() => void) | null = null;
  const loop = (async () => {
    while (running) {
      const atMs = Date.now();
      const [stat, status, nodes] = await Promise.all([
        readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null),
        readFile(`/proc/${pid}/status`, 'utf8').catch(() => null),
        metrics().catch(() => null),
      ]);
      const cpuS = stat ? cpuSecondsFromStat(stat) : null;
      if (cpuS !== null) {
        if (last && atMs > last.atMs) samples.push({ atMs, cpuPercent: ((cpuS - last.cpuS) / ((atMs - last.atMs) / 1000)) * 100, rssBytes: status ? rssFromStatus(status) : null });
        last = { atMs, cpuS };
      }
      if (nodes) nodeSamples.push({ atMs, nodes });
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, Math.max(0, intervalMs - (Date.now() - atMs)));
      });
    }
  })();
  return {
    samples,
    nodeSamples,
    stop: async () => {
      running = false;
      wake?.();
      await loop;
    },
  };
}

/** Highest number of client connections the nodes held at once (sum over nodes, per scrape), or null. */
export function nodesPeak(nodeSamples: readonly NodeSample[]): number | null {
  let peak: number | null = null;
  for (const s of nodeSamples) {
    const held = s.nodes.filter((n) => n.up && typeof n.connections === 'number');
    if (!held.length) continue;
    const sum = held.reduce((a, n) => a + (n.connections as number), 0);
    peak = peak === null ? sum : Math.max(peak, sum);
  }
  return peak;
}

/**
 * The k6 process as one generator "worker": its CPU (percent of one core) and RSS over the
 * measured window [fromMs, toMs), the event-loop delay of its VUs (the scripts' timer_lag_ms), and
 * whether it was saturated by the Node engine's rule. k6 runs its VUs on every core, so CPU is also
 * judged against the cores it may use: ≥ 90 % of `cores` × 100 % for most of the window, or a VU
 * event-loop delay p99 ≥ 50 ms, is GENERATOR-BOUND.
 */
export function k6Health(
  samples: readonly K6ProcessSample[],
  window: { fromMs: number; toMs: number },
  clients: number,
  lag: { p99: number; max: number } | null,
  cores = availableParallelism(),
): { health: WorkerHealth & { rssBytesMax: number | null }; bound: boolean; why: string[] } {
  const inWindow = samples.filter((s) => s.atMs >= window.fromMs && s.atMs < window.toMs);
  const use = inWindow.length ? inWindow : [...samples];
  const cpu = use.map((s) => s.cpuPercent);
  const base = workerHealth(0, clients, cpu, lag ? [lag.p99] : []);
  if (lag) base.eventLoopLagMaxMs = Math.round(lag.max * 10) / 10;
  const rss = use.map((s) => s.rssBytes).filter((v): v is number => v !== null);
  const why: string[] = [];
  // The Node rule on the share of the cores k6 can use (a Node worker has one core).
  const normalised = cpu.map((c) => c / cores);
  if (saturatedWorkers([{ workerId: 0, cpu: normalised, lag: [] }]).length) why.push(`the k6 process used ≥ 90 % of ${cores} cores for most of the measured window (mean ${base.cpuPercentMean} % of one core)`);
  if (lag && lag.p99 >= 50) why.push(`k6's VU event loops fired their timers ${Math.round(lag.p99 * 10) / 10} ms late at p99 (≥ 50 ms)`);
  return { health: { ...base, rssBytesMax: rss.length ? Math.max(...rss) : null }, bound: why.length > 0, why };
}
