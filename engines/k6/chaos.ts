/**
 * What the harness does to the cluster while k6 runs, on the script's clock (`c.at(ms)`: ms after
 * the t0 the script printed): connection-capacity's memory readings, reconnection-storm's NGINX
 * storms, node-kill's SIGKILL and redis-outage's Redis stop/start — each at the offset the Node
 * engine uses, counted from the k6 run's measured phase (broadcastTimes().measureFrom).
 */
import type { NodeMetrics } from '../../cluster/types.js';
import { broadcastTimes, connectedByMs, type BroadcastPlan, type CapacityPlan } from './scripts/lib/plan.js';
import type { K6ChaosContext, K6ChaosOutcome } from './scenarios.js';

const num = (o: Record<string, unknown>, key: string, dflt: number): number => (typeof o[key] === 'number' ? (o[key] as number) : dflt);

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
 * reconnection-storm's faults, as the Node engine's: `stormAt` seconds into the measured phase
 * NGINX is stopped and started again (every connection drops at once); once every client is back
 * (the nodes' connection count is what it was before) and `gap` seconds more, again. The script's
 * clients reconnect with socket.io-client's backoff after the first storm, full jitter after the
 * second.
 */
export async function stormChaos(c: K6ChaosContext): Promise<void> {
  const plan = c.plan as BroadcastPlan;
  await c.at(broadcastTimes(plan).measureFrom + num(c.options, 'stormAt', 3) * 1000);
  for (const policy of ['socketio', 'full-jitter'] as const) {
    const before = sumConnections(await c.cluster.metrics());
    // Through applyChaos, as the Node engine: the LB's port must be seen to refuse, then accept.
    c.event('storm', `${policy}: every connection drops`);
    await c.chaos({ type: 'stop-lb' });
    await c.chaos({ type: 'start-lb' });
    const back = await allBack(c, before, STORM_RECOVERY_TIMEOUT_MS);
    c.event('all-back', back === null ? `storm ${policy}: not all ${before} connections back after ${STORM_RECOVERY_TIMEOUT_MS} ms` : `storm ${policy}: ${before} connections back after ${back} ms`, back === null ? 'fail' : 'ok');
    if (policy === 'socketio') await c.sleep(num(c.options, 'gap', 3) * 1000);
  }
}

/**
 * node-kill's fault, as the Node engine's: `killAt` seconds into the measured phase the node is
 * SIGKILLed (and started again `restartAfter` seconds later when asked).
 */
export async function nodeKillChaos(c: K6ChaosContext): Promise<void> {
  const plan = c.plan as BroadcastPlan;
  const node = typeof c.options.node === 'string' ? c.options.node : 'node-1';
  const killAt = num(c.options, 'killAt', 5);
  await c.at(broadcastTimes(plan).measureFrom + killAt * 1000);
  await c.chaos({ type: 'kill-node', node });
  if (typeof c.options.restartAfter === 'number') {
    await c.at(broadcastTimes(plan).measureFrom + (killAt + c.options.restartAfter) * 1000);
    await c.chaos({ type: 'start-node', node });
  }
}

/**
 * redis-outage's fault, as the Node engine's: Redis stops `outageAt` seconds into the measured
 * phase and starts again `outage` seconds after it stopped. Returns when Redis was back (epoch ms,
 * the script's clock) for `cross_node_resumed_after_ms`.
 */
export async function redisOutageChaos(c: K6ChaosContext): Promise<K6ChaosOutcome> {
  const plan = c.plan as BroadcastPlan;
  await c.at(broadcastTimes(plan).measureFrom + num(c.options, 'outageAt', 4) * 1000);
  const stop = await c.chaos({ type: 'stop-redis' });
  await c.sleep(num(c.options, 'outage', 5) * 1000);
  const start = await c.chaos({ type: 'start-redis' });
  return {
    counters: {},
    redisBackEpochMs: start.outcome === 'ok' ? start.endEpochMs : undefined,
    notes: stop.outcome === 'ok' && start.outcome === 'ok' ? [] : ['k6 engine: the Redis outage did not run as planned (see the events)'],
  };
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
