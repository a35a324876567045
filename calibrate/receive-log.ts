/**
 * The generator's sampled receive-time log, for the wire cross-check of `wsbench calibrate --wire`
 * (calibrate/wire-check.ts). It is off unless asked for (`--receive-log`). When on, the recorder keeps
 * every n-th timed arrival's (receiver, pub, seq, receive time): arrivals of the measured window,
 * duplicates excluded, the ones the report's latency figures are made of. Each worker writes them
 * at collect, with its clients' source addresses, to `<path>.worker-<id>.json`.
 *
 * Receive times are CLOCK_MONOTONIC µs (common/clock.ts), the clock every latency comes from. A
 * packet capture stamps frames with CLOCK_REALTIME. So the worker measures how far apart the two
 * clocks are, at the start and at the end of the run (`measureClockOffset`).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** CLOCK_REALTIME − CLOCK_MONOTONIC, as one worker measured it. */
export interface ClockOffset {
  /** Median over the edges, µs: realtime µs = monotonic µs + offsetUs. */
  offsetUs: number;
  /** Half-width of the widest bracket an edge was found in, µs (how well each edge pins the offset). */
  uncertaintyUs: number;
  /** Largest − smallest offset over the edges, µs. */
  spreadUs: number;
  edges: number;
}

/** What one worker writes. */
export interface ReceiveLogFile {
  worker: number;
  /** Every `every`-th arrival of this worker was logged. */
  every: number;
  clock: { start: ClockOffset; end: ClockOffset };
  /** Receiver (client id) → [its source address (unique per client), the node it sat on]. */
  receivers: Record<string, [string, string | null]>;
  /** Flat quadruples: receiver, pub, seq, receive time (CLOCK_MONOTONIC µs). */
  samples: number[];
}

/** CLOCK_MONOTONIC in fractional µs. */
function monoUs(): number {
  return Number(process.hrtime.bigint()) / 1000;
}

/**
 * Measures CLOCK_REALTIME − CLOCK_MONOTONIC to about a microsecond. `Date.now()` reads the
 * realtime clock truncated to whole milliseconds, so the moment its value changes, the realtime
 * clock is at exactly that millisecond. The loop reads Date.now() between two monotonic reads until
 * the value changes. The edge then lies between the monotonic read before the previous Date.now()
 * and the one after this Date.now(), a bracket of well under a microsecond unless the thread was
 * preempted. Brackets wider than 20 µs, and jumps of more than 1 ms, are thrown away. It busy-waits
 * up to 1 ms per edge (7 edges: < 10 ms).
 *
 * `performance.timeOrigin + performance.now()` would be easier, but timeOrigin is read once at
 * process start and then follows the monotonic clock, so it keeps whatever error it had then.
 */
export function measureClockOffset(edges = 7): ClockOffset {
  const offsets: number[] = [];
  let uncertainty = 0;
  for (let tries = 0; offsets.length < edges && tries < edges * 10; tries++) {
    let prevBefore = monoUs();
    let prevMs = Date.now();
    for (;;) {
      const before = monoUs();
      const ms = Date.now();
      const after = monoUs();
      if (ms !== prevMs) {
        const half = (after - prevBefore) / 2;
        if (ms === prevMs + 1 && half <= 10) {
          offsets.push(ms * 1000 - (prevBefore + after) / 2);
          uncertainty = Math.max(uncertainty, half);
        }
        break;
      }
      prevBefore = before;
    }
  }
  offsets.sort((a, b) => a - b);
  const mid = offsets.length ? offsets[Math.floor(offsets.length / 2)] : Date.now() * 1000 - monoUs();
  return {
    offsetUs: Math.round(mid * 10) / 10,
    uncertaintyUs: Math.round((offsets.length ? uncertainty : 1000) * 100) / 100,
    spreadUs: offsets.length ? Math.round((offsets[offsets.length - 1] - offsets[0]) * 100) / 100 : 1000,
    edges: offsets.length,
  };
}

/** The file one worker writes for the log at `path`. */
export function receiveLogPath(path: string, worker: number): string {
  return `${path}.worker-${worker}.json`;
}

export function writeReceiveLog(path: string, log: ReceiveLogFile): void {
  writeFileSync(receiveLogPath(path, log.worker), JSON.stringify(log));
}

/** Every worker's file of the log at `path`, by worker. */
export function readReceiveLogs(path: string): ReceiveLogFile[] {
  const dir = dirname(path);
  const prefix = `${basename(path)}.worker-`;
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ReceiveLogFile)
    .sort((a, b) => a.worker - b.worker);
}
