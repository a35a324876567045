import { setTimeout as sleep } from 'node:timers/promises';
import { WsbenchError } from '../common/errors.js';
import { nowUs } from '../common/clock.js';
import { createLatencyHistogram, decodeHistogram, encodeHistogram, mergeEncoded } from '../model/histogram.js';
import type { WorkerTick } from '../load/ipc.js';
import type { LoadGenerator, LoadGeneratorOptions } from '../load/load-generator.js';
import type { NodeMetricsPoint, TimelinePoint, WorkerHealth } from '../model/run-report.js';
import type { ScenarioContext } from './define.js';
import { startCpuSampler, type CpuSample } from '../cluster/cpu-sampler.js';

/**
 * What every scenario that drives load needs around its phases: the load generator, its workers'
 * per-second reports, a live progress line, each node's /metrics every second, and `step()`, which
 * races a phase against a worker failure and Ctrl-C.
 */
export interface RunMonitor {
  load: LoadGenerator;
  ticks: WorkerTick[];
  latest: Map<number, WorkerTick>;
  nodeMetrics: Array<{ atUs: number; nodes: NodeMetricsPoint['nodes'] }>;
  /** Each process's CPU every second (nodes, nginx, redis, generator workers), for naming stalls. */
  cpu: CpuSample[];
  setPhase(phase: string): void;
  connectedNow(): number;
  step<T>(p: Promise<T>): Promise<T>;
  /** Stops the progress line and the scraper. */
  stop(): Promise<void>;
}

export async function startMonitor(ctx: ScenarioContext<unknown>, opts: Omit<LoadGeneratorOptions, 'url' | 'jwtSecret' | 'onTick'>): Promise<RunMonitor> {
  const ticks: WorkerTick[] = [];
  const latest = new Map<number, WorkerTick>();
  const nodeMetrics: RunMonitor['nodeMetrics'] = [];
  let phase = 'connecting';
  const phaseStart = Date.now();
  const load = await ctx.startLoad({
    ...opts,
    onTick: (t) => {
      ticks.push(t);
      latest.set(t.workerId, t);
    },
  });
  const connectedNow = () => [...latest.values()].reduce((a, t) => a + t.connections, 0);
  const progressTimer = setInterval(() => {
    const l = [...latest.values()];
    const merged = createLatencyHistogram();
    for (const t of l) merged.add(decodeHistogram(t.hdr));
    ctx.progress({
      phase,
      elapsedS: (Date.now() - phaseStart) / 1000,
      connected: connectedNow(),
      total: opts.connections,
      sentPerS: l.reduce((a, t) => a + t.sent, 0),
      receivedPerS: l.reduce((a, t) => a + t.received, 0),
      p99Ms: merged.totalCount > 0 ? merged.getValueAtPercentile(99) / 1000 : null,
    });
  }, 1000);
  // Each node's /metrics every second, on the same timeline (a paused or dead node reads as down).
  let scraping = true;
  const scraper = (async () => {
    while (scraping) {
      const at = nowUs();
      const nodes = await ctx.cluster.metrics().catch(() => []);
      nodeMetrics.push({ atUs: at, nodes });
      await sleep(Math.max(0, 1000 - (nowUs() - at) / 1000));
    }
  })();
  const c = ctx.cluster;
  const cpu = startCpuSampler(() => [
    ...c.nodes.map((n) => ({ name: n.id, pid: n.pid() })),
    { name: 'nginx', pid: c.lb.pid(), tree: true },
    { name: 'redis', pid: c.redis.pid() },
    ...load.workers.map((w, i) => ({ name: `generator-${i}`, pid: w.proc.pid })),
  ]);
  const abort = new Promise<never>((_, reject) => {
    const onAbort = () => reject(new WsbenchError('WSB_INTERRUPTED', 'run interrupted'));
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  abort.catch(() => undefined);
  return {
    load,
    ticks,
    latest,
    nodeMetrics,
    cpu: cpu.samples,
    setPhase: (p) => (phase = p),
    connectedNow,
    step: (p) => Promise.race([p, load.failed(), abort]),
    stop: async () => {
      clearInterval(progressTimer);
      scraping = false;
      await Promise.all([scraper, cpu.stop()]);
    },
  };
}

/**
 * Per-second timeline from the workers' ticks, t in seconds relative to `zeroUs`. Workers tick
 * on their own phase, so a second can miss one worker's tick (or hold two): counts are summed as
 * they come, and a worker without a tick in a second keeps its last known connection count.
 */
export function summarizeTicks(ticks: WorkerTick[], fromUs: number, zeroUs: number, hdrs?: Array<{ t: number; hdr: string }>): TimelinePoint[] {
  const buckets = new Map<number, WorkerTick[]>();
  const workers = new Set<number>();
  for (const t of ticks) {
    workers.add(t.workerId);
    if (t.atUs < fromUs) continue;
    const k = Math.floor((t.atUs - fromUs) / 1e6);
    const l = buckets.get(k) ?? [];
    l.push(t);
    buckets.set(k, l);
  }
  const lastConnections = new Map<number, number>();
  for (const t of [...ticks].sort((a, b) => a.atUs - b.atUs)) if (t.atUs < fromUs) lastConnections.set(t.workerId, t.connections);
  return [...buckets.keys()]
    .sort((a, b) => a - b)
    .map((k) => {
      const l = buckets.get(k)!.sort((a, b) => a.atUs - b.atUs);
      for (const t of l) lastConnections.set(t.workerId, t.connections);
      const h = mergeEncoded(l.map((t) => t.hdr));
      const t = Math.round((fromUs + (k + 1) * 1e6 - zeroUs) / 1e6);
      // A shard keeps each second's histogram, so that `wsbench merge` computes the whole run's p99 per second.
      if (hdrs && h.totalCount > 0) hdrs.push({ t, hdr: encodeHistogram(h) });
      return {
        t,
        sent: l.reduce((a, t) => a + t.sent, 0),
        received: l.reduce((a, t) => a + t.received, 0),
        connections: [...workers].reduce((a, w) => a + (lastConnections.get(w) ?? 0), 0),
        p99Ms: h.totalCount > 0 ? Math.round(h.getValueAtPercentile(99)) / 1000 : null,
      };
    });
}

export function workerHealth(id: number, clients: number, cpu: number[], lag: number[]): WorkerHealth {
  const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0);
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    worker: id,
    clients,
    cpuPercentMean: round(mean(cpu)),
    cpuPercentMax: round(cpu.length ? Math.max(...cpu) : 0),
    eventLoopLagP99Ms: round(lag.length ? [...lag].sort((a, b) => a - b)[Math.min(lag.length - 1, Math.floor(lag.length * 0.99))] : 0),
    eventLoopLagMaxMs: round(lag.length ? Math.max(...lag) : 0),
  };
}

/**
 * A worker's memory under load (WorkerHealth.rssAfterGcBytes, memoryPerConnectionBytes): its RSS
 * after GC now (`after`) against the same before its first connection (`before`), per connection
 * open now. RSS that did not grow, or no connection, measured nothing: null (unknown), never 0.
 */
export function workerMemory(before: { rssBytes: number }, after: { rssBytes: number }, connections: number): { rssAfterGcBytes: number; memoryPerConnectionBytes: number | null } {
  const grew = after.rssBytes - before.rssBytes;
  return { rssAfterGcBytes: after.rssBytes, memoryPerConnectionBytes: connections > 0 && grew > 0 ? Math.round(grew / connections) : null };
}

/** Saturated: CPU ≥ 90 % or event-loop lag ≥ 50 ms for most of the measured window. */
export function saturatedWorkers(series: Array<{ workerId: number; cpu: number[]; lag: number[] }>): number[] {
  return series
    .filter((r) => {
      const n = r.cpu.length;
      if (n === 0) return false;
      const bad = r.cpu.filter((c, i) => c >= 90 || (r.lag[i] ?? 0) >= 50).length;
      return bad / n > 0.5;
    })
    .map((r) => r.workerId);
}

/**
 * The latency wsbench's own receive path adds (RunReport.generator.measurementError): a worker
 * serves a burst of B deliveries one after another at c µs of CPU each, so the k-th is recorded
 * k × c late — (B + 1) / 2 × c at the median, B × c at most. The worst worker's (largest
 * median); null when no worker measured its CPU per delivery.
 */
export function ownLatency(workers: WorkerHealth[]): { p50Ms: number; maxMs: number; worker: number } | null {
  let worst: { p50Ms: number; maxMs: number; worker: number } | null = null;
  for (const w of workers) {
    if (w.cpuPerDeliveryUs === undefined || w.burstSize === undefined || w.burstSize <= 0) continue;
    const p50Ms = Math.round(((w.burstSize + 1) / 2) * w.cpuPerDeliveryUs) / 1000;
    if (worst === null || p50Ms > worst.p50Ms) worst = { p50Ms, maxMs: Math.round(w.burstSize * w.cpuPerDeliveryUs) / 1000, worker: w.worker };
  }
  return worst;
}
