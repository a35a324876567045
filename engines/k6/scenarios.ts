/**
 * The k6 side of each scenario: how a run's resolved options become the script's plan
 * (engines/k6/scripts/lib/plan.ts), which submetrics the report needs, and what the harness does while
 * k6 runs (reconnection-storm's NGINX storms). Pure except `chaos`, which acts on the cluster.
 *
 * The scenarios are the Node engine's (scenarios/index.ts: options, flags, targets); their options
 * are read here by key with the same names and defaults, so one `--config` file and the same flags
 * drive both engines. An option k6 has no use for (e.g. `workers`) is ignored.
 */
import type { ChaosAction } from '../../cluster/chaos.js';
import type { StartedCluster } from '../../cluster/types.js';
import {
  broadcastTimes,
  connectedByMs,
  type BroadcastPlan,
  type BroadcastScenario,
  type CapacityPlan,
  type K6Plan,
  type K6PlanBase,
  type K6Reconnect,
  type PlannedWindow,
} from './scripts/lib/plan.js';
import { K6_CONNECTIONS_PER_NODE } from './summary.js';
import { capacityChaos, nodeKillChaos, redisOutageChaos, stormChaos } from './chaos.js';

export { capacityChaos, nodeKillChaos, redisOutageChaos, serverBytesPerConnection, stormChaos, STORM_RECOVERY_TIMEOUT_MS } from './chaos.js';

/** ms after setup() before the first connection opens: VUs start after setup returns. */
export const START_DELAY_MS = 1000;
/** ms after the last scheduled connect for late connects and join acks before the next phase. */
export const SETTLE_MS = 2000;
/** Connections per VU at most; each VU is one source address and one JavaScript runtime. */
export const CONNECTIONS_PER_VU = 200;
/** VUs at least (when there are that many connections): more source addresses spread `ip_hash` better. */
export const MIN_VUS = 30;
/** VUs at most: distinct 127.0.x.1 addresses (load/source-address.ts). */
export const MAX_VUS = 250;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * VUs for `connections`: enough source addresses for ip_hash, ≤ CONNECTIONS_PER_VU connections
 * each, and — with `rooms` — coprime to the room count, so that every room has members in every
 * VU's slice (connection g sits in VU g mod vus and room (g − pubs) mod rooms).
 */
export function vusFor(connections: number, rooms?: number): number {
  let v = Math.min(connections, MAX_VUS, Math.max(MIN_VUS, Math.ceil(connections / CONNECTIONS_PER_VU)));
  v = Math.max(1, v);
  if (rooms && rooms > 1) {
    let w = v;
    while (w < Math.min(connections, MAX_VUS) && gcd(w, rooms) !== 1) w++;
    if (gcd(w, rooms) === 1) v = w;
  }
  return v;
}

/** k6 `maxDuration`: the planned end plus a minute for stragglers. */
export function maxDurationFor(endMs: number): string {
  return `${Math.ceil(endMs / 1000) + 60}s`;
}

const num = (o: Record<string, unknown>, key: string, dflt: number): number => (typeof o[key] === 'number' ? (o[key] as number) : dflt);

function base(scenario: K6Plan['scenario'], o: Record<string, unknown>, dfltConnections: number, dfltRate: number, rooms?: number): Omit<K6PlanBase, 'scenario' | 'maxDuration'> & { scenario: K6Plan['scenario'] } {
  const connections = num(o, 'connections', dfltConnections);
  return {
    scenario,
    connections,
    vus: vusFor(connections, rooms),
    connectRate: num(o, 'connectRate', dfltRate),
    startDelayMs: START_DELAY_MS,
    settleMs: SETTLE_MS,
  };
}

/** What the harness's chaos adds to the result: counters it measured itself, and notes. */
export interface K6ChaosOutcome {
  counters?: Record<string, number>;
  notes?: string[];
  /** redis-outage: when Redis answered again (epoch ms, the script's clock). */
  redisBackEpochMs?: number;
}

/** A chaos action's record, on the script's clock. */
export interface K6ChaosRecord {
  outcome: 'ok' | 'fail' | 'unknown';
  startEpochMs: number;
  endEpochMs: number;
}

/** What the harness's chaos sees while k6 runs. Every wait rejects once k6 exits or the run is aborted. */
export interface K6ChaosContext {
  plan: K6Plan;
  options: Record<string, unknown>;
  cluster: Pick<StartedCluster, 'nodes' | 'lb' | 'metrics' | 'redis'>;
  /** Resolves at the script's t0 + `ms`. */
  at(ms: number): Promise<void>;
  sleep(ms: number): Promise<void>;
  /** Runs a step nothing observes and records it on the timeline: `unknown` (a throw: `fail`), which fails `chaos-applied` — prefer `chaos()`. */
  act(type: string, detail: string, fn: () => Promise<void>): Promise<void>;
  /** Applies a chaos action as the Node engine does (cluster/chaos.ts: its effect checked) and records it on the timeline. */
  chaos(action: ChaosAction): Promise<K6ChaosRecord>;
  /** Records an observation on the timeline. */
  event(type: string, detail?: string, outcome?: 'ok' | 'fail' | 'unknown'): void;
  signal: AbortSignal;
}

export interface K6Adapter {
  /** The script's plan from the run's resolved options. */
  plan(options: Record<string, unknown>, topology: { nodes: number }): K6Plan;
  /** Submetrics the report needs: always-true thresholds make k6 summarise them. */
  submetrics(nodeIds: string[]): { trends: string[]; counters: string[] };
  /** Seconds of the measured window (deliveries_per_sec). */
  measuredSeconds?(plan: K6Plan): number;
  /** What the harness does (and measures) during the run, from the script's t0 on. */
  chaos?(c: K6ChaosContext): Promise<K6ChaosOutcome | void>;
  /** Caveats specific to the scenario under k6. */
  notes?(plan: K6Plan): string[];
}

const perNode = (ids: string[]) => ids.map((id) => `${K6_CONNECTIONS_PER_NODE}{node:${id}}`);

/**
 * redis-outage's planned windows of intended send time (ms after t0): before, the outage, after —
 * the Node engine's windows, from the plan instead of the actions' measured times.
 */
export function outageWindows(plan: BroadcastPlan, outageAtS: number, outageS: number): PlannedWindow[] {
  const t = broadcastTimes(plan);
  const from = t.measureFrom + outageAtS * 1000;
  const to = from + outageS * 1000;
  return [
    { name: 'before', fromMs: t.measureFrom, toMs: from, fault: false },
    { name: 'redis-outage', fromMs: from, toMs: to, fault: true },
    { name: 'after', fromMs: to, toMs: t.measureTo, fault: false },
  ];
}

const ACCOUNTING_COUNTERS = ['deliveries_expected', 'deliveries_first_arrivals', 'deliveries_received', 'deliveries_duplicated', 'deliveries_reordered'];
const LOSS_CLASSES = ['connected', 'disconnected', 'publisher_down'];

/** The broadcast family's submetrics: per path, per loss class, per planned window. */
export function broadcastSubmetrics(ids: string[], windows: readonly string[] = [], storm = false): { trends: string[]; counters: string[] } {
  const paths = ['same', 'cross'];
  return {
    trends: [
      ...paths.map((p) => `broadcast_latency_ms{path:${p}}`),
      ...windows.map((w) => `broadcast_latency_ms{window:${w}}`),
      ...(storm ? ['reconnect_time_ms{storm:socketio}', 'reconnect_time_ms{storm:full-jitter}'] : []),
    ],
    counters: [
      ...[...ACCOUNTING_COUNTERS, 'deliveries_late'].flatMap((m) => paths.map((p) => `${m}{path:${p}}`)),
      ...LOSS_CLASSES.map((c) => `deliveries_lost{class:${c}}`),
      ...LOSS_CLASSES.flatMap((c) => paths.map((p) => `deliveries_lost{class:${c},path:${p}}`)),
      ...windows.flatMap((w) => ACCOUNTING_COUNTERS.flatMap((m) => [`${m}{window:${w}}`, ...paths.map((p) => `${m}{window:${w},path:${p}}`)])),
      ...perNode(ids),
    ],
  };
}

function broadcastPlan(scenario: BroadcastScenario, o: Record<string, unknown>, dflt: { duration: number }, extra: (p: BroadcastPlan) => Partial<BroadcastPlan> = () => ({})): BroadcastPlan {
  const rooms = num(o, 'rooms', 40);
  const b = base(scenario, o, 1240, 500, rooms);
  const reconnect = typeof o.reconnect === 'string' ? (o.reconnect as K6Reconnect) : 'socketio';
  const p: BroadcastPlan = {
    ...b,
    scenario,
    rooms,
    publishersPerRoom: num(o, 'publishersPerRoom', 1),
    rate: num(o, 'rate', 8),
    warmupMs: num(o, 'warmup', 3) * 1000,
    durationMs: num(o, 'duration', dflt.duration) * 1000,
    drainMs: num(o, 'drain', 2) * 1000,
    payloadBytes: num(o, 'payloadBytes', 0),
    reconnect: scenario === 'reconnection-storm' ? 'storm' : reconnect,
    inflightMarginMs: num(o, 'inflightMargin', 500),
    maxDuration: '',
  };
  Object.assign(p, extra(p));
  return { ...p, maxDuration: maxDurationFor(broadcastTimes(p).closeAt) };
}

const broadcastNote = (p: K6Plan) =>
  `k6 engine: ${p.vus} VUs, each one source address (--local-ips) holding one connection in ${p.vus}; phases follow one schedule from setup() (no barriers: a member that joins late misses messages and they count lost while it was not yet joined)`;

const broadcast: K6Adapter = {
  plan: (o) => broadcastPlan('cross-node-broadcast', o, { duration: 20 }),
  submetrics: (ids) => broadcastSubmetrics(ids),
  measuredSeconds: (p) => (p as BroadcastPlan).durationMs / 1000,
  notes: (p) => [broadcastNote(p)],
};

const nodeKill: K6Adapter = {
  plan: (o) => broadcastPlan('node-kill', o, { duration: 15 }),
  submetrics: (ids) => broadcastSubmetrics(ids),
  measuredSeconds: (p) => (p as BroadcastPlan).durationMs / 1000,
  chaos: async (c) => {
    await nodeKillChaos(c);
  },
  notes: (p) => [broadcastNote(p), 'k6 engine: node-kill has no planned end of its fault, so no late deliveries are told apart (a late one counts as received)'],
};

const redisOutage: K6Adapter = {
  plan: (o) => broadcastPlan('redis-outage', o, { duration: 15 }, (p) => {
    const windows = outageWindows(p, num(o, 'outageAt', 4), num(o, 'outage', 5));
    return { windows, resumeFromMs: windows[1].toMs };
  }),
  submetrics: (ids) => broadcastSubmetrics(ids, ['before', 'redis-outage', 'after']),
  measuredSeconds: (p) => (p as BroadcastPlan).durationMs / 1000,
  chaos: redisOutageChaos,
  notes: (p) => [broadcastNote(p), 'k6 engine: the windows are the PLANNED outage (intended send times), the harness stops Redis at its start on the script\'s clock; the Node engine uses the actions\' measured times'],
};

const storm: K6Adapter = {
  plan: (o) => broadcastPlan('reconnection-storm', o, { duration: 25 }),
  submetrics: (ids) => broadcastSubmetrics(ids, [], true),
  measuredSeconds: (p) => (p as BroadcastPlan).durationMs / 1000,
  chaos: async (c) => {
    await stormChaos(c);
  },
  notes: (p) => [
    broadcastNote(p),
    "k6 engine: reconnect times are each client's own drop → rejoin; reconnect_all_back_ms is their maximum when every client came back; the storms have no planned end, so no late deliveries are told apart",
  ],
};

const capacity: K6Adapter = {
  plan(o) {
    const b = base('connection-capacity', o, 10_000, 1000);
    const p: Omit<CapacityPlan, 'maxDuration'> = { ...b, scenario: 'connection-capacity', holdMs: num(o, 'hold', 15) * 1000 };
    return { ...p, maxDuration: maxDurationFor(connectedByMs(p) + p.holdMs) };
  },
  submetrics: (ids) => ({ trends: [], counters: perNode(ids) }),
  chaos: capacityChaos,
  notes: () => ['k6 engine: connection-capacity pings every connection once when all should be up (the Node engine pings every --ping-interval while holding)'],
};

/** Scenario name → its k6 adapter (and script: engines/k6/scripts/<name>.ts). */
export const K6_ADAPTERS: Readonly<Record<string, K6Adapter>> = {
  'cross-node-broadcast': broadcast,
  'connection-capacity': capacity,
  'reconnection-storm': storm,
  'node-kill': nodeKill,
  'redis-outage': redisOutage,
};
