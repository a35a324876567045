/**
 * The generator benchmark's settings, kinds and the little helpers every role shares
 * (bench/generator-bench.ts is the entry point; see docs/benchmarks.md).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MEM_N1 = 5_000;
export const MEM_N2 = 15_000;
/** Memory checkpoints: N1, then every (N2 − N1) / MEM_STEPS connections up to N2. */
export const MEM_STEPS = 4;
export const CONNECT_CONCURRENCY = 200;
/**
 * Memory under load: from N1 on, the server pings every connection every MEM_PING_MS, and at each
 * checkpoint broadcasts once to each of MEM_ROOMS rooms; the receivers run the generator's receive
 * path (ledger streams, HDR records, the 1 s tick). (A steady broadcast while 15,000 connect
 * starves the server on this 2-core machine: its connects time out.)
 */
export const MEM_ROOMS = 25;
export const MEM_PING_MS = 5_000;

export const CPU_CONNS = 1_000;
export const CPU_ROOMS = 10; // 100 members per room: every broadcast is a 100-frame burst
export const CPU_BROADCASTS_PER_S = 200; // one room broadcast every 5 ms → 20,000 deliveries/s
/** Interleaved rounds: every variant measured once per round (bench/rounds.ts). */
export const CPU_ROUNDS = 8;
/** Before the rounds, every variant receives unmeasured for this long (JIT, caches, buffers). */
export const CPU_WARMUP_MS = 1_500;
/** Before each measured window: the previous variant's last bursts drain, this one's timer settles. */
export const CPU_SETTLE_MS = 300;
export const CPU_MEASURE_MS = 1_500;
/** The profiled window after the rounds (bench/profile-breakdown.ts): not part of the figures. */
export const PROFILE_MS = 1_500;
/** In-process breakdown: messages per timed loop (best of MICRO_REPEAT loops). */
export const MICRO_N = 100_000;
export const MICRO_REPEAT = 5;

/** The goals (issue 17), each a ratio to bare ws measured in the same run. */
export const GOALS = {
  cpuPerDeliveryRatio: 1.1,
  memKiBUnderLoad: 5,
  setupCpuRatio: 1.3,
};
/**
 * Above this share of the machine used by other processes during the CPU windows (or the setup
 * phases), the run is too noisy to judge: the goal table says NOISY and the bench exits 3.
 */
export const NOISY_OTHERS_PERCENT = 15;

/**
 * bare — a bare `ws` client doing JSON.parse, against a `ws` server (frames `{room, payload}`);
 * lean — wsbench's lean Socket.IO client + the worker's receive path, against socket.io 4;
 * json — wsbench's JSON-frame client (load/ws-client.ts) + the receive path, against a `ws`
 *        server speaking the reference JSON wire (welcome, join/ack, `{type:'msg', data}`);
 * sioc — socket.io-client + the receive path, against socket.io 4.
 */
export type Kind = 'bare' | 'lean' | 'json' | 'sioc';
/** parse: JSON.parse only (bare); arrival: the worker's receive path; count: events only; ledger / hdr: one part of it (investigation). */
export type Work = 'parse' | 'arrival' | 'count' | 'ledger' | 'hdr';
export type ServerKind = 'ws' | 'sio';

export const KINDS: readonly Kind[] = ['bare', 'lean', 'json', 'sioc'];
export const KIND_LABEL: Record<Kind, string> = {
  bare: 'bare ws',
  lean: 'wsbench lean client',
  json: 'wsbench JSON-frame client',
  sioc: 'socket.io-client',
};

export function serverFor(kind: Kind): ServerKind {
  return kind === 'bare' || kind === 'json' ? 'ws' : 'sio';
}

/** Every process is a fork of the entry point with `--role …`. */
export const ENTRY = fileURLToPath(new URL('./generator-bench.js', import.meta.url));
export const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export function send(msg: Record<string, unknown>): void {
  process.send?.(msg);
}

export function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const mid = a.length >> 1;
  return a.length === 0 ? NaN : a.length % 2 === 1 ? a[mid] : (a[mid - 1] + a[mid]) / 2;
}

/** Busy CPU time of the whole machine (all cores) in µs, from /proc/stat; null if unreadable. */
export function machineBusyUs(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …; busy = all but idle and iowait.
    const busy = f.slice(0, 8).reduce((a, b) => a + b, 0) - f[3] - f[4];
    return (busy * 1e6) / 100; // USER_HZ
  } catch {
    return null;
  }
}
