/**
 * A worker's memory, read honestly (issue 17): RSS after a forced GC *once the GC has returned
 * what it freed*, and the diagnostics that say what the RSS is made of.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

/** Poll period and bound while RSS settles after the forced GC. */
const SETTLE_STEP_MS = 50;
const SETTLE_MAX_MS = 2000;
/** RSS that fell by less than this over one step has settled. */
const SETTLE_BYTES = 256 * 1024;
/** Settled = this many steps in a row without RSS falling (the unmapper may start late on a busy machine). */
const SETTLE_QUIET_STEPS = 3;

/**
 * `process.memoryUsage()` after a forced GC (the worker runs with `--expose-gc`) and after RSS
 * stopped falling: V8 hands the pages a full GC freed back to the system from a background thread
 * (its unmapper), so RSS read at once after `gc()` still counts them — tens of MiB after a connect
 * storm (measured: 179 MiB at once, 120 MiB a moment later, for 10,000 connections). Polls every
 * 50 ms until RSS has fallen by less than 256 KiB in each of 3 steps in a row, at most 2 s.
 */
export async function memoryAfterGc(): Promise<NodeJS.MemoryUsage> {
  (globalThis as { gc?: () => void }).gc?.();
  let m = process.memoryUsage();
  let quiet = 0;
  for (let waited = 0; waited < SETTLE_MAX_MS && quiet < SETTLE_QUIET_STEPS; waited += SETTLE_STEP_MS) {
    await sleep(SETTLE_STEP_MS);
    const next = process.memoryUsage();
    quiet = m.rss - next.rss < SETTLE_BYTES ? quiet + 1 : 0;
    m = next;
  }
  return m;
}

let taken = 0;

/** RSS by mapping (Linux /proc/self/smaps): the brk heap (malloc), anonymous maps (V8's heap, malloc's other arenas and large blocks), files. */
function mapsRss(): Record<string, number> | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return null;
  }
  const out: Record<string, number> = {};
  let name = '';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      name = head[1] === '' ? '[anon]' : head[1].startsWith('/') ? '[file]' : head[1];
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[name] = (out[name] ?? 0) + Number(rss[1]) * 1024;
  }
  return out;
}

/**
 * Investigating a worker's memory: with `WSBENCH_WORKER_HEAP_DIR=<dir>`, every `stats` request
 * also writes `worker-<id>-<n>.json` there — `process.memoryUsage()`, V8's heap spaces and RSS by
 * mapping — and, with `WSBENCH_WORKER_HEAP_SNAPSHOT=1`, a heap snapshot beside it
 * (`node dist/bench/heap-diff.js A B <connections>` says what a connection holds). Writing a
 * snapshot inflates RSS: judge memory on a run without it.
 */
export function memoryDiagnostics(workerId: number, usage: NodeJS.MemoryUsage): void {
  const dir = process.env.WSBENCH_WORKER_HEAP_DIR;
  if (!dir) return;
  const n = taken++;
  const spaces = getHeapSpaceStatistics().map((s) => ({ space: s.space_name, size: s.space_size, used: s.space_used_size, physical: s.physical_space_size }));
  writeFileSync(join(dir, `worker-${workerId}-${n}.json`), JSON.stringify({ workerId, n, usage, spaces, maps: mapsRss() }, null, 1));
  if (process.env.WSBENCH_WORKER_HEAP_SNAPSHOT === '1') writeHeapSnapshot(join(dir, `worker-${workerId}-${n}.heapsnapshot`));
}
