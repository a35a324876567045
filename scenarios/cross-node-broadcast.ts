import { z } from 'zod';
import { setTimeout as sleep } from 'node:timers/promises';
import { WsbenchError } from '../common/errors.js';
import { nowUs } from '../common/clock.js';
import { planRooms } from '../load/room-plan.js';
import { createLatencyHistogram, decodeHistogram, mergeEncoded, summarizeUs } from '../load/histogram.js';
import { addAccounting, emptyAccounting } from '../load/delivery-ledger.js';
import type { WorkerTick } from '../load/ipc.js';
import type { TimelinePoint, WorkerHealth } from '../reports/run-report.js';
import { defineScenario, type ScenarioResult, type ServerOverride } from './define.js';

const options = z
  .object({
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
  })
  .strict();

export type CrossNodeBroadcastOptions = z.infer<typeof options>;

function summarizeTicks(ticks: WorkerTick[], fromUs: number, measureFromUs: number): TimelinePoint[] {
  const buckets = new Map<number, WorkerTick[]>();
  for (const t of ticks) {
    if (t.atUs < fromUs) continue;
    const k = Math.floor((t.atUs - fromUs) / 1e6);
    const l = buckets.get(k) ?? [];
    l.push(t);
    buckets.set(k, l);
  }
  return [...buckets.keys()]
    .sort((a, b) => a - b)
    .map((k) => {
      const l = buckets.get(k)!;
      const h = mergeEncoded(l.map((t) => t.hdr));
      return {
        t: Math.round((fromUs + (k + 1) * 1e6 - measureFromUs) / 1e6),
        sent: l.reduce((a, t) => a + t.sent, 0),
        received: l.reduce((a, t) => a + t.received, 0),
        connections: l.reduce((a, t) => a + t.connections, 0),
        p99Ms: h.totalCount > 0 ? Math.round(h.getValueAtPercentile(99)) / 1000 : null,
      };
    });
}

function workerHealth(id: number, clients: number, cpu: number[], lag: number[]): WorkerHealth {
  const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0);
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    worker: id,
    clients,
    cpuPercentMean: round(mean(cpu)),
    cpuPercentMax: round(cpu.length ? Math.max(...cpu) : 0),
    eventLoopLagP99Ms: round(lag.length ? [...lag].sort((a, b) => a - b)[Math.min(lag.length - 1, Math.floor(lag.length * 0.99))] : 0),
    eventLoopLagMaxMs: round(lag.length ? Math.max(...lag) : 0),
  };
}

/**
 * Seed 004's "Real-time messages delivered within 50ms", across nodes: C connections in R rooms,
 * every room with members on every node, P publishers per room publishing at a fixed rate; every
 * receiver times every message from its intended send time and the ledger accounts for every
 * expected delivery.
 */
export default defineScenario({
  name: 'cross-node-broadcast',
  describe: 'Room broadcasts that cross nodes through Redis: latency at every receiver, every delivery accounted',
  options,
  flags: [
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
  ],
  metrics: ['broadcast_latency_ms', 'broadcast_latency_same_node_ms', 'broadcast_latency_cross_node_ms', 'connect_time_ms'],
  targets: ['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order'],

  validate(o, topology) {
    const problems: string[] = [];
    const members = o.connections - o.rooms * o.publishersPerRoom;
    if (members < o.rooms * topology.nodes) {
      problems.push(
        `--connections ${o.connections} leaves ${members} members for ${o.rooms} rooms; every room needs a member on each of ${topology.nodes} nodes, so at least ${o.rooms * (o.publishersPerRoom + topology.nodes)} connections (or fewer --rooms)`,
      );
    }
    return problems;
  },

  topology(o) {
    // Seed 001 allows 100 messages/minute per connection; a publisher here sends `rate`/s, so the
    // limit is raised for the run (and the report says so), with room for the join.
    const needed = Math.ceil(o.rate * 60 * 1.5) + 10;
    const members = o.connections - o.rooms * o.publishersPerRoom;
    const perNodeRoom = Math.ceil(members / o.rooms);
    const overrides: ServerOverride[] = [];
    if (needed > 100) overrides.push({ setting: 'rateLimit', value: needed, why: `publishers send ${o.rate} msg/s (${o.rate * 60}/min)` });
    if (perNodeRoom > 1000) overrides.push({ setting: 'roomCapacity', value: perNodeRoom, why: `rooms of ${perNodeRoom} members` });
    return { expectedConnections: o.connections, serverOverrides: overrides };
  },

  async run(ctx): Promise<ScenarioResult> {
    const o = ctx.options;
    const ticks: WorkerTick[] = [];
    let phase = 'connecting';
    const phaseStart = Date.now();
    const latest = new Map<number, WorkerTick>();
    const load = await ctx.startLoad({
      connections: o.connections,
      workers: o.workers,
      connectRate: o.connectRate,
      onTick: (t) => {
        ticks.push(t);
        latest.set(t.workerId, t);
      },
    });
    const progressTimer = setInterval(() => {
      const l = [...latest.values()];
      const p99s = l.map((t) => decodeHistogram(t.hdr)).filter((h) => h.totalCount > 0);
      const merged = createLatencyHistogram();
      for (const h of p99s) merged.add(h);
      ctx.progress({
        phase,
        elapsedS: (Date.now() - phaseStart) / 1000,
        connected: l.reduce((a, t) => a + t.connections, 0),
        total: o.connections,
        sentPerS: l.reduce((a, t) => a + t.sent, 0),
        receivedPerS: l.reduce((a, t) => a + t.received, 0),
        p99Ms: merged.totalCount > 0 ? merged.getValueAtPercentile(99) / 1000 : null,
      });
    }, 1000);
    const abort = new Promise<never>((_, reject) => {
      const onAbort = () => reject(new WsbenchError('WSB_INTERRUPTED', 'run interrupted'));
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
    abort.catch(() => undefined);
    const step = <T>(p: Promise<T>): Promise<T> => Promise.race([p, load.failed(), abort]);

    try {
      // --- connect -----------------------------------------------------------------------------
      ctx.event('phase', 'connect');
      const results = await step(load.connect());
      const connected = results.filter((r) => r.nodeId !== null);
      const failures = new Map<string, number>();
      for (const r of results) if (r.error) failures.set(r.error, (failures.get(r.error) ?? 0) + 1);
      const connectHist = createLatencyHistogram();
      for (const r of connected) connectHist.recordValue(Math.max(1, r.connectUs));
      const perNode: Record<string, number> = {};
      for (const n of ctx.cluster.nodes) perNode[n.id] = 0;
      for (const r of connected) perNode[r.nodeId!] = (perNode[r.nodeId!] ?? 0) + 1;
      if (connected.length < results.length) {
        const first = results.find((r) => r.error);
        throw new WsbenchError('WSB_CONNECT_FAILED', `${results.length - connected.length} of ${results.length} connections failed (${[...failures].map(([k, v]) => `${k}: ${v}`).join(', ')}); first: ${first?.errorMessage}`, {
          hint: 'lower --connections or --connect-rate, or see the node logs in the run folder',
        });
      }
      const nodesUsed = Object.values(perNode).filter((v) => v > 0).length;
      if (ctx.cluster.nodes.length > 1 && nodesUsed < 2) {
        throw new WsbenchError('WSB_LB_UNBALANCED', `the load balancer put all ${connected.length} connections on one node (${JSON.stringify(perNode)}); nothing would cross nodes`, {
          hint: 'use --lb-policy least_conn or round_robin, or check that clients bind distinct 127.0.x.* source addresses',
        });
      }
      const notes: string[] = [];
      const idle = Object.entries(perNode).filter(([, v]) => v === 0).map(([k]) => k);
      if (idle.length) notes.push(`nodes with no connections: ${idle.join(', ')} (load balancer spread)`);

      // --- join --------------------------------------------------------------------------------
      phase = 'joining';
      ctx.event('phase', 'join');
      const assignments = planRooms(connected.map((r) => ({ id: r.id, nodeId: r.nodeId! })), { rooms: o.rooms, publishersPerRoom: o.publishersPerRoom });
      const joinFailures = await step(load.join(assignments));
      if (joinFailures.length > 0) {
        throw new WsbenchError('WSB_JOIN_FAILED', `${joinFailures.length} of ${assignments.filter((a) => a.role === 'member').length} room joins failed; first: ${joinFailures[0].error} (room ${joinFailures[0].room})`, {
          hint: joinFailures[0].error === 'room_full' ? 'use more --rooms' : 'see the node logs in the run folder',
        });
      }
      const nodeOf = new Map(connected.map((r) => [r.id, r.nodeId!]));
      const roomsWithoutAllNodes = new Set<string>();
      const roomNodes = new Map<string, Set<string>>();
      for (const a of assignments) {
        if (a.role !== 'member') continue;
        const s = roomNodes.get(a.room) ?? new Set<string>();
        s.add(nodeOf.get(a.id)!);
        roomNodes.set(a.room, s);
      }
      for (const [room, s] of roomNodes) if (s.size < nodesUsed) roomsWithoutAllNodes.add(room);
      if (roomsWithoutAllNodes.size) notes.push(`${roomsWithoutAllNodes.size} rooms lack members on some node`);

      // --- publish -----------------------------------------------------------------------------
      phase = 'warm-up';
      const pubs = assignments.filter((a) => a.role === 'publisher');
      const startUs = nowUs() + 500_000;
      const measureFromUs = startUs + o.warmup * 1e6;
      const endUs = measureFromUs + o.duration * 1e6;
      ctx.event('phase', 'publish');
      const phaseTimer = setTimeout(() => {
        phase = 'measuring';
        ctx.event('phase', 'measure');
      }, (measureFromUs - nowUs()) / 1000);
      const published = await step(
        load.publish({
          startUs,
          measureFromUs,
          endUs,
          rate: o.rate,
          payloadBytes: o.payloadBytes,
          // Publishers are staggered over one interval so the rooms do not all fire at once.
          publishers: pubs.map((a, i) => ({ id: a.id, pub: i, room: a.room, phase: i / pubs.length })),
        }),
      );
      clearTimeout(phaseTimer);
      phase = 'draining';
      ctx.event('phase', 'drain');
      await step(sleep(o.drain * 1000));

      // --- collect -----------------------------------------------------------------------------
      const sentByPub = new Map(published.sent.map((s) => [s.pub, s]));
      const pubInfo = pubs.map((a, i) => ({ pub: i, room: a.room, nodeId: sentByPub.get(i)?.nodeId ?? nodeOf.get(a.id)!, sent: sentByPub.get(i)?.sent ?? 0 }));
      const collected = await step(load.collect(pubInfo));
      ctx.event('phase', 'collected');

      const total = collected.reduce((a, r) => addAccounting(a, r.accounting.total), emptyAccounting());
      const sameNode = collected.reduce((a, r) => addAccounting(a, r.accounting.sameNode), emptyAccounting());
      const crossNode = collected.reduce((a, r) => addAccounting(a, r.accounting.crossNode), emptyAccounting());
      const unexpected = collected.reduce((a, r) => a + r.accounting.unexpected, 0);
      const messagesPublished = pubInfo.reduce((a, p) => a + p.sent, 0);
      const measuredTimeline = summarizeTicks(ticks, startUs, measureFromUs);
      const measured = measuredTimeline.filter((p) => p.t > 0 && p.t <= o.duration);
      const deliveriesPerSec = measured.length ? measured.reduce((a, p) => a + p.received, 0) / measured.length : 0;

      const health = collected.map((r) => workerHealth(r.workerId, load.workers[r.workerId].clientIds.length, r.health.cpuPercent, r.health.lagP99Ms));
      // Saturated: CPU ≥ 90 % or event-loop lag ≥ 50 ms for most of the measured window.
      const saturated = collected.filter((r) => {
        const n = r.health.cpuPercent.length;
        if (n === 0) return false;
        const bad = r.health.cpuPercent.filter((c, i) => c >= 90 || (r.health.lagP99Ms[i] ?? 0) >= 50).length;
        return bad / n > 0.5;
      });
      const genNotes: string[] = [];
      if (saturated.length) genNotes.push(`worker(s) ${saturated.map((r) => r.workerId).join(', ')} saturated (CPU ≥ 90 % or event-loop lag ≥ 50 ms) for most of the run`);
      if (published.lateSends > 0) genNotes.push(`${published.lateSends} messages left the publisher more than 10 ms after their intended time (counted in latency)`);
      const anomalies = collected.reduce((a, r) => a + r.clockAnomalies, 0);
      if (anomalies) genNotes.push(`${anomalies} arrivals had a negative latency (clock anomaly)`);

      return {
        metrics: {
          broadcast_latency_ms: summarizeUs(mergeEncoded(collected.map((r) => r.hdr.all)), 'ms'),
          broadcast_latency_same_node_ms: summarizeUs(mergeEncoded(collected.map((r) => r.hdr.same)), 'ms'),
          broadcast_latency_cross_node_ms: summarizeUs(mergeEncoded(collected.map((r) => r.hdr.cross)), 'ms'),
          connect_time_ms: summarizeUs(connectHist, 'ms'),
        },
        counters: {
          connections: connected.length,
          connections_peak: connected.length,
          connect_failures: results.length - connected.length,
          rooms: o.rooms,
          publishers: pubs.length,
          messages_published: messagesPublished,
          deliveries_expected: total.expected,
          deliveries_received: total.received,
          deliveries_per_sec: Math.round(deliveriesPerSec),
          unexpected_arrivals: unexpected,
          disconnects: collected.reduce((a, r) => a + r.disconnects, 0),
          late_sends: published.lateSends,
        },
        accounting: { ...total, sameNode, crossNode },
        connectionsPerNode: perNode,
        timeline: measuredTimeline,
        generator: { workers: health, bottleneck: saturated.length > 0, notes: genNotes },
        notes,
      };
    } finally {
      clearInterval(progressTimer);
    }
  },
});
