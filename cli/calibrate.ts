/**
 * `wsbench calibrate`: proves wsbench's numbers on this machine (issue #10). It runs short
 * cross-node-broadcast runs against reference nodes that inject faults of known size
 * (`--calibration-fault`, reference-server/calibration-faults.ts) and against a generator whose
 * publishers stall on purpose. For each case it compares what was injected with what wsbench
 * measured. The counts must be equal, and the timings must agree within stated tolerances. With
 * `--wire` it also compares the generator's receive times with packet timestamps taken on the
 * loopback interface (load/wire-check.ts).
 *
 * Exit code: 0 when every check agrees, 1 when one does not, 2 when a run failed (harness error,
 * bad options, Ctrl-C).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Table from 'cli-table3';
import { z } from 'zod';
import { WsbenchError, isWsbenchError } from '../common/errors.js';
import { prepareOutDir } from '../common/out-dir.js';
import { SERVER_KINDS, type StartedCluster } from '../cluster/types.js';
import { DOCKER_NETWORK_CHOICES } from '../cluster/docker-options.js';
import { readReceiveLogs } from '../load/receive-log.js';
import { decodeHistogram } from '../load/histogram.js';
import { crossCheck, readFrames, startCapture, wireTools, type Capture, type WireCheckResult } from '../load/wire-check.js';
import type { RunReport } from '../reports/run-report.js';
import { buildPlan, newRunId } from './plan.js';
import { run } from './run.js';

export const CALIBRATION_CASES = ['baseline', 'delay', 'drop', 'dup', 'swap', 'stall'] as const;
export type CalibrationCase = (typeof CALIBRATION_CASES)[number];

/** Longest the first broadcast of a swapped pair waits for its partner (reference-server SWAP_HOLD_MS). */
const SWAP_HOLD_MS = 1000;

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** `wsbench calibrate` options, with defaults (units in the names or the comments). */
export const calibrateSchema = z
  .object({
    /** Cluster driver (default local). */
    driver: z.enum(['local', 'docker']).default('local'),
    /** Reference-server variant (default socketio). */
    server: z.enum(SERVER_KINDS).default('socketio'),
    /** Reference nodes (default 3). */
    nodes: int(2, 16).default(3),
    /** Client connections per case, publishers included (default 300). */
    connections: int(10, 100_000).default(300),
    /** Rooms, one publisher each (default 10: 29 members per room with 300 connections). */
    rooms: int(1, 10_000).default(10),
    /** Messages per second per publisher (default 5). */
    rate: z.number().positive().max(1000).default(5),
    /** Seconds of warm-up publishing, accounted but not timed (default 1). */
    warmup: z.number().min(0).max(600).default(1),
    /** Measured seconds of publishing per case (default 4). */
    duration: z.number().positive().max(3600).default(4),
    /** Seconds to wait for in-flight deliveries after the last publish (default 2). */
    drain: z.number().min(0).max(600).default(2),
    /** delay-cross: ms added to every cross-node delivery (default 20). */
    delayMs: int(1, 10_000).default(20),
    /** drop-every: every k-th broadcast of `dropRoom` is dropped on every node (default 7). */
    dropEvery: int(2, 1_000_000).default(7),
    /** The room drop-every applies to (default room-3). */
    dropRoom: z.string().regex(/^room-\d+$/, 'must be a room of the run, e.g. room-3').default('room-3'),
    /** dup-every: every m-th broadcast of every room is written twice (default 5). */
    dupEvery: int(2, 1_000_000).default(5),
    /** Publisher stall, ms (default 200). */
    stallMs: int(10, 60_000).default(200),
    /** When the stall begins, seconds into the measured phase (default 2). */
    stallAt: z.number().min(0).max(3600).default(2),
    /** Cases to run (default all; delay and stall also run baseline, which they compare with; `none` with --wire: the wire check alone). */
    cases: z.array(z.enum(CALIBRATION_CASES)).default([...CALIBRATION_CASES]),
    /** Also run the wire cross-check with tshark (default off). */
    wire: z.boolean().default(false),
    /** Wire cross-check: connections (default 1000). */
    wireConnections: int(10, 100_000).default(1000),
    /** Wire cross-check: members per room (default 49: rooms = connections / 50). */
    wireMembers: int(3, 10_000).default(49),
    /** Wire cross-check: offered deliveries per second, whatever the connection count (default 4000). */
    wireDeliveries: z.number().positive().max(1_000_000).default(4000),
    /** Wire cross-check: measured seconds (default 8). */
    wireDuration: z.number().positive().max(3600).default(8),
    /** Wire cross-check: log every n-th arrival of each worker (default 10). */
    wireSampleEvery: int(1, 1_000_000).default(10),
    /** Connections opened per second (default 500). */
    connectRate: z.number().positive().max(100_000).default(500),
    readyTimeout: int(1000, 600_000).optional(),
    dockerNetwork: z.enum(DOCKER_NETWORK_CHOICES).optional(),
    /** Output folder (default wsbench-results/calibrate-<time>-<hex>); one sub-folder per case. */
    out: z.string().min(1).optional(),
    /** Print the results as JSON instead of the table. */
    json: z.boolean().default(false),
  })
  .strict();

export type CalibrateOptions = z.infer<typeof calibrateSchema>;

const FLAG_OF: Partial<Record<keyof CalibrateOptions, string>> = {
  delayMs: '--delay-ms',
  dropEvery: '--drop-every',
  dropRoom: '--drop-room',
  dupEvery: '--dup-every',
  stallMs: '--stall-ms',
  stallAt: '--stall-at',
  wireConnections: '--wire-connections',
  wireMembers: '--wire-members',
  wireDeliveries: '--wire-deliveries',
  wireDuration: '--wire-duration',
  wireSampleEvery: '--wire-sample-every',
  connectRate: '--connect-rate',
  readyTimeout: '--ready-timeout',
  dockerNetwork: '--docker-network',
};
const flagOf = (k: string) => FLAG_OF[k as keyof CalibrateOptions] ?? `--${k}`;

/** The numbers every expected count is computed from. */
export interface Shape {
  /** Messages each publisher sends (warm-up included). */
  n: number;
  /** Messages each publisher sends in the measured phase (the timed ones). */
  measured: number;
  /** Members per room. */
  members: number;
  rooms: number;
}

export function shapeOf(o: Pick<CalibrateOptions, 'connections' | 'rooms' | 'rate' | 'warmup' | 'duration'>): Shape {
  return { n: Math.round(o.rate * (o.warmup + o.duration)), measured: Math.round(o.rate * o.duration), members: (o.connections - o.rooms) / o.rooms, rooms: o.rooms };
}

/** Parses and checks the options; every problem at once, as WSB_INVALID_OPTION. */
export function parseCalibrateOptions(raw: Record<string, unknown>): CalibrateOptions {
  const numeric = new Set(Object.entries(calibrateSchema.shape).filter(([, s]) => isNumberSchema(s)).map(([k]) => k));
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    if (k === 'cases' && typeof v === 'string') input[k] = v.trim() === 'none' ? [] : v.split(',').map((s) => s.trim()).filter(Boolean);
    else if (numeric.has(k) && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) input[k] = Number(v);
    else input[k] = v;
  }
  const parsed = calibrateSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => (i.code === 'unrecognized_keys' ? `unknown option(s): ${i.keys.join(', ')}` : `${flagOf(String(i.path[0] ?? ''))}: ${i.message}`));
    throw new WsbenchError('WSB_INVALID_OPTION', `invalid options for calibrate:\n  - ${problems.join('\n  - ')}`, { hint: 'see `wsbench calibrate --help`' });
  }
  const o = parsed.data;
  const problems: string[] = [];
  if (o.cases.length === 0 && !o.wire) problems.push('--cases none: nothing to run (add --wire, or name cases)');
  const members = (o.connections - o.rooms) / o.rooms;
  if (!Number.isInteger(members) || members < o.nodes) {
    problems.push(`--connections ${o.connections} and --rooms ${o.rooms}: the members (connections − one publisher per room) must split evenly over the rooms, at least ${o.nodes} per room (one on every node); e.g. --connections ${o.rooms * (Math.max(o.nodes, Math.ceil(members)) + 1)}`);
  }
  if (!Number.isInteger(1e6 / o.rate)) problems.push(`--rate ${o.rate}: 1,000,000 µs / rate must be a whole number of µs (e.g. 1, 2, 4, 5, 8, 10)`);
  if (!Number.isInteger(o.rate * o.warmup) || !Number.isInteger(o.rate * o.duration)) problems.push(`--rate × --warmup and --rate × --duration must be whole numbers of messages`);
  if (o.cases.includes('swap') && 1000 / o.rate >= SWAP_HOLD_MS / 2) problems.push(`--rate ${o.rate}: swap-pairs needs messages less than ${SWAP_HOLD_MS / 2} ms apart (--rate above ${1000 / (SWAP_HOLD_MS / 2)})`);
  if (o.cases.includes('drop') && !(Number(o.dropRoom.slice(5)) >= 1 && Number(o.dropRoom.slice(5)) <= o.rooms)) problems.push(`--drop-room ${o.dropRoom}: the rooms are room-1 … room-${o.rooms}`);
  if (o.cases.includes('stall') && o.stallAt + o.stallMs / 1000 >= o.duration) problems.push(`--stall-at ${o.stallAt} + --stall-ms ${o.stallMs}: the stall must end inside the measured --duration ${o.duration} s`);
  if (o.cases.includes('drop') && shapeOf(o).n < o.dropEvery) problems.push(`--drop-every ${o.dropEvery}: a publisher sends only ${shapeOf(o).n} messages, so nothing would be dropped`);
  if (o.cases.includes('dup') && shapeOf(o).n < o.dupEvery) problems.push(`--dup-every ${o.dupEvery}: a publisher sends only ${shapeOf(o).n} messages, so nothing would be duplicated`);
  if (o.wire && o.driver === 'docker' && o.dockerNetwork === 'bridge') problems.push('--wire: captures on the loopback interface, which a bridge network bypasses (use --docker-network host or auto)');
  if (problems.length) throw new WsbenchError('WSB_INVALID_OPTION', `invalid options for calibrate:\n  - ${problems.join('\n  - ')}`, { hint: 'see `wsbench calibrate --help`' });
  return o;
}

function isNumberSchema(s: z.ZodTypeAny): boolean {
  let t: z.ZodTypeAny = s;
  while (t instanceof z.ZodDefault || t instanceof z.ZodOptional) t = t instanceof z.ZodDefault ? t._def.innerType : t.unwrap();
  return t instanceof z.ZodNumber;
}

/** One comparison of what was injected with what wsbench measured. */
export interface Check {
  check: string;
  expected: string;
  measured: string;
  agrees: boolean;
}

export interface CaseResult {
  case: CalibrationCase | 'wire';
  injected: string;
  checks: Check[];
  /** Folder of the case's run (report.json, logs). */
  runDir: string;
  /** Machine-readable figures behind the checks. */
  figures: Record<string, number | null>;
  /** Figures shown for information, apart from the checks: they judge nothing and are not counted. */
  info?: Array<{ what: string; measured: string }>;
}

export interface CalibrationResult {
  cases: CaseResult[];
  wire?: WireCheckResult & { connections: number; sampleEvery: number; captured: number | null; dropped: number | null };
  agrees: boolean;
  outDir: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const ms = (v: number) => `${v.toFixed(2)} ms`;

function counts(r: RunReport): [number, number, number] {
  return [r.accounting.lost, r.accounting.duplicated, r.accounting.reordered];
}

function countCheck(r: RunReport, expected: [number, number, number]): Check {
  const got = counts(r);
  return {
    check: 'lost / duplicated / reordered',
    expected: expected.map(fmt).join(' / '),
    measured: got.map(fmt).join(' / '),
    agrees: got.every((v, i) => v === expected[i]),
  };
}

/** The run published everything it should and the ledger expected every delivery. */
function accountedCheck(r: RunReport, s: Shape): Check {
  const expected = s.n * s.rooms * s.members;
  return {
    check: 'deliveries accounted (published × members)',
    expected: fmt(expected),
    measured: fmt(r.accounting.expected),
    agrees: r.accounting.expected === expected && r.counters.messages_published === s.n * s.rooms && r.counters.unexpected_arrivals === 0,
  };
}

/** Every measured delivery was timed: latency samples = measured messages × members (no coordinated omission). */
function samplesCheck(r: RunReport, s: Shape, what = 'latency samples (measured messages × members)'): Check {
  const expected = s.measured * s.rooms * s.members;
  const got = r.metrics.broadcast_latency_ms?.count ?? 0;
  return { check: what, expected: fmt(expected), measured: fmt(got), agrees: got === expected };
}

/** Expected counts of each fault case (module comment of reference-server/calibration-faults.ts). */
export function expectedCounts(c: CalibrationCase, o: Pick<CalibrateOptions, 'dropEvery' | 'dupEvery'>, s: Shape): [number, number, number] {
  switch (c) {
    case 'drop':
      return [Math.floor(s.n / o.dropEvery) * s.members, 0, 0];
    case 'dup':
      return [0, Math.floor(s.n / o.dupEvery) * s.members * s.rooms, 0];
    case 'swap':
      return [0, 0, Math.floor(s.n / 2) * s.members * s.rooms];
    default:
      return [0, 0, 0];
  }
}

/**
 * The delay case's measured added latency:
 * (cross p50 − same p50 with the fault) − (cross p50 − same p50 without it).
 *
 * Both p50s of a run come from the same seconds on the same loaded machine, so a shift that hits
 * the whole run (another process, CPU frequency, a slower run) cancels in the difference. The
 * baseline's difference then removes the Redis hop, which cross-node deliveries always take. Cross
 * p50 with the fault minus cross p50 of the baseline would keep the run-to-run drift. Cross minus
 * same within the faulted run alone would keep the Redis hop (a fraction of a millisecond here).
 */
export function addedLatencyMs(faulted: RunReport, baseline: RunReport): number {
  const d = (r: RunReport) => r.metrics.broadcast_latency_cross_node_ms.p50 - r.metrics.broadcast_latency_same_node_ms.p50;
  return Math.round((d(faulted) - d(baseline)) * 1000) / 1000;
}

/** The checks of one case, from its report (and the baseline's, for delay and stall). */
export function checksFor(c: CalibrationCase, o: CalibrateOptions, r: RunReport, baseline: RunReport | undefined): { injected: string; checks: Check[]; figures: Record<string, number | null> } {
  const s = shapeOf(o);
  const lost = r.accounting.lost;
  const figures: Record<string, number | null> = { lost, duplicated: r.accounting.duplicated, reordered: r.accounting.reordered, samples: r.metrics.broadcast_latency_ms?.count ?? 0 };
  switch (c) {
    case 'baseline':
      return { injected: 'nothing', checks: [accountedCheck(r, s), countCheck(r, [0, 0, 0]), samplesCheck(r, s)], figures };
    case 'delay': {
      const cross = r.metrics.broadcast_latency_cross_node_ms;
      const added = baseline ? addedLatencyMs(r, baseline) : null;
      figures.addedP50Ms = added;
      figures.crossMinMs = cross.min;
      figures.crossMinShiftMs = baseline ? Math.round((cross.min - baseline.metrics.broadcast_latency_cross_node_ms.min) * 1000) / 1000 : null;
      return {
        injected: `delay-cross=${o.delayMs} (every cross-node delivery)`,
        checks: [
          {
            check: 'added cross-node p50 (Δ cross − same p50 vs baseline)',
            expected: `${ms(o.delayMs)} ± 1 ms`,
            measured: added === null ? 'no baseline' : `${ms(added)} (${ms(cross.p50)} − ${ms(r.metrics.broadcast_latency_same_node_ms.p50)}; baseline ${ms(baseline!.metrics.broadcast_latency_cross_node_ms.p50)} − ${ms(baseline!.metrics.broadcast_latency_same_node_ms.p50)})`,
            agrees: added !== null && Math.abs(added - o.delayMs) <= 1,
          },
          // HDR keeps 3 significant digits: `min` may read up to 0.1 % below the real smallest value.
          {
            check: 'smallest cross-node latency',
            expected: `≥ ${ms(o.delayMs)}`,
            measured: baseline ? `${ms(cross.min)} (baseline ${ms(baseline.metrics.broadcast_latency_cross_node_ms.min)}: +${ms(cross.min - baseline.metrics.broadcast_latency_cross_node_ms.min)})` : ms(cross.min),
            agrees: cross.count > 0 && cross.min >= o.delayMs * 0.999,
          },
          countCheck(r, [0, 0, 0]),
          samplesCheck(r, s),
        ],
        figures,
      };
    }
    case 'drop':
      return {
        injected: `drop-every=${o.dropEvery}:${o.dropRoom} (on every node)`,
        checks: [accountedCheck(r, s), { ...countCheck(r, expectedCounts(c, o, s)), check: `lost / duplicated / reordered (⌊${s.n}/${o.dropEvery}⌋ × ${s.members} members)` }],
        figures,
      };
    case 'dup':
      return {
        injected: `dup-every=${o.dupEvery} (every room, every node)`,
        checks: [accountedCheck(r, s), { ...countCheck(r, expectedCounts(c, o, s)), check: `lost / duplicated / reordered (⌊${s.n}/${o.dupEvery}⌋ × ${s.members} × ${s.rooms} rooms)` }, samplesCheck(r, s)],
        figures,
      };
    case 'swap':
      return {
        injected: 'swap-pairs (every room, every node)',
        checks: [accountedCheck(r, s), { ...countCheck(r, expectedCounts(c, o, s)), check: `lost / duplicated / reordered (⌊${s.n}/2⌋ × ${s.members} × ${s.rooms} rooms)` }, samplesCheck(r, s)],
        figures,
      };
    case 'stall': {
      // The stall begins at an intended send time of publisher 0, so that message waits the whole
      // stall. "The whole stall" is what the worker measured: from the stall's start until its
      // pump ran again (`publisher_stall_ms`, the requested stall plus the timer's lateness). Each
      // of the message's `members` deliveries takes that long plus its own delivery time. The
      // other held messages wait less, because they were due later. So the `members` slowest
      // deliveries must all be ≥ the hold (structural). The fastest of them must be the hold plus
      // an ordinary delivery time: at most the baseline's p99, plus 1 ms for HDR's 0.1 %. That is
      // the fastest, not the median or the max: the stall releases every held message at once (10
      // with the defaults, 290 deliveries). A worker then reads its sockets in the order epoll
      // reports them, not in message order, so the held message's other deliveries wait behind
      // parts of that burst. A generator with coordinated omission would time the held messages
      // from when they left (nothing near the stall), or lose them (fewer samples).
      const held = r.counters.publisher_stall_ms ?? o.stallMs;
      const lowest = topMs(r, s.members);
      const median = topMs(r, Math.ceil(s.members / 2));
      const slack = (baseline?.metrics.broadcast_latency_ms.p99 ?? 10) + 1;
      figures.heldMs = r.counters.publisher_stall_ms ?? null;
      figures.maxMs = r.metrics.broadcast_latency_ms.max;
      figures.heldLowestMs = lowest;
      figures.heldMedianMs = median;
      figures.lateSends = r.counters.late_sends ?? null;
      return {
        injected: `publisher stall ${o.stallMs} ms at ${o.stallAt} s (generator)`,
        checks: [
          countCheck(r, [0, 0, 0]),
          samplesCheck(r, s, 'latency samples = measured messages × members (no coordinated omission)'),
          {
            check: 'the publisher was held (stall start → pump ran again)',
            expected: `≥ ${ms(o.stallMs)}`,
            measured: r.counters.publisher_stall_ms === undefined ? 'not reported' : ms(held),
            agrees: r.counters.publisher_stall_ms !== undefined && held >= o.stallMs,
          },
          {
            check: `the ${s.members} slowest deliveries (the message held the whole stall) all ≥ the hold`,
            expected: `≥ ${ms(held)}`,
            measured: lowest === null ? 'no samples' : `${ms(lowest)} … ${ms(r.metrics.broadcast_latency_ms.max)} (${fmt(r.counters.late_sends ?? 0)} messages left > 10 ms late)`,
            agrees: lowest !== null && lowest >= held * 0.999,
          },
          {
            check: 'the fastest of them ≈ the hold + one delivery (≤ baseline p99 + 1 ms)',
            expected: `${ms(held)} … ${ms(held + slack)}`,
            measured: lowest === null ? 'no samples' : `${ms(lowest)} (their median ${median === null ? '–' : ms(median)}: the released burst)`,
            agrees: lowest !== null && lowest >= held * 0.999 && lowest <= held + slack,
          },
        ],
        figures,
      };
    }
  }
}

/**
 * The n-th largest latency of a run, ms, from its merged HDR histogram (null without one). HDR
 * keeps 3 significant digits, so it is within 0.1 % of the recorded value.
 */
export function topMs(r: RunReport, n: number): number | null {
  const m = r.metrics.broadcast_latency_ms;
  if (m?.hdr === undefined || m.count < n || n < 1) return null;
  // The (count − n + 1)-th smallest; the half keeps HDR's ceil() off a rounding error.
  return decodeHistogram(m.hdr).getValueAtPercentile((100 * (m.count - n + 0.5)) / m.count) / 1000;
}

export interface CalibrateIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal: AbortSignal;
  /** Every pid the current run (and the capture) started, for a forced exit. */
  onPids?: (pids: () => number[]) => void;
  /** Called with each case's run id as it starts (a forced exit cleans its containers). */
  onRun?: (runId: string) => void;
}

/** A writable that prefixes every line (the runs' own progress) and passes it on. */
function prefixed(out: NodeJS.WritableStream, prefix: string): Writable {
  let buf = '';
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString().replace(/\r/g, '\n');
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) out.write(`${prefix}${l}\n`);
      cb();
    },
  });
}

const discard = () => new Writable({ write: (_c, _e, cb) => cb() });

/**
 * Runs the calibration: every case of `o.cases` (baseline first, and baseline whenever delay or
 * stall is asked for), then the wire cross-check with `o.wire`. Throws WsbenchError when a run
 * fails (exit 2); otherwise resolves with every check.
 */
export async function calibrate(o: CalibrateOptions, io: CalibrateIO): Promise<CalibrationResult> {
  const outDir = prepareOutDir(o.out ?? join('wsbench-results', newRunId('calibrate')));
  // Checked before anything starts: a missing tshark must not cost the whole calibration first.
  const tools = o.wire ? wireTools() : undefined;
  const wanted = new Set<CalibrationCase>(o.cases);
  if (wanted.has('delay') || wanted.has('stall')) wanted.add('baseline');
  const order = CALIBRATION_CASES.filter((c) => wanted.has(c));
  let pids: () => number[] = () => [];
  let capturePid: number | undefined;
  io.onPids?.(() => [...pids(), ...(capturePid === undefined ? [] : [capturePid])]);

  const common = {
    driver: o.driver,
    server: o.server,
    nodes: o.nodes,
    connectRate: o.connectRate,
    ...(o.readyTimeout === undefined ? {} : { readyTimeout: o.readyTimeout }),
    ...(o.dockerNetwork === undefined ? {} : { dockerNetwork: o.dockerNetwork }),
  };
  const broadcast = { connections: o.connections, rooms: o.rooms, rate: o.rate, warmup: o.warmup, duration: o.duration, drain: o.drain };
  const perCase: Record<CalibrationCase, Record<string, unknown>> = {
    baseline: {},
    delay: { calibrationFault: [`delay-cross=${o.delayMs}`] },
    drop: { calibrationFault: [`drop-every=${o.dropEvery}:${o.dropRoom}`] },
    dup: { calibrationFault: [`dup-every=${o.dupEvery}`] },
    swap: { calibrationFault: ['swap-pairs'] },
    stall: { publisherStallMs: o.stallMs, publisherStallAt: o.stallAt },
  };

  const runOne = async (name: string, flags: Record<string, unknown>, onClusterUp?: (c: StartedCluster, dir: string) => Promise<void>): Promise<{ report: RunReport; dir: string }> => {
    const dir = join(outDir, name);
    const plan = buildPlan('cross-node-broadcast', { ...common, ...flags, out: dir });
    io.onRun?.(plan.runId);
    io.stderr.write(`calibrate: ${name} — ${plan.topology.calibrationFaults?.join(', ') ?? (name === 'stall' ? `publisher stall ${o.stallMs} ms` : 'no fault')}\n`);
    const outcome = await run(plan, { stdout: discard(), stderr: prefixed(io.stderr, `  [${name}] `), signal: io.signal, onPids: (p) => (pids = p), ...(onClusterUp ? { onClusterUp } : {}) });
    const err = outcome.report.error;
    if (err) {
      throw new WsbenchError(err.code as WsbenchError['code'], `calibration case ${name}: ${err.message}`, { hint: err.hint ?? `see ${dir}` });
    }
    return { report: outcome.report, dir };
  };

  const cases: CaseResult[] = [];
  const reports = new Map<CalibrationCase, RunReport>();
  for (const c of order) {
    const { report, dir } = await runOne(c, { ...broadcast, ...perCase[c] });
    reports.set(c, report);
    const { injected, checks, figures } = checksFor(c, o, report, reports.get('baseline'));
    cases.push({ case: c, injected, checks, runDir: dir, figures });
  }

  let wire: CalibrationResult['wire'];
  if (o.wire && tools) {
    const rooms = Math.max(1, Math.round(o.wireConnections / (o.wireMembers + 1)));
    const members = Math.floor((o.wireConnections - rooms) / rooms);
    const rate = Math.round((o.wireDeliveries / (rooms * members)) * 1000) / 1000;
    const logPath = join(outDir, 'wire', 'receive-log');
    let capture: Capture | undefined;
    let captured: { captured: number | null; dropped: number | null } = { captured: null, dropped: null };
    let ports = { lb: 0, node: 0 };
    const file = join(outDir, 'wire', 'capture.pcapng');
    try {
      const { dir } = await runOne(
        'wire',
        { connections: o.wireConnections, rooms, rate, warmup: 3, duration: o.wireDuration, drain: 2, receiveLog: logPath, receiveLogEvery: o.wireSampleEvery },
        async (cluster, dir) => {
          ports = { lb: cluster.lb.port, node: cluster.nodes[0].port };
          capture = await startCapture({ dumpcap: tools.dumpcap, ports: [ports.lb, ports.node], file, logFile: join(dir, 'logs', 'dumpcap.log') });
          capturePid = capture.pid;
          io.stderr.write(`  [wire] capturing on lo: frames from nginx :${ports.lb} (to the clients) and node-1 :${ports.node} → ${file}\n`);
        },
      );
      captured = (await capture?.stop()) ?? captured;
      capturePid = undefined;
      io.stderr.write(`  [wire] reading the capture (${captured.captured ?? '?'} packets, ${captured.dropped ?? '?'} dropped by the kernel)\n`);
      const frames = await readFrames(tools.tshark, file);
      const result = crossCheck(frames, readReceiveLogs(logPath), { lbPort: ports.lb, nodePort: ports.node, node: 'node-1' });
      wire = { ...result, connections: o.wireConnections, sampleEvery: o.wireSampleEvery, ...captured };
      cases.push(wireCase(wire, dir, ports));
    } finally {
      await capture?.stop();
      capturePid = undefined;
    }
  }

  const result: CalibrationResult = { cases, ...(wire ? { wire } : {}), agrees: cases.every((c) => c.checks.every((k) => k.agrees)), outDir };
  writeFileSync(join(outDir, 'calibration.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

function us(p: { p50: number; p99: number } | null): string {
  return p === null ? 'none matched' : `${p.p50.toFixed(1)} / ${p.p99.toFixed(1)} µs`;
}

export function wireCase(w: NonNullable<CalibrationResult['wire']>, dir: string, ports: { lb: number; node: number }): CaseResult {
  const share = w.samples ? w.matched / w.samples : 0;
  return {
    case: 'wire',
    injected: `capture on lo (nginx :${ports.lb} → clients, node-1 :${ports.node}), every ${w.sampleEvery}th arrival, ${fmt(w.connections)} connections`,
    runDir: dir,
    figures: {
      samples: w.samples,
      matched: w.matched,
      overheadP50Us: w.overheadUs?.p50 ?? null,
      overheadP99Us: w.overheadUs?.p99 ?? null,
      overheadMaxUs: w.overheadUs?.max ?? null,
      nodeToRecordedP50Us: w.nodeToRecordedUs?.p50 ?? null,
      nodeToRecordedP99Us: w.nodeToRecordedUs?.p99 ?? null,
      clockErrorUs: w.clock.errorUs,
      droppedPackets: w.dropped,
    },
    checks: [
      { check: 'logged arrivals matched to a captured frame', expected: `≥ 95 % of ${fmt(w.samples)}`, measured: `${fmt(w.matched)} (${(share * 100).toFixed(1)} %)`, agrees: w.samples > 0 && share >= 0.95 },
      {
        check: 'recorded before the frame reached the socket',
        expected: `0 (clock mapping ± ${w.clock.errorUs} µs)`,
        measured: fmt(w.beforeFrame),
        agrees: w.beforeFrame === 0,
      },
    ],
    // Measured, not checked against anything: shown apart, never counted as agreeing checks.
    info: [
      { what: 'generator receive overhead p50 / p99 (socket → recorded)', measured: us(w.overheadUs) },
      { what: 'node-1 wrote → recorded p50 / p99 (nginx + generator)', measured: us(w.nodeToRecordedUs) },
    ],
  };
}

/** The table `wsbench calibrate` prints. */
export function renderCalibration(r: CalibrationResult): string {
  const t = new Table({ head: ['case', 'injected', 'check', 'expected', 'measured', 'agrees'], style: { head: [], border: [], compact: true }, wordWrap: true, colWidths: [10, 30, 40, 24, 40, 8] });
  for (const c of r.cases) {
    c.checks.forEach((k, i) => t.push([i === 0 ? c.case : '', i === 0 ? c.injected : '', k.check, k.expected, k.measured, k.agrees ? 'yes' : 'NO']));
  }
  const all = r.cases.flatMap((c) => c.checks);
  const bad = all.filter((k) => !k.agrees).length;
  const info = r.cases.flatMap((c) => (c.info ?? []).map((i) => `  ${c.case}: ${i.what}: ${i.measured}`));
  const infoText = info.length ? `\ninformational (not checks, not counted):\n${info.join('\n')}` : '';
  const verdict = bad === 0 ? `calibrate: all ${all.length} checks agree` : `calibrate: ${bad} of ${all.length} checks DISAGREE`;
  return `${t.toString()}${infoText}\n${verdict} (runs and calibration.json in ${r.outDir})`;
}

/** The command: parse, calibrate, print; resolves with the exit code. */
export async function calibrateCommand(raw: Record<string, unknown>, io: CalibrateIO): Promise<number> {
  const o = parseCalibrateOptions(raw);
  try {
    const r = await calibrate(o, io);
    io.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `${renderCalibration(r)}\n`);
    return r.agrees ? 0 : 1;
  } catch (e) {
    if (isWsbenchError(e)) throw e;
    throw new WsbenchError('WSB_INTERNAL', e instanceof Error ? e.message : String(e), { hint: 'this is a wsbench bug; run with --debug and report it', cause: e });
  }
}
