/** `wsbench calibrate`'s options: the cases, their defaults and limits, and the shape every expected count comes from. */
import { z } from 'zod';
import { WsbenchError } from '../common/errors.js';
import { SERVER_KINDS } from '../cluster/types.js';
import { DOCKER_NETWORK_CHOICES } from '../cluster/docker-options.js';

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
