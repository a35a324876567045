/**
 * Shards: one deterministic broadcast plan split over N generator processes (or machines), the
 * i-th of which runs `--shard i/N`. The split is BY ROOM: a room's publishers and all its members
 * are in one shard, so every latency (receive time − intended send time) is measured on one
 * clock, whatever the clocks of the other shards say. Room k (0-based) goes to shard
 * `k mod N + 1`; the members are dealt over the rooms of the whole plan as the un-sharded run
 * deals them (the first `M mod R` rooms get one more), so the shards' expected deliveries sum to
 * exactly what the un-sharded plan expects.
 */
import { createHash } from 'node:crypto';
import { WsbenchError } from '../common/errors.js';
import { nowUs } from '../common/clock.js';
import { roomName } from './room-plan.js';

/** `--shard i/N`, 1-based like Playwright's and vitest's `--shard`. */
export interface ShardRef {
  index: number;
  count: number;
}

/** One shard's share of the plan. */
export interface ShardShare extends ShardRef {
  /** Global room indices (0-based) this shard runs. */
  rooms: number[];
  /** Their names (`room-<k+1>`), as the un-sharded run names them. */
  roomNames: string[];
  /** Connections of this shard: its rooms' publishers and members. */
  connections: number;
  /** Members (non-publishers) of this shard. */
  members: number;
}

/** What a shard run needs beyond the plan (RunPlan.shard). */
export interface ShardPlan {
  ref: ShardRef;
  share: ShardShare;
  /** Same on every shard of one plan (load/shard-plan.ts planIdOf). */
  planId: string;
  /** The agreed wall-clock start of publishing, as given (ISO) and in ms since the epoch. */
  startAt?: string;
  startAtMs?: number;
}

/** Parses `i/N`; returns a problem in the user's terms instead of throwing. */
export function parseShard(value: string): ShardRef | string {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  if (!m) return `--shard ${value}: expected i/N, e.g. 2/3 (i from 1 to N)`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > 1000) return `--shard ${value}: N must be from 1 to 1000`;
  if (index < 1 || index > count) return `--shard ${value}: i must be from 1 to ${count}`;
  return { index, count };
}

/** Members of global room k when M members are dealt over R rooms (the first M mod R get one more). */
export function membersOfRoom(k: number, members: number, rooms: number): number {
  return Math.floor(members / rooms) + (k < members % rooms ? 1 : 0);
}

/** The share of shard `ref` of a plan of `connections` in `rooms` rooms with `publishersPerRoom` each. */
export function shareOf(o: { connections: number; rooms: number; publishersPerRoom: number }, ref: ShardRef): ShardShare {
  const members = o.connections - o.rooms * o.publishersPerRoom;
  const rooms: number[] = [];
  for (let k = ref.index - 1; k < o.rooms; k += ref.count) rooms.push(k);
  const shardMembers = rooms.reduce((a, k) => a + membersOfRoom(k, members, o.rooms), 0);
  return { ...ref, rooms, roomNames: rooms.map(roomName), connections: shardMembers + rooms.length * o.publishersPerRoom, members: shardMembers };
}

/**
 * The scenario options a shard runs with: its connections and rooms, and its part of the plan's
 * connect rate (the shards together open connections as fast as the un-sharded run would).
 */
export function shardOptions<O extends Record<string, unknown>>(options: O, share: Pick<ShardShare, 'connections' | 'rooms'>): O {
  const total = Number(options.connections);
  const rate = Number(options.connectRate);
  return {
    ...options,
    connections: share.connections,
    rooms: share.rooms.length,
    ...(Number.isFinite(rate) && total > 0 ? { connectRate: (rate * share.connections) / total } : {}),
  };
}

/** Problems with splitting this plan `count` ways (every shard needs rooms, and members on every node in each). */
export function shardProblems(o: { connections: number; rooms: number; publishersPerRoom: number }, ref: ShardRef, nodes: number): string[] {
  if (o.rooms < ref.count) return [`--shard ${ref.index}/${ref.count}: ${o.rooms} rooms cannot be split ${ref.count} ways (a room is never split: use --rooms ${ref.count} or more)`];
  const s = shareOf(o, ref);
  if (s.members < s.rooms.length * nodes) {
    return [`--shard ${ref.index}/${ref.count}: its ${s.rooms.length} rooms get ${s.members} members, fewer than one per room on each of ${nodes} nodes (use more --connections)`];
  }
  return [];
}

/** Stable JSON: keys sorted, so the same plan hashes the same on every machine. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * The plan id every shard of one plan shares: a hash of what decides the plan (scenario, its
 * options, the shard count, the engine, the server variant, the targets and the agreed start).
 */
export function planIdOf(input: { scenario: string; options: Record<string, unknown>; count: number; engine: string; server: string; targets: unknown; startAt?: string }): string {
  return createHash('sha256').update(canonical(input)).digest('hex').slice(0, 16);
}

/**
 * When publishing starts (the schedule's zero, CLOCK_MONOTONIC µs): half a second from now, or,
 * for shards that agreed on one wall-clock time (`--start-at`), that time. A shard that is ready
 * only after it fails with WSB_SHARD_START_MISSED: starting late would shift its share of the
 * schedule against the other shards' (and its first messages would all be late).
 */
export function publishStartUs(startAtMs: number | undefined, nowWallMs = Date.now(), nowMonoUs = nowUs()): number {
  if (startAtMs === undefined) return nowMonoUs + 500_000;
  const aheadMs = startAtMs - nowWallMs;
  if (aheadMs < 100) {
    throw new WsbenchError('WSB_SHARD_START_MISSED', `the agreed start (--start-at ${new Date(startAtMs).toISOString()}) was ${aheadMs < 0 ? `${Math.round(-aheadMs)} ms ago` : `only ${Math.round(aheadMs)} ms ahead`} when this shard had connected and joined its clients`, {
      hint: 'give every shard the same --start-at further ahead (connecting takes connections / --connect-rate seconds, plus process start)',
    });
  }
  return nowMonoUs + aheadMs * 1000;
}
