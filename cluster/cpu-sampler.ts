import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { nowUs } from '../common/clock.js';
import { childrenOf } from './proc-stats.js';

/**
 * Clock ticks per second of /proc/<pid>/stat's utime and stime (sysconf(_SC_CLK_TCK)); 100 on every
 * Linux platform Node runs on (x86, arm64), and not readable from Node without a native call.
 */
const CLK_TCK = 100;

/** A process to sample: `tree` adds its direct children (nginx: master + workers). */
export interface SampledProcess {
  name: string;
  pid: number | undefined;
  tree?: boolean;
}

/** One second's CPU per process, percent of one core; a process without a reading is absent. */
export interface CpuSample {
  /** CLOCK_MONOTONIC µs at the end of the second it covers. */
  atUs: number;
  cpu: Record<string, number>;
}

/** utime + stime of one process, in clock ticks, or null if it is gone. */
export async function cpuTicks(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields 14 and 15 (utime, stime) count from after the parenthesised command name.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/** Children of a `tree` process, found by a scan of /proc that is repeated every 5 s at most (it reads every process's stat). */
const kidsCache = new Map<number, { kids: number[]; atUs: number }>();

async function ticksOf(p: SampledProcess): Promise<number | null> {
  if (p.pid === undefined) return null;
  const own = await cpuTicks(p.pid);
  if (own === null || !p.tree) return own;
  let cached = kidsCache.get(p.pid);
  if (!cached || nowUs() - cached.atUs > 5e6) {
    cached = { kids: await childrenOf(p.pid), atUs: nowUs() };
    kidsCache.set(p.pid, cached);
  }
  const kids = await Promise.all(cached.kids.map(cpuTicks));
  return own + kids.reduce<number>((a, b) => a + (b ?? 0), 0);
}

/**
 * Samples each process's CPU from /proc every `intervalMs` (default 1000): what was busy in each
 * second. `procs` is asked anew every time, so a restarted node is followed by its new pid (its
 * first second after a restart is skipped: no earlier reading of that pid). Processes wsbench
 * cannot see (containers of the docker driver, an external cluster) simply have no reading.
 */
export function startCpuSampler(procs: () => SampledProcess[], intervalMs = 1000): { samples: CpuSample[]; stop(): Promise<void> } {
  const samples: CpuSample[] = [];
  let running = true;
  const loop = (async () => {
    let prev = new Map<string, { pid: number; ticks: number; atUs: number }>();
    while (running) {
      const at = nowUs();
      const next = new Map<string, { pid: number; ticks: number; atUs: number }>();
      const cpu: Record<string, number> = {};
      for (const p of procs()) {
        const t = await ticksOf(p);
        if (t === null || p.pid === undefined) continue;
        next.set(p.name, { pid: p.pid, ticks: t, atUs: at });
        const before = prev.get(p.name);
        if (before && before.pid === p.pid && at > before.atUs) cpu[p.name] = Math.round(((t - before.ticks) / CLK_TCK / ((at - before.atUs) / 1e6)) * 1000) / 10;
      }
      if (prev.size) samples.push({ atUs: at, cpu });
      prev = next;
      await sleep(Math.max(0, intervalMs - (nowUs() - at) / 1000));
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
