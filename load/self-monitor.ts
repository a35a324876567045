import { monitorEventLoopDelay } from 'node:perf_hooks';

/** One second of a process watching itself. */
export interface HealthSample {
  /** CPU used in the last interval, percent of one core (user + system). */
  cpuPercent: number;
  /** Event-loop delay p99 over the last interval, ms. */
  lagP99Ms: number;
}

/**
 * Calls `onSample` every `intervalMs` with the process's own CPU use and event-loop delay: how a
 * load-generator worker knows it, not the cluster, is the bottleneck. Returns the timer.
 */
export function startSelfMonitor(onSample: (s: HealthSample) => void, intervalMs = 1000): NodeJS.Timeout {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let cpu = process.cpuUsage();
  let last = process.hrtime.bigint();
  return setInterval(() => {
    const nowNs = process.hrtime.bigint();
    const elapsedUs = Number(nowNs - last) / 1000;
    const c = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    last = nowNs;
    const cpuPercent = elapsedUs > 0 ? ((c.user + c.system) / elapsedUs) * 100 : 0;
    const lagP99Ms = lag.percentile(99) / 1e6;
    lag.reset();
    onSample({ cpuPercent, lagP99Ms });
  }, intervalMs);
}
