/**
 * The k6 side of each scenario: how a run's resolved options become the script's plan
 * (engines/k6/scripts/lib/plan.ts), which submetrics the report needs, and what the harness does while
 * k6 runs (reconnection-storm's NGINX storms). Pure except `chaos`, which acts on the cluster.
 *
 * The scenarios are the Node engine's (scenarios/index.ts: options, flags, targets); their options
 * are read here by key with the same names and defaults, so one `--config` file and the same flags
 * drive both engines. An option k6 has no use for (e.g. `workers`) is ignored.
 */
import type { NodeMetrics, StartedCluster } from '../../cluster/types.js';
import {
  broadcastTimes,
  connectedByMs,
  stormEndMs,
  type BroadcastPlan,
  type CapacityPlan,
  type K6Plan,
  type K6PlanBase,
  type StormPlan,
} from './scripts/lib/plan.js';
import { K6_CONNECTIONS_PER_NODE } from './summary.js';

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
}

/** What the harness's chaos sees while k6 runs. Every wait rejects once k6 exits or the run is aborted. */
export interface K6ChaosContext {
  plan: K6Plan;
  options: Record<string, unknown>;
  cluster: Pick<StartedCluster, 'nodes' | 'lb' | 'metrics'>;
  /** Resolves at the script's t0 + `ms`. */
  at(ms: number): Promise<void>;
  sleep(ms: number): Promise<void>;
  /** Runs a fault and records it on the run's timeline (ok / fail). */
  act(type: string, detail: string, fn: () => Promise<void>): Promise<void>;
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

const broadcast: K6Adapter = {
  plan(o) {
    const rooms = num(o, 'rooms', 40);
    const b = base('cross-node-broadcast', o, 1240, 500, rooms);
    const p: Omit<BroadcastPlan, 'maxDuration'> = {
      ...b,
      scenario: 'cross-node-broadcast',
      rooms,
      publishersPerRoom: num(o, 'publishersPerRoom', 1),
      rate: num(o, 'rate', 8),
      warmupMs: num(o, 'warmup', 3) * 1000,
      durationMs: num(o, 'duration', 20) * 1000,
      drainMs: num(o, 'drain', 2) * 1000,
      payloadBytes: num(o, 'payloadBytes', 0),
    };
    const full = { ...p, maxDuration: '' } as BroadcastPlan;
    return { ...p, maxDuration: maxDurationFor(broadcastTimes(full).closeAt) };
  },
  submetrics(ids) {
    const paths = ['same', 'cross'];
    return {
      trends: paths.map((p) => `broadcast_latency_ms{path:${p}}`),
      counters: [
        ...['deliveries_expected_seen', 'deliveries_received', 'deliveries_duplicated', 'deliveries_reordered'].flatMap((m) => paths.map((p) => `${m}{path:${p}}`)),
        ...perNode(ids),
      ],
    };
  },
  measuredSeconds: (p) => (p as BroadcastPlan).durationMs / 1000,
  notes: (p) => [
    `k6 engine: ${p.vus} VUs, each one source address (--local-ips) holding one connection in ${p.vus}; phases follow one schedule from setup() (no barriers: a connection that joins late misses messages and they count lost)`,
  ],
};

const sumConnections = (nodes: NodeMetrics[]) => nodes.reduce((a, n) => a + (n.up && n.connections ? n.connections : 0), 0);

/**
 * Server memory per connection, as the Node engine's connection-capacity measures it: each node's
 * RSS (its /metrics) before the first connection and while every connection is held, the growth
 * summed over the nodes that report it, divided by the connections they hold. Null when no node
 * reports RSS or holds a connection.
 */
export function serverBytesPerConnection(before: NodeMetrics[], held: NodeMetrics[]): number | null {
  let bytes = 0;
  let conns = 0;
  for (const h of held) {
    const b = before.find((x) => x.nodeId === h.nodeId);
    if (h.rssBytes === null || !b || b.rssBytes === null || !h.connections) continue;
    bytes += h.rssBytes - b.rssBytes;
    conns += h.connections;
  }
  return conns > 0 ? Math.round(bytes / conns) : null;
}

/** connection-capacity: the nodes' RSS before the first connection and while all are held (seed 001's ~10 KB per connection). */
export async function capacityChaos(c: K6ChaosContext): Promise<K6ChaosOutcome> {
  const plan = c.plan as CapacityPlan;
  const before = await c.cluster.metrics();
  // As the Node engine: let the servers settle (GC, buffers) a little into the hold before reading.
  await c.at(connectedByMs(plan) + Math.min(3000, plan.holdMs / 2));
  const held = await c.cluster.metrics();
  const perConnection = serverBytesPerConnection(before, held);
  const serverSide = sumConnections(held);
  c.event('phase', `hold: nodes report ${serverSide} connections`, 'ok');
  return {
    counters: { server_connections_reported: serverSide, ...(perConnection === null ? {} : { server_bytes_per_connection: perConnection }) },
    notes: perConnection === null ? ['k6 engine: no node reported its RSS; memory per connection not measured'] : [],
  };
}

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

/**
 * Client connections the nodes hold in all (their /metrics), polled until it reaches `count` or
 * `timeoutMs` passes; resolves with the time it took, or null.
 */
async function allBack(c: K6ChaosContext, count: number, timeoutMs: number): Promise<number | null> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    const m = await c.cluster.metrics();
    if (m.reduce((a, n) => a + (n.up && n.connections ? n.connections : 0), 0) >= count) return Date.now() - start;
    await c.sleep(250);
  }
  return null;
}

/** Longest wait for every client to be back after a storm (the Node engine's allowance). */
export const STORM_RECOVERY_TIMEOUT_MS = 40_000;

/**
 * reconnection-storm's faults, as the Node engine's: `stormAt` seconds into the observed phase
 * NGINX is stopped and started again (every connection drops at once); once every client is back
 * (the nodes' connection count is what it was before) and `gap` seconds more, again. The script's
 * clients reconnect with socket.io-client's backoff after the first storm, full jitter after the
 * second.
 */
export async function stormChaos(c: K6ChaosContext): Promise<void> {
  const plan = c.plan as StormPlan;
  await c.at(connectedByMs(plan) + num(c.options, 'stormAt', 3) * 1000);
  for (const policy of ['socketio', 'full-jitter'] as const) {
    const before = (await c.cluster.metrics()).reduce((a, n) => a + (n.up && n.connections ? n.connections : 0), 0);
    await c.act('stop-lb', `storm ${policy}: every connection drops`, () => c.cluster.lb.stop());
    await c.act('start-lb', `storm ${policy}`, () => c.cluster.lb.start());
    const back = await allBack(c, before, STORM_RECOVERY_TIMEOUT_MS);
    c.event('all-back', back === null ? `storm ${policy}: not all ${before} connections back after ${STORM_RECOVERY_TIMEOUT_MS} ms` : `storm ${policy}: ${before} connections back after ${back} ms`, back === null ? 'fail' : 'ok');
    if (policy === 'socketio') await c.sleep(num(c.options, 'gap', 3) * 1000);
  }
}

const storm: K6Adapter = {
  plan(o) {
    const rooms = num(o, 'rooms', 40);
    const b = base('reconnection-storm', o, 1240, 500, rooms);
    const p: Omit<StormPlan, 'maxDuration'> = { ...b, scenario: 'reconnection-storm', rooms, durationMs: num(o, 'duration', 25) * 1000, drainMs: num(o, 'drain', 2) * 1000 };
    return { ...p, maxDuration: maxDurationFor(stormEndMs({ ...p, maxDuration: '' })) };
  },
  submetrics: (ids) => ({ trends: ['reconnect_time_ms{storm:socketio}', 'reconnect_time_ms{storm:full-jitter}'], counters: perNode(ids) }),
  chaos: async (c) => {
    await stormChaos(c);
  },
  notes: () => [
    'k6 engine: reconnection-storm publishes no messages, so no-loss-while-connected is not measured (unknown); reconnect times are each client\'s own drop → rejoin, reconnect_all_back_ms their maximum when every client came back',
  ],
};

/** Scenario name → its k6 adapter (and script: scenarios/k6/<name>.ts). */
export const K6_ADAPTERS: Readonly<Record<string, K6Adapter>> = {
  'cross-node-broadcast': broadcast,
  'connection-capacity': capacity,
  'reconnection-storm': storm,
};
