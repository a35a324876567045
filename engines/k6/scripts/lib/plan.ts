/**
 * What the harness passes to a wsbench k6 script, and the deterministic plan every VU derives
 * from it (pure: no k6 or Node imports; engines/k6/plans.ts builds the same types on the harness
 * side, and vitest tests both).
 *
 * Environment (`k6 run -e KEY=VALUE`):
 *   WSB_URL          base URL of the cluster (through the load balancer): `ws://127.0.0.1:<port>`
 *   WSB_PROTOCOL     `socketio` (default) or `ws` (the ws/Bun variants' JSON frames)
 *   WSB_TOKENS_FILE  JSON array of HS256 tokens, one per connection index (the harness mints them
 *                    with load/token.ts; the script never sees the secret)
 *   WSB_PLAN         JSON K6Plan: the scenario's numbers, already resolved and validated
 *   WSB_THRESHOLDS   JSON `thresholds` option, built from the run's targets
 *   WSB_SUMMARY_JSON where handleSummary writes k6's summary JSON (unset: k6's own text summary)
 *
 * Connections are numbered 0…connections−1 and dealt to VUs round-robin (connection g belongs to
 * VU g mod vus + 1), so each VU — one source address with `--local-ips` — holds a slice of every
 * room. Every VU opens its connections on one shared schedule: connection g opens at
 * t0 + g / connectRate seconds, t0 being the time setup() returned (plus `startDelayMs`).
 */

/** Numbers every script needs. */
export interface K6PlanBase {
  scenario: string;
  connections: number;
  vus: number;
  /** Connections opened per second, all VUs together. */
  connectRate: number;
  /** ms after setup() before the first connection opens (VUs start after setup). */
  startDelayMs: number;
  /** ms after the last scheduled connection before the next phase (late connects and joins). */
  settleMs: number;
  /** k6 `maxDuration` of the scenario, e.g. `95s`. */
  maxDuration: string;
}

/** The scenarios that run the broadcast workload (the Node engine's scenarios/broadcast-workload.ts). */
export type BroadcastScenario = 'cross-node-broadcast' | 'node-kill' | 'redis-outage' | 'reconnection-storm';

/**
 * A window of intended send times (ms after t0) the script accounts for on its own: the planned
 * fault of redis-outage, and the windows before and after it. The harness performs the fault at
 * the window's start on the same clock.
 */
export interface PlannedWindow {
  name: string;
  fromMs: number;
  toMs: number;
  /** A fault window: a delivery intended inside it that arrives after `toMs` is late. */
  fault: boolean;
}

/**
 * How a client reconnects after its connection dropped: `none`; `socketio` (socket.io-client's
 * default backoff); `full-jitter` (seed 001); `storm` (reconnection-storm: socketio after a first
 * drop, full-jitter after later ones — policyForDrop).
 */
export type K6Reconnect = 'none' | 'socketio' | 'full-jitter' | 'storm';

export interface BroadcastPlan extends K6PlanBase {
  scenario: BroadcastScenario;
  rooms: number;
  publishersPerRoom: number;
  /** Messages per second per publisher. */
  rate: number;
  warmupMs: number;
  durationMs: number;
  drainMs: number;
  payloadBytes: number;
  /** Reconnection after a drop (default none: cross-node-broadcast has no faults). */
  reconnect?: K6Reconnect;
  /** ms before a receiver's drop within which a missing message counts as lost while disconnected (in flight). */
  inflightMarginMs?: number;
  /** Windows of intended send time accounted separately (redis-outage). */
  windows?: PlannedWindow[];
  /** redis-outage: ms after t0 when Redis is planned back; cross-node arrivals from then on time its resumption. */
  resumeFromMs?: number;
  /**
   * Diagnostics (WSBENCH_K6_LEAN=1, docs/k6.md): no k6 metric call per delivery — the receivers
   * count locally and add their totals at the end, and time 1 delivery in `latencySampleEvery`.
   */
  lean?: { latencySampleEvery: number };
}

export interface CapacityPlan extends K6PlanBase {
  scenario: 'connection-capacity';
  /** ms every connection is held open once all should be up. */
  holdMs: number;
}

export type K6Plan = BroadcastPlan | CapacityPlan;

export interface ScriptEnv {
  url: string;
  protocol: 'socketio' | 'ws';
  tokensFile: string;
  plan: K6Plan;
  thresholds: Record<string, string[]>;
  summaryJson: string | null;
}

/** Reads and checks the WSB_* variables; throws (k6 exits 107) naming the one that is wrong. */
export function readEnv(env: Record<string, string | undefined>, scenario: K6Plan['scenario']): ScriptEnv {
  const need = (k: string): string => {
    const v = env[k];
    if (!v) throw new Error(`wsbench k6 script: ${k} is not set (run it through \`wsbench run ${scenario} --engine k6\`)`);
    return v;
  };
  const json = (k: string, fallback?: string): unknown => {
    const raw = env[k] ?? fallback;
    if (raw === undefined) need(k);
    try {
      return JSON.parse(raw as string);
    } catch (e) {
      throw new Error(`wsbench k6 script: ${k} is not valid JSON: ${String(e)}`);
    }
  };
  const protocol = env.WSB_PROTOCOL ?? 'socketio';
  if (protocol !== 'socketio' && protocol !== 'ws') throw new Error(`wsbench k6 script: WSB_PROTOCOL must be socketio or ws, got ${protocol}`);
  const plan = json('WSB_PLAN') as K6Plan;
  if (!plan || plan.scenario !== scenario) throw new Error(`wsbench k6 script: WSB_PLAN is for ${String(plan && plan.scenario)}, this script is ${scenario}`);
  return {
    url: need('WSB_URL'),
    protocol,
    tokensFile: need('WSB_TOKENS_FILE'),
    plan,
    thresholds: json('WSB_THRESHOLDS', '{}') as Record<string, string[]>,
    summaryJson: env.WSB_SUMMARY_JSON || null,
  };
}

/** The connection indexes VU `vu` (1-based, k6's `__VU`) holds: vu−1, vu−1+vus, … */
export function connectionsOfVu(vu: number, plan: Pick<K6PlanBase, 'vus' | 'connections'>): number[] {
  const out: number[] = [];
  for (let g = vu - 1; g < plan.connections; g += plan.vus) out.push(g);
  return out;
}

/** ms after t0 at which connection g opens. */
export function openAtMs(g: number, plan: Pick<K6PlanBase, 'connectRate' | 'startDelayMs'>): number {
  return plan.startDelayMs + Math.floor((g * 1000) / plan.connectRate);
}

/** ms after t0 when every connection should be up: the end of the connect phase plus the settle time. */
export function connectedByMs(plan: Pick<K6PlanBase, 'connections' | 'connectRate' | 'startDelayMs' | 'settleMs'>): number {
  return openAtMs(Math.max(0, plan.connections - 1), plan) + plan.settleMs;
}

export type Role = { role: 'publisher'; pub: number; room: number } | { role: 'member'; room: number };

/**
 * Connection g's role: the first rooms × publishersPerRoom connections publish (publisher p in
 * room p mod rooms), the rest are members dealt to rooms round-robin. Publishers do not join.
 */
export function roleOf(g: number, plan: Pick<BroadcastPlan, 'rooms' | 'publishersPerRoom'>): Role {
  const pubs = plan.rooms * plan.publishersPerRoom;
  if (g < pubs) return { role: 'publisher', pub: g, room: g % plan.rooms };
  return { role: 'member', room: (g - pubs) % plan.rooms };
}

/** Planned members of `room` (the receivers every message to it is expected at). */
export function membersOfRoom(room: number, plan: Pick<BroadcastPlan, 'rooms' | 'publishersPerRoom' | 'connections'>): number {
  const members = plan.connections - plan.rooms * plan.publishersPerRoom;
  if (members <= room) return 0;
  return Math.floor((members - 1 - room) / plan.rooms) + 1;
}

export function roomName(room: number): string {
  return `room-${room}`;
}

/** Messages each publisher sends: warm-up and measured window at `rate` per second. */
export function messagesPerPublisher(plan: Pick<BroadcastPlan, 'rate' | 'warmupMs' | 'durationMs'>): number {
  return Math.floor(((plan.warmupMs + plan.durationMs) * plan.rate) / 1000);
}

/** Broadcast phases, ms after t0. */
export function broadcastTimes(plan: BroadcastPlan): { publishAt: number; measureFrom: number; measureTo: number; closeAt: number } {
  const publishAt = connectedByMs(plan);
  const measureFrom = publishAt + plan.warmupMs;
  const measureTo = measureFrom + plan.durationMs;
  return { publishAt, measureFrom, measureTo, closeAt: measureTo + plan.drainMs };
}

/**
 * Intended send time (ms after t0) of message `seq` of publisher `pub`: publishers are staggered
 * over one interval so the rooms do not all fire at once (as the Node engine does).
 */
export function sendAtMs(pub: number, seq: number, plan: BroadcastPlan): number {
  const interval = 1000 / plan.rate;
  const pubs = plan.rooms * plan.publishersPerRoom;
  return broadcastTimes(plan).publishAt + (pub / pubs) * interval + seq * interval;
}

/** The publishers of `room`: connections g < rooms × publishersPerRoom with g mod rooms = room (roleOf). */
export function publishersOfRoom(room: number, plan: Pick<BroadcastPlan, 'rooms' | 'publishersPerRoom'>): number[] {
  const out: number[] = [];
  for (let g = room; g < plan.rooms * plan.publishersPerRoom; g += plan.rooms) out.push(g);
  return out;
}

/** The planned window an intended send time (ms after t0) falls in, or null. */
export function windowOf(intendedMs: number, windows: readonly PlannedWindow[] | undefined): PlannedWindow | null {
  if (!windows) return null;
  for (const w of windows) if (intendedMs >= w.fromMs && intendedMs < w.toMs) return w;
  return null;
}

/**
 * The two reconnection policies reconnection-storm compares (as load/reconnect-policy.ts):
 * `socketio` is socket.io-client's default backoff (1 s · 2^n ± 50 %, capped at 5 s); `full-jitter`
 * is seed 001's "jittered backoff: 1s, 2s, 4s, 8s... up to 30s" as full jitter (uniform in
 * [0, min(30 s, 1 s · 2^n)]). A client uses `socketio` after its first drop, `full-jitter` after
 * later ones: the harness's first storm measures the one, its second storm the other.
 */
export type ReconnectPolicy = 'socketio' | 'full-jitter';

export function policyForDrop(drop: number): ReconnectPolicy {
  return drop <= 1 ? 'socketio' : 'full-jitter';
}

/** Delay before reconnection attempt n (0-based) under `policy`, `rand` in [0, 1). */
export function reconnectDelayMs(policy: ReconnectPolicy, attempt: number, rand: number): number {
  if (policy === 'full-jitter') return Math.floor(rand * Math.min(30_000, 1000 * Math.pow(2, attempt)));
  let ms = 1000 * Math.pow(2, attempt);
  const deviation = Math.floor(rand * 0.5 * ms);
  ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
  return Math.min(ms, 5000);
}
