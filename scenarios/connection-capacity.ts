import { z } from 'zod';
import { setTimeout as sleep } from 'node:timers/promises';
import { nowUs } from '../common/clock.js';
import { createLatencyHistogram, mergeEncoded, summarizeUs } from '../model/histogram.js';
import { defaultWorkerCount } from '../load/load-generator.js';
import type { CapacityReport } from '../model/run-report.js';
import type { NodeMetrics } from '../cluster/types.js';
import { defineScenario, type ScenarioResult } from './define.js';
import { saturatedWorkers, startMonitor, summarizeTicks, workerHealth, workerMemory } from './run-monitor.js';

const options = z
  .object({
    /** Connections to open (default 10,000: seed 004 "Support 10,000+ concurrent WebSocket connections"). */
    connections: z.number().int().min(1).max(200_000).default(10_000),
    /** Connections opened per second (default 1000). */
    connectRate: z.number().positive().max(100_000).default(1000),
    /** Seconds to hold every connection open once all are up (default 15). */
    hold: z.number().min(0).max(86_400).default(15),
    /** Seconds between one client's pings while holding (default 5; at least 0.1: the pings of every client are spread over it). */
    pingInterval: z.number().min(0.1).max(3600).default(5),
    /** Load-generator worker processes (default: enough for the 20,000 open-file limit, at least 2). */
    workers: z.number().int().min(1).max(64).optional(),
    /** ms for one connection to be established and welcomed (default 20000). */
    connectTimeout: z.number().int().min(100).max(600_000).default(20_000),
  })
  .strict();
type Options = z.infer<typeof options>;

const sumConnections = (nodes: NodeMetrics[]) => nodes.reduce((a, n) => a + (n.connections ?? 0), 0);

/**
 * Seed 004 "Support 10,000+ concurrent WebSocket connections" and seed 001 "Memory per
 * connection: ~10KB": ramp to N connections, hold them with pings, then disconnect; report connect
 * times, failures by cause, spread, and what each connection costs on every side.
 */
export default defineScenario<Options>({
  name: 'connection-capacity',
  describe: 'Ramp to N connections, hold them with pings, disconnect: connect times, failures by cause, cost per connection on every side',
  options,
  flags: [
    { key: 'connections', flag: '--connections <n>', description: '[connection-capacity] connections to open (default 10000)' },
    { key: 'connectRate', flag: '--connect-rate <n>', description: '[connection-capacity] connections per second (default 1000)' },
    { key: 'hold', flag: '--hold <s>', description: '[connection-capacity] seconds to hold all connections (default 15)' },
    { key: 'pingInterval', flag: '--ping-interval <s>', description: '[connection-capacity] seconds between pings per client (default 5)' },
    { key: 'workers', flag: '--workers <n>', description: 'load-generator processes' },
    { key: 'connectTimeout', flag: '--connect-timeout <ms>', description: '[connection-capacity] ms per connection attempt (default 20000)' },
  ],
  metrics: ['connect_time_ms', 'ping_rtt_ms'],
  targets: ['connections', 'memory-per-connection'],
  topology: (o) => ({ expectedConnections: o.connections, serverOverrides: [] }),
  async run(ctx): Promise<ScenarioResult> {
    const o = ctx.options;
    const workers = o.workers ?? defaultWorkerCount(o.connections);
    const mon = await startMonitor(ctx as never, { connections: o.connections, workers, connectRate: o.connectRate, connectTimeoutMs: o.connectTimeout, reconnect: 'none', holding: true });
    const { load, step } = mon;
    try {
      // Baselines: every side before the first connection.
      const nodesBefore = await ctx.cluster.metrics();
      const procBefore = (await ctx.cluster.processRss?.()) ?? { redis: null, lb: null };
      const genBefore = await step(load.stats());
      const t0 = nowUs();
      ctx.event('phase', 'connect');
      const results = await step(load.connect());
      const connected = results.filter((r) => r.error === undefined);
      const failuresByCause: Record<string, number> = {};
      for (const r of results) if (r.error) failuresByCause[r.error] = (failuresByCause[r.error] ?? 0) + 1;
      const connectHist = createLatencyHistogram();
      for (const r of connected) connectHist.recordValue(Math.max(1, r.connectUs));
      const perNode: Record<string, number> = {};
      for (const n of ctx.cluster.nodes) perNode[n.id] = 0;
      for (const r of connected) perNode[r.nodeId ?? 'unknown'] = (perNode[r.nodeId ?? 'unknown'] ?? 0) + 1;

      mon.setPhase('holding');
      ctx.event('phase', 'hold');
      // Let the servers settle (GC, buffers) before reading what the connections cost.
      await step(sleep(Math.min(3000, o.hold * 500)));
      const nodesHeld = await ctx.cluster.metrics();
      const procHeld = (await ctx.cluster.processRss?.()) ?? { redis: null, lb: null };
      const held = await step(load.hold(Math.max(0, o.hold * 1000 - Math.min(3000, o.hold * 500)), o.pingInterval * 1000));
      // The generator's side once the connections were held with pings (acks settled), before any
      // closes: RSS after a forced GC (load/worker-memory.ts). Not read during the pings: the GC's
      // pause would land in their round trips.
      const genHeld = await step(load.stats());
      mon.setPhase('closing');
      ctx.event('phase', 'disconnect');

      const per = (delta: number | null, n: number) => (delta === null || n === 0 ? null : Math.round(delta / n));
      const delta = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
      const nodes = nodesHeld.map((h) => {
        const b = nodesBefore.find((x) => x.nodeId === h.nodeId);
        const n = h.connections ?? perNode[h.nodeId] ?? 0;
        const rss = delta(h.rssBytes, b?.rssBytes ?? null);
        const heap = delta(h.heapUsedBytes, b?.heapUsedBytes ?? null);
        return { nodeId: h.nodeId, connections: n, rssDeltaBytes: rss, heapDeltaBytes: heap, rssPerConnectionBytes: per(rss, n), heapPerConnectionBytes: per(heap, n) };
      });
      const total = connected.length;
      const lbDelta = delta(procHeld.lb, procBefore.lb);
      const redisDelta = delta(procHeld.redis, procBefore.redis);
      const capacity: CapacityReport = {
        connected: total,
        failuresByCause,
        pings: { ok: held.reduce((a, h) => a + h.pingsOk, 0), failed: held.reduce((a, h) => a + h.pingsFailed, 0) },
        nodes,
        lb: { rssDeltaBytes: lbDelta, perConnectionBytes: per(lbDelta, total) },
        redis: { rssDeltaBytes: redisDelta, perConnectionBytes: per(redisDelta, total) },
        generator: genHeld.map((g) => {
          const b = genBefore.find((x) => x.workerId === g.workerId)!;
          // The same figure as generator.workers[].memoryPerConnectionBytes (one rule: null when RSS did not grow).
          return { worker: g.workerId, clients: g.connected, rssDeltaBytes: g.rssBytes - b.rssBytes, perConnectionBytes: workerMemory(b, g, g.connected).memoryPerConnectionBytes };
        }),
      };
      const withRss = nodes.filter((n) => n.rssPerConnectionBytes !== null && n.connections > 0);
      const rawPerConnection = withRss.length ? Math.round(withRss.reduce((a, n) => a + n.rssDeltaBytes!, 0) / withRss.reduce((a, n) => a + n.connections, 0)) : null;
      // RSS that shrank while connections were held (GC, pages returned) measured nothing: unknown, never a pass.
      const serverBytesPerConnection = rawPerConnection !== null && rawPerConnection < 0 ? null : rawPerConnection;
      const notes: string[] = [];
      if (rawPerConnection !== null && rawPerConnection < 0) notes.push(`server memory per connection came out negative (${rawPerConnection} bytes: RSS shrank while the connections were held); it is unknown, not a pass`);
      if (held.reduce((a, h) => a + h.connectedAtEnd, 0) < total) {
        notes.push(`${total - held.reduce((a, h) => a + h.connectedAtEnd, 0)} connections dropped while holding`);
      }
      // The first few failures verbatim, so a cause like `error` can be traced.
      const failed = results.filter((r) => r.error).slice(0, 3);
      if (failed.length) notes.push(`first failed connections: ${failed.map((r) => `${r.error}: ${r.errorMessage}`).join('; ')}`);
      const serverSide = sumConnections(nodesHeld);
      if (serverSide !== total) notes.push(`nodes report ${serverSide} connections while the generator holds ${total}`);

      const timeline = summarizeTicks(mon.ticks, t0, t0);
      const health = genHeld.map((g) => workerHealth(g.workerId, load.workers[g.workerId].clientIds.length, [], []));
      // Generator health over the whole run (there is no publish phase): from the ticks.
      for (const h of health) {
        const mine = mon.ticks.filter((t) => t.workerId === h.worker && t.atUs >= t0);
        Object.assign(h, workerHealth(h.worker, h.clients, mine.map((t) => t.cpuPercent), mine.map((t) => t.lagP99Ms)));
        const held = genHeld.find((x) => x.workerId === h.worker)!;
        Object.assign(h, workerMemory(genBefore.find((x) => x.workerId === h.worker)!, held, held.connected));
      }
      const saturated = saturatedWorkers(health.map((h) => ({ workerId: h.worker, cpu: mon.ticks.filter((t) => t.workerId === h.worker && t.atUs >= t0).map((t) => t.cpuPercent), lag: mon.ticks.filter((t) => t.workerId === h.worker && t.atUs >= t0).map((t) => t.lagP99Ms) })));

      const counters: Record<string, number> = {
        connections: total,
        connections_peak: total,
        connect_failures: results.length - total,
        pings_ok: capacity.pings.ok,
        pings_failed: capacity.pings.failed,
        server_connections_reported: serverSide,
      };
      for (const [cause, n] of Object.entries(failuresByCause)) counters[`connect_failures_${cause}`] = n;
      if (serverBytesPerConnection !== null) counters.server_bytes_per_connection = serverBytesPerConnection;
      if (capacity.lb.perConnectionBytes !== null) counters.lb_bytes_per_connection = capacity.lb.perConnectionBytes;
      if (capacity.redis.perConnectionBytes !== null) counters.redis_bytes_per_connection = capacity.redis.perConnectionBytes;
      const gen = capacity.generator.filter((g) => g.clients > 0);
      if (gen.length) counters.generator_bytes_per_connection = Math.round(gen.reduce((a, g) => a + g.rssDeltaBytes, 0) / gen.reduce((a, g) => a + g.clients, 0));

      // No ping was timed (a profile holds connections without the reference `ping`): no RTT figure, not a 0.
      const pingRtt = summarizeUs(mergeEncoded(held.map((h) => h.pingHdr)), 'ms');
      return {
        metrics: {
          connect_time_ms: summarizeUs(connectHist, 'ms'),
          ...(pingRtt.count > 0 ? { ping_rtt_ms: pingRtt } : {}),
        },
        counters,
        accounting: { expected: 0, received: 0, lost: 0, duplicated: 0, reordered: 0, deliveryRatio: 1, sameNode: { expected: 0, received: 0, lost: 0, duplicated: 0, reordered: 0, deliveryRatio: 1 }, crossNode: { expected: 0, received: 0, lost: 0, duplicated: 0, reordered: 0, deliveryRatio: 1 } },
        connectionsPerNode: perNode,
        timeline,
        generator: {
          workers: health,
          bottleneck: saturated.length > 0,
          notes: saturated.length ? [`worker(s) ${saturated.join(', ')} saturated (CPU ≥ 90 % or event-loop lag ≥ 50 ms) for most of the run`] : [],
        },
        notes,
        extra: { capacity, nodeMetrics: mon.nodeMetrics.map((p) => ({ t: Math.round((p.atUs - t0) / 1e5) / 10, nodes: p.nodes })) },
      };
    } finally {
      await mon.stop();
    }
  },
});
