/**
 * The options every broadcast-based scenario shares: their zod shape and defaults, their flags,
 * the checks that need the topology, what they ask of the cluster, and the publisher-stall window.
 */
import { z } from 'zod';
import { RECONNECT_POLICIES } from '../load/reconnect-policy.js';
import type { ScenarioFlag, ServerOverride } from './define.js';

/** Options every broadcast-based scenario shares (zod shape; defaults documented per field). */
export const broadcastShape = {
  /** Client connections in all, publishers included (default 1240 = 40 rooms × (30 members + 1 publisher)). */
  connections: z.number().int().min(2).max(200_000).default(1240),
  /** Rooms (default 40). */
  rooms: z.number().int().min(1).max(100_000).default(40),
  /** Publishing connections per room (default 1). */
  publishersPerRoom: z.number().int().min(1).max(1000).default(1),
  /** Messages per second per publisher (default 8: 40 rooms × 8/s × 30 members ≈ 9,600 deliveries/s). */
  rate: z.number().positive().max(10_000).default(8),
  /** Measured seconds of publishing (default 20). */
  duration: z.number().positive().max(86_400).default(20),
  /** Seconds of publishing before measuring (default 3); warm-up messages are accounted, not timed. */
  warmup: z.number().min(0).max(3600).default(3),
  /** Seconds to wait after the last publish for in-flight deliveries (default 2). */
  drain: z.number().min(0).max(600).default(2),
  /** Load-generator worker processes (default: 2, more when the open-file limit requires). */
  workers: z.number().int().min(1).max(64).optional(),
  /** Connections opened per second (default 500: faster ramps saturate this 2-core box and inflate connect times). */
  connectRate: z.number().positive().max(100_000).default(500),
  /** Padding bytes added to every payload (default 0). */
  payloadBytes: z.number().int().min(0).max(1_000_000).default(0),
  /** How clients reconnect after a disconnection (default socketio: socket.io-client's defaults). */
  reconnect: z.enum(RECONNECT_POLICIES).default('socketio'),
  /** ms before a disconnection within which a lost message still counts as lost while disconnected (in flight). Default 500. */
  inflightMargin: z.number().min(0).max(60_000).default(500),
  /**
   * Calibration: busy CPU µs the generator spends per received message on top of its real work
   * (default 0). Makes the generator the bottleneck on purpose, to check that wsbench says so.
   */
  generatorCostUs: z.number().min(0).max(1_000_000).default(0),
  /**
   * Calibration (`wsbench calibrate`): the generator's publishers pause once for this many ms
   * (default 0: never). Messages that fall due meanwhile go out when it ends, with their intended
   * time, so the stall shows up as latency, not as missing samples.
   */
  publisherStallMs: z.number().int().min(0).max(600_000).default(0),
  /** Calibration: when the stall begins, in seconds into the measured phase (default 1). It begins at an intended send time of publisher 0. */
  publisherStallAt: z.number().min(0).max(86_400).default(1),
  /** Calibration, with `--repeat N`: only run k of the N stalls (default 0: every run). */
  publisherStallRun: z.number().int().min(0).max(1000).default(0),
  /** Calibration (`wsbench calibrate --wire`): write every n-th timed arrival's receive time to `<file>.worker-<i>.json` (default off). */
  receiveLog: z.string().min(1).optional(),
  /** Calibration: with `receiveLog`, log every n-th timed arrival of each worker (default 10). */
  receiveLogEvery: z.number().int().min(1).max(1_000_000).default(10),
};

export type BroadcastOptions = z.infer<z.ZodObject<typeof broadcastShape>>;

export const broadcastFlags: Array<ScenarioFlag<BroadcastOptions>> = [
  { key: 'connections', flag: '--connections <n>', description: 'client connections in all, publishers included (default 1240)' },
  { key: 'rooms', flag: '--rooms <n>', description: 'rooms (default 40)' },
  { key: 'publishersPerRoom', flag: '--publishers <n>', description: 'publishers per room (default 1)' },
  { key: 'rate', flag: '--rate <msgs>', description: 'messages per second per publisher (default 8)' },
  { key: 'duration', flag: '--duration <s>', description: 'measured seconds of publishing (default 20)' },
  { key: 'warmup', flag: '--warmup <s>', description: 'seconds of publishing before measuring (default 3)' },
  { key: 'drain', flag: '--drain <s>', description: 'seconds to wait for in-flight deliveries (default 2)' },
  { key: 'workers', flag: '--workers <n>', description: 'load-generator processes (default 2)' },
  { key: 'connectRate', flag: '--connect-rate <n>', description: 'connections opened per second (default 500)' },
  { key: 'payloadBytes', flag: '--payload-bytes <n>', description: 'padding bytes per message (default 0)' },
  { key: 'reconnect', flag: '--reconnect <policy>', description: 'client reconnection: socketio (socket.io-client defaults), full-jitter, none (default socketio)' },
  { key: 'inflightMargin', flag: '--inflight-margin <ms>', description: 'ms before a disconnection a lost message counts as in flight (default 500)' },
  { key: 'generatorCostUs', flag: '--generator-cost-us <n>', description: 'calibration: extra busy CPU µs per received message in the generator (default 0)' },
  { key: 'publisherStallMs', flag: '--publisher-stall-ms <ms>', description: 'calibration: the publishers pause once for this long; what falls due goes out late with its intended time (default 0: never)' },
  { key: 'publisherStallRun', flag: '--publisher-stall-run <k>', description: 'calibration, with --repeat: only run k stalls (default 0: every run)' },
  { key: 'publisherStallAt', flag: '--publisher-stall-at <s>', description: 'calibration: when the publisher stall begins, seconds into the measured phase (default 1)' },
  { key: 'receiveLog', flag: '--receive-log <file>', description: 'calibration: write every n-th timed arrival\'s receive time to <file>.worker-<i>.json (default off)' },
  { key: 'receiveLogEvery', flag: '--receive-log-every <n>', description: 'calibration: with --receive-log, log every n-th arrival (default 10)' },
];

export function validateBroadcast(o: BroadcastOptions, topology: { nodes: number }): string[] {
  const members = o.connections - o.rooms * o.publishersPerRoom;
  if (members < o.rooms * topology.nodes) {
    return [
      `--connections ${o.connections} leaves ${members} members for ${o.rooms} rooms; every room needs a member on each of ${topology.nodes} nodes, so at least ${o.rooms * (o.publishersPerRoom + topology.nodes)} connections (or fewer --rooms)`,
    ];
  }
  if (o.publisherStallMs > 0 && o.publisherStallAt >= o.duration) {
    return [`--publisher-stall-at ${o.publisherStallAt} must lie inside the measured phase (--duration ${o.duration} s)`];
  }
  return [];
}

export function broadcastTopology(o: BroadcastOptions): { expectedConnections: number; serverOverrides: ServerOverride[] } {
  // Seed 001 allows 100 messages/minute per connection; a publisher here sends `rate`/s, so the
  // limit is raised for the run (and the report says so), with room for joins and rejoins.
  const needed = Math.ceil(o.rate * 60 * 1.5) + 10;
  const members = o.connections - o.rooms * o.publishersPerRoom;
  const perNodeRoom = Math.ceil(members / o.rooms);
  const overrides: ServerOverride[] = [];
  if (needed > 100) overrides.push({ setting: 'rateLimit', value: needed, why: `publishers send ${o.rate} msg/s (${o.rate * 60}/min)` });
  if (perNodeRoom > 1000) overrides.push({ setting: 'roomCapacity', value: perNodeRoom, why: `rooms of ${perNodeRoom} members` });
  return { expectedConnections: o.connections, serverOverrides: overrides };
}

/**
 * Calibration: the publisher stall's window (CLOCK_MONOTONIC µs). It begins at the first intended
 * send time of publisher 0 (phase 0) at or after `publisherStallAt` into the measured phase. That
 * message then waits exactly the stall: its latency is the stall plus its own delivery time.
 */
export function stallWindow(o: Pick<BroadcastOptions, 'rate' | 'publisherStallMs' | 'publisherStallAt'>, startUs: number, measureFromUs: number): { startUs: number; endUs: number } {
  const intervalUs = 1e6 / o.rate;
  const k = Math.ceil((measureFromUs + o.publisherStallAt * 1e6 - startUs) / intervalUs);
  const at = startUs + k * intervalUs;
  return { startUs: at, endUs: at + o.publisherStallMs * 1000 };
}

/**
 * Seconds past the end of the run (measured phase + drain) a publisher behind its schedule may
 * still send; a message not out by then is never sent (expected, lost; docs/accounting.md).
 */
export const CATCH_UP_S = 5;
