import { setTimeout as sleep } from 'node:timers/promises';
import { WsbenchError } from '../common/errors.js';
import { nowUs } from '../common/clock.js';
import { applyChaos, type ChaosAction, type ChaosRecord } from '../cluster/chaos.js';
import { ChaosTally } from '../cluster/chaos-tally.js';
import type { StartedCluster } from '../cluster/types.js';
import { joinFailureText, planRooms } from '../load/room-plan.js';
import { publishStartUs } from '../load/shard-plan.js';
import { createLatencyHistogram, mergeEncoded, summarizeUs } from '../model/histogram.js';
import { addAccounting, emptyAccounting } from '../model/accounting.js';
import type { ReconnectPolicy } from '../load/reconnect-policy.js';
import type { ReconnectSpec } from '../config/protocol.js';
import type { Disconnection, LossClasses, WorkerResults } from '../load/ipc.js';
import type { WindowReport } from '../model/run-report.js';
import type { ScenarioContext, ScenarioResult } from './define.js';
import { ownLatency, saturatedWorkers, startMonitor, summarizeTicks, workerHealth, workerMemory } from './run-monitor.js';
import { findStalls, perNodeSeconds, secondsP99 } from './stalls.js';
import { peakConnections, perNodeReport, perNodeWindow } from './per-node.js';
import { affectedBy, reconnectionFigures } from './reconnection-figures.js';

export { reconnectionFigures };

export { broadcastShape, broadcastFlags, validateBroadcast, broadcastTopology, stallWindow, CATCH_UP_S, type BroadcastOptions } from './broadcast-options.js';
import { CATCH_UP_S, stallWindow, type BroadcastOptions } from './broadcast-options.js';

/** A fault on the run's timeline, for windows, *late* deliveries and reconnection figures. */
export interface Fault {
  name: string;
  startUs: number;
  /** When the fault was healed; `auto`: when the last client it disconnected was back. */
  endUs: number | 'auto';
  /** End of the action that caused it (disconnections up to 2 s later are attributed to it). */
  actionEndUs: number;
  policy: ReconnectPolicy;
  /** reconnection-storm: when the load balancer accepted again (observed, µs; null: never seen). */
  returnUs?: number | null;
}

/** What a chaos schedule can do while the broadcast runs. */
export interface ChaosApi {
  cluster: StartedCluster;
  /** When the measured phase begins (µs, the nowUs clock): `at(0)`, and the `windows` clock's zero. */
  measureFromUs: number;
  /** Resolves `s` seconds after the measured phase began (immediately if that has passed). */
  at(s: number): Promise<void>;
  /** Applies a chaos action and records it on the timeline with start, end and outcome. */
  act(action: ChaosAction): Promise<ChaosRecord>;
  /** Declares a fault window. */
  fault(f: Omit<Fault, 'policy'>): void;
  /** Changes how clients reconnect from now on. */
  setReconnect(policy: ReconnectPolicy): Promise<void>;
  /** Open client connections right now (from the workers' last per-second reports). */
  connected(): number;
  /**
   * Resolves true once every worker has reported (after `sinceUs`) that all its clients are
   * connected again or gave up reconnecting, false after `timeoutMs`. Reports older than
   * `sinceUs` are not trusted.
   */
  allBack(sinceUs: number, timeoutMs: number): Promise<boolean>;
  /** Polls `cond` every 100 ms until it holds or `timeoutMs` passes. */
  waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean>;
  signal: AbortSignal;
}

export interface BroadcastHooks {
  chaos?: (api: ChaosApi) => Promise<void>;
  /** Close the load generator when done (a scenario that runs the workload several times). */
  closeLoad?: boolean;
}

export interface BroadcastOutcome extends ScenarioResult {
  faults: Array<Fault & { endUs: number }>;
  disconnections: Disconnection[];
  /** Cross-node arrivals per 100 ms of arrival time (bin = floor(µs / 100,000)). */
  crossArrivalBins: Map<number, number>;
  measureFromUs: number;
}

const sumLoss = (a: LossClasses, b: LossClasses): LossClasses => ({
  lostConnected: a.lostConnected + b.lostConnected,
  lostDisconnected: a.lostDisconnected + b.lostDisconnected,
  lostPublisherDown: a.lostPublisherDown + b.lostPublisherDown,
  neverSent: a.neverSent + b.neverSent,
  late: a.late + b.late,
});
const noLoss = (): LossClasses => ({ lostConnected: 0, lostDisconnected: 0, lostPublisherDown: 0, neverSent: 0, late: 0 });

/** The profile's reconnect behaviour as the report names it: the preset, or `custom {…}`. */
function profileReconnectName(r: ReconnectSpec | undefined): string | undefined {
  return r === undefined ? undefined : typeof r === 'string' ? r : `custom ${JSON.stringify(r)}`;
}

/**
 * The broadcast workload every broadcast scenario runs: connect C clients spread over the nodes,
 * deal them into R rooms with members on every node, publish on a fixed schedule, optionally run a
 * chaos schedule on the same timeline, then account for every expected delivery.
 */
export async function runBroadcast(ctx: ScenarioContext<BroadcastOptions>, hooks: BroadcastHooks = {}): Promise<BroadcastOutcome> {
  const o = ctx.options;
  const mon = await startMonitor(ctx as ScenarioContext<unknown>, { connections: o.connections, workers: o.workers, connectRate: o.connectRate, reconnect: o.reconnect, receiveCostUs: o.generatorCostUs, ...(o.receiveLog ? { receiveLog: { path: o.receiveLog, every: o.receiveLogEvery } } : {}) });
  const { load, ticks, latest, nodeMetrics, connectedNow, step } = mon;
  const setPhase = mon.setPhase;

  try {
    // --- connect -------------------------------------------------------------------------------
    // Each worker's RSS after GC before its first connection: the baseline of its memory per connection.
    const memBefore = await step(load.stats());
    ctx.event('phase', 'connect');
    const results = await step(load.connect());
    // A connection whose node neither the server nor the load balancer named is connected all the
    // same: its node is unknown (null), never guessed.
    const connected = results.filter((r) => r.error === undefined);
    const protocolFailure = results.find((r) => r.error === 'protocol');
    if (protocolFailure) throw load.mismatch(`${results.filter((r) => r.error === 'protocol').length} of ${results.length} connections: ${protocolFailure.errorMessage}`);
    const failures = new Map<string, number>();
    for (const r of results) if (r.error) failures.set(r.error, (failures.get(r.error) ?? 0) + 1);
    const notes: string[] = [];
    const connectHist = createLatencyHistogram();
    for (const r of connected) connectHist.recordValue(Math.max(1, r.connectUs));
    const perNode: Record<string, number> = {};
    for (const n of ctx.cluster.nodes) perNode[n.id] = 0;
    for (const r of connected) perNode[r.nodeId ?? 'unknown'] = (perNode[r.nodeId ?? 'unknown'] ?? 0) + 1;
    if (connected.length < results.length) {
      const first = results.find((r) => r.error);
      throw new WsbenchError(
        'WSB_CONNECT_FAILED',
        `${results.length - connected.length} of ${results.length} connections failed (${[...failures].map(([k, v]) => `${k}: ${v}`).join(', ')}); first: ${first?.errorMessage}`,
        {
          hint:
            load.custom && failures.has('auth')
              ? 'the server refused the credential: check protocol.auth (where it goes, its name and value, the JWT secret and claims)'
              : 'lower --connections or --connect-rate, or see the node logs in the run folder',
        },
      );
    }
    const nodesUsed = Object.values(perNode).filter((v) => v > 0).length;
    const nodesKnown = connected.every((r) => r.nodeId !== null);
    if (!nodesKnown) notes.push(`the node of ${connected.filter((r) => r.nodeId === null).length} connections is unknown (no welcome, no load-balancer header): the same-node / cross-node split is unknown`);
    if (nodesKnown && ctx.cluster.nodes.length > 1 && nodesUsed < 2) {
      throw new WsbenchError('WSB_LB_UNBALANCED', `the load balancer put all ${connected.length} connections on one node (${JSON.stringify(perNode)}); nothing would cross nodes`, {
        hint: 'use --lb-policy least_conn or round_robin, or check that clients bind distinct 127.0.x.* source addresses',
      });
    }
    const idle = Object.entries(perNode).filter(([, v]) => v === 0).map(([k]) => k);
    if (nodesKnown && idle.length) notes.push(`nodes with no connections: ${idle.join(', ')} (load balancer spread)`);

    // --- join ----------------------------------------------------------------------------------
    setPhase('joining');
    ctx.event('phase', 'join');
    // Grouped by worker, so the publishers spread over the workers (load/room-plan.ts).
    const assignments = planRooms(connected.map((r) => ({ id: r.id, nodeId: r.nodeId ?? 'unknown', group: load.workerOf.get(r.id) ?? 0 })), {
      rooms: o.rooms,
      publishersPerRoom: o.publishersPerRoom,
      roomNames: ctx.shard?.roomNames,
    });
    const joinFailures = await step(load.join(assignments));
    if (joinFailures.length > 0 && load.custom) {
      throw load.mismatch(joinFailureText(joinFailures, assignments, load.profile.publish.join === true));
    }
    if (joinFailures.length > 0) {
      throw new WsbenchError('WSB_JOIN_FAILED', joinFailureText(joinFailures, assignments, load.profile.publish.join === true), {
        hint: joinFailures[0].error === 'room_full' ? 'use more --rooms' : 'see the node logs in the run folder',
      });
    }
    const nodeOf = new Map(connected.map((r) => [r.id, r.nodeId ?? 'unknown']));
    const roomNodes = new Map<string, Set<string>>();
    for (const a of assignments) {
      if (a.role !== 'member') continue;
      const s = roomNodes.get(a.room) ?? new Set<string>();
      s.add(nodeOf.get(a.id)!);
      roomNodes.set(a.room, s);
    }
    const partial = [...roomNodes.values()].filter((s) => s.size < nodesUsed).length;
    if (partial) notes.push(`${partial} rooms lack members on some node`);

    // --- publish (and chaos, on the same timeline) ---------------------------------------------
    setPhase('warm-up');
    const pubs = assignments.filter((a) => a.role === 'publisher');
    const startUs = publishStartUs(ctx.shard?.startAtMs);
    const measureFromUs = startUs + o.warmup * 1e6;
    // The timeline's zero on the wall clock: shards started apart line their seconds up by it (reports/merge.ts).
    const measureFromEpochMs = Math.round(Date.now() + (measureFromUs - nowUs()) / 1000);
    const endUs = measureFromUs + o.duration * 1e6;
    ctx.event('phase', 'publish');
    const phaseTimer = setTimeout(() => {
      setPhase('measuring');
      ctx.event('phase', 'measure');
    }, (measureFromUs - nowUs()) / 1000);
    const faults: Fault[] = [];
    /** Chaos actions seen not to happen, or that nothing could observe (cluster/chaos-tally.ts). */
    const chaosTally = new ChaosTally();
    let policy: ReconnectPolicy = o.reconnect;
    const chaosApi: ChaosApi = {
      cluster: ctx.cluster,
      measureFromUs,
      signal: ctx.signal,
      at: async (s) => {
        const wait = (measureFromUs + s * 1e6 - nowUs()) / 1000;
        if (wait > 0) await sleep(wait, undefined, { signal: ctx.signal });
      },
      act: async (action) => {
        const rec = await applyChaos(ctx.cluster, action, nowUs);
        ctx.event(rec.action, rec.detail, rec.outcome, { target: rec.target, durationMs: (rec.endUs - rec.startUs) / 1000 });
        chaosTally.add(rec);
        return rec;
      },
      fault: (f) => faults.push({ ...f, policy }),
      setReconnect: async (p) => {
        await load.setReconnect(p);
        policy = p;
      },
      connected: connectedNow,
      allBack: (sinceUs, timeoutMs) =>
        chaosApi.waitFor(() => {
          const l = [...latest.values()];
          // A client that stopped reconnecting (its policy gave up) is not waited for: it will not be back.
          const gaveUp = l.reduce((a, t) => a + (t.gaveUp ?? 0), 0);
          return l.length === load.workers.length && l.every((t) => t.atUs > sinceUs) && connectedNow() + gaveUp >= o.connections;
        }, timeoutMs),
      waitFor: async (cond, timeoutMs) => {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          if (cond()) return true;
          await sleep(100, undefined, { signal: ctx.signal });
        }
        return cond();
      },
    };
    const stallHere = o.publisherStallRun === 0 || o.publisherStallRun === (ctx.repeat?.run ?? 1);
    const stall = o.publisherStallMs > 0 && stallHere ? stallWindow(o, startUs, measureFromUs) : undefined;
    const publishing = load.publish({
      startUs,
      measureFromUs,
      endUs,
      // The run ends with the drain; a publisher behind its schedule (a busy generator) gets
      // CATCH_UP_S more to get its messages out late. What is still not out then is never sent.
      deadlineUs: endUs + (o.drain + CATCH_UP_S) * 1e6,
      runEndUs: endUs + o.drain * 1e6,
      rate: o.rate,
      payloadBytes: o.payloadBytes,
      // Publishers are staggered over one interval so the rooms do not all fire at once.
      publishers: pubs.map((a, i) => ({ id: a.id, pub: i, room: a.room, phase: i / pubs.length })),
      ...(stall ? { stall } : {}),
    });
    const chaos = hooks.chaos ? hooks.chaos(chaosApi) : Promise.resolve();
    const [published] = await step(Promise.all([publishing, chaos]));
    clearTimeout(phaseTimer);
    setPhase('draining');
    ctx.event('phase', 'drain');
    await step(sleep(o.drain * 1000));

    // --- collect -------------------------------------------------------------------------------
    const disconnections = await step(load.disconnections());
    const resolvedFaults = faults.map((f) => {
      if (f.endUs !== 'auto') return { ...f, endUs: f.endUs };
      const ups = affectedBy(f, disconnections).map((d) => d.upUs ?? nowUs());
      return { ...f, endUs: ups.length ? Math.max(...ups) : f.actionEndUs };
    });
    const windows: Array<{ name: string; startUs: number; endUs: number }> = [];
    let cursor = measureFromUs;
    let prev = 'before';
    for (const f of [...resolvedFaults].sort((a, b) => a.startUs - b.startUs)) {
      if (f.startUs > cursor) windows.push({ name: prev, startUs: cursor, endUs: f.startUs });
      windows.push({ name: f.name, startUs: f.startUs, endUs: f.endUs });
      cursor = f.endUs;
      prev = `after-${f.name}`;
    }
    // The last window is always `after`, so a target can name it whatever the faults were called.
    if (resolvedFaults.length && endUs > cursor) windows.push({ name: 'after', startUs: cursor, endUs });
    const collected: WorkerResults[] = await step(
      load.collect({
        publishers: published.publishers,
        measureFromUs,
        windows,
        faults: resolvedFaults.map((f) => ({ startUs: f.startUs, endUs: f.endUs })),
        inflightMarginUs: o.inflightMargin * 1000,
      }),
    );
    ctx.event('phase', 'collected');
    // Each worker's memory at the end of the run, every connection, ledger stream and histogram
    // still held (a forced GC: nothing is sent any more). After the collect, whose health window
    // runs up to it, so the GC and the wait for RSS to settle are no part of it.
    const memAfter = await step(load.stats());

    const total = collected.reduce((a, r) => addAccounting(a, r.accounting.total), emptyAccounting());
    // The node of some client unknown (no welcome, no load-balancer header): the same/cross split is
    // unknown (null), and so is every target on it — never guessed.
    const sameNode = nodesKnown ? collected.reduce((a, r) => addAccounting(a, r.accounting.sameNode), emptyAccounting()) : null;
    const crossNode = nodesKnown ? collected.reduce((a, r) => addAccounting(a, r.accounting.crossNode), emptyAccounting()) : null;
    const losses = {
      ...collected.reduce((a, r) => sumLoss(a, r.losses.total), noLoss()),
      sameNode: nodesKnown ? collected.reduce((a, r) => sumLoss(a, r.losses.sameNode), noLoss()) : null,
      crossNode: nodesKnown ? collected.reduce((a, r) => sumLoss(a, r.losses.crossNode), noLoss()) : null,
    };
    const unexpected = collected.reduce((a, r) => a + r.accounting.unexpected, 0);
    const messagesPublished = published.publishers.reduce((a, p) => a + p.sent, 0);
    const timelineHistograms: Array<{ t: number; hdr: string }> = [];
    const timeline = summarizeTicks(ticks, startUs, measureFromUs, ctx.shard ? timelineHistograms : undefined);
    const measured = timeline.filter((p) => p.t > 0 && p.t <= o.duration);
    // First arrivals only (the workers count no duplicate and no stray), per measured second.
    const deliveriesPerSec = measured.length ? measured.reduce((a, p) => a + p.received, 0) / measured.length : 0;
    const messagesPerSec = measured.length ? measured.reduce((a, p) => a + p.sent, 0) / measured.length : 0;
    const peak = peakConnections(ticks);

    const health = collected.map((r) => {
      const h = workerHealth(r.workerId, load.workers[r.workerId].clientIds.length, r.health.cpuPercent, r.health.lagP99Ms);
      const before = memBefore.find((m) => m.workerId === r.workerId);
      const after = memAfter.find((m) => m.workerId === r.workerId);
      // Over every client the worker holds (a client that gave up reconnecting keeps its state too).
      if (before !== undefined && after !== undefined) Object.assign(h, workerMemory(before, after, h.clients));
      if (r.health.cpuPerDeliveryUs !== null) {
        h.cpuPerDeliveryUs = Math.round(r.health.cpuPerDeliveryUs * 10) / 10;
        h.burstSize = Math.round(r.health.burstSize * 10) / 10;
        h.burstServiceMs = Math.round(r.health.burstSize * r.health.cpuPerDeliveryUs) / 1000;
      }
      return h;
    });
    const saturated = saturatedWorkers(collected.map((r) => ({ workerId: r.workerId, cpu: r.health.cpuPercent, lag: r.health.lagP99Ms })));
    const genNotes: string[] = [];
    if (saturated.length) genNotes.push(`worker(s) ${saturated.join(', ')} saturated (CPU ≥ 90 % or event-loop lag ≥ 50 ms) for most of the run`);
    // Messages the pump never got to by the run's end (not queued behind a disconnection, no
    // calibration stall): the generator could not keep its own schedule — it was the bottleneck.
    // Never sent (more than --drain + CATCH_UP_S behind): the generator could not keep its schedule.
    // Sent only after the run's end is a note only: a moment's stall at the end is not "most of the run".
    const unpumped = stall ? 0 : published.publishers.reduce((a, p) => a + (p.scheduled - p.sent - p.unflushed), 0);
    const overrun = stall ? 0 : published.publishers.reduce((a, p) => a + p.overrun, 0);
    if (unpumped > 0) genNotes.push(`generator saturated: the publishers never got ${unpumped} scheduled messages out before the run ended (never sent, counted as lost)`);
    if (overrun > 0) genNotes.push(`${overrun} messages left their publisher only after the run's end (more than --drain behind their schedule; counted in latency)`);
    if (published.lateSends > 0) genNotes.push(`${published.lateSends} messages left the publisher more than 10 ms after their intended time (counted in latency)`);
    // A worker draining a burst adds its own service time to every latency it records, long before
    // its CPU is full: say so when that is a large share of the median.
    const p50 = summarizeUs(mergeEncoded(collected.map((r) => r.hdr.all)), 'ms').p50;
    for (const h of health) {
      if (h.burstServiceMs !== undefined && p50 > 0 && h.burstServiceMs > 0.25 * p50) {
        genNotes.push(`worker ${h.worker} needs ${h.burstServiceMs} ms to drain one burst of ${h.burstSize} deliveries (${h.cpuPerDeliveryUs} µs each): ${Math.round((h.burstServiceMs / p50) * 100)} % of the p50 latency is the generator's own`);
      }
    }
    const measurementError = ownLatency(health);
    const anomalies = collected.reduce((a, r) => a + r.clockAnomalies, 0);
    if (anomalies) genNotes.push(`${anomalies} arrivals had a negative latency (clock anomaly)`);
    if (losses.neverSent > 0) {
      notes.push(`${losses.neverSent} expected deliveries were never sent: their messages were scheduled but never left the publisher (still queued, or the publisher was stalled) — lost, judged by no-loss`);
    }
    const clamped = collected.reduce((a, r) => a + (r.latencyClamped ?? 0), 0);
    if (clamped) notes.push(`LATENCY CLAMPED: ${clamped} deliveries took longer than the histogram's 120 s and were recorded as 120 s; the latency percentiles are a lower bound`);
    if (losses.lostConnected > 0) {
      const s = collected.flatMap((r) => r.lostConnectedSamples).slice(0, 3);
      notes.push(
        `CLUSTER FAILURE: ${losses.lostConnected} deliveries were lost to receivers that stayed connected while their publisher was connected too (e.g. ${s.map((x) => `client ${x.receiver} on ${x.node}: pub ${x.pub} seq ${x.seq}`).join('; ')})`,
      );
    }

    // Per-window latency: whole intended seconds inside the window, from the workers' per-second histograms.
    const perSecond = new Map<number, string[]>();
    for (const r of collected) for (const p of r.perSecond) perSecond.set(p.s, [...(perSecond.get(p.s) ?? []), p.hdr]);
    const windowReports: Record<string, WindowReport> = {};
    for (const w of windows) {
      const fromS = Math.ceil((w.startUs - measureFromUs) / 1e6);
      const toS = Math.floor((w.endUs - measureFromUs) / 1e6);
      const hdrs: string[] = [];
      for (let s = fromS; s < toS; s++) hdrs.push(...(perSecond.get(s) ?? []));
      const wr = collected.map((r) => r.windows.find((x) => x.name === w.name)!);
      windowReports[w.name] = {
        startMs: Math.round((w.startUs - measureFromUs) / 1000),
        endMs: Math.round((w.endUs - measureFromUs) / 1000),
        broadcast_latency_ms: summarizeUs(mergeEncoded(hdrs), 'ms'),
        accounting: wr.reduce((a, x) => addAccounting(a, x.accounting), emptyAccounting()),
        sameNode: nodesKnown ? wr.reduce((a, x) => addAccounting(a, x.sameNode), emptyAccounting()) : null,
        crossNode: nodesKnown ? wr.reduce((a, x) => addAccounting(a, x.crossNode), emptyAccounting()) : null,
        perNode: perNodeWindow(collected, w.name, fromS, toS),
      };
    }

    const reconnectHist = createLatencyHistogram();
    for (const d of disconnections) if (d.upUs !== null) reconnectHist.recordValue(Math.max(1, d.upUs - d.downUs));
    // socket.io has sessions to resume (connection state recovery, --adapter redis-streams); ws and bun do not.
    const sessions = ctx.topology.server === 'socketio';
    const faultFigures = resolvedFaults.map((f) => reconnectionFigures(f, disconnections, sessions));
    const worstBack = faultFigures.filter((f) => f.affected > 0).map((f) => f.backWithin100PercentMs);
    const queued = published.publishers.reduce((a, p) => a + p.queued, 0);
    const unflushed = published.publishers.reduce((a, p) => a + p.unflushed, 0);

    const metrics: ScenarioResult['metrics'] = {
      broadcast_latency_ms: summarizeUs(mergeEncoded(collected.map((r) => r.hdr.all)), 'ms'),
      broadcast_latency_same_node_ms: summarizeUs(mergeEncoded(collected.map((r) => r.hdr.same)), 'ms'),
      broadcast_latency_cross_node_ms: summarizeUs(mergeEncoded(collected.map((r) => r.hdr.cross)), 'ms'),
      connect_time_ms: summarizeUs(connectHist, 'ms'),
    };
    if (!nodesKnown) {
      // Absent, not zero: a target on them is unknown and fails.
      delete metrics.broadcast_latency_same_node_ms;
      delete metrics.broadcast_latency_cross_node_ms;
    }
    if (disconnections.length) metrics.reconnect_time_ms = summarizeUs(reconnectHist, 'ms');
    if (queued) metrics.queued_delivery_latency_ms = summarizeUs(mergeEncoded(collected.map((r) => r.hdr.queued)), 'ms');
    const replayed = summarizeUs(mergeEncoded(collected.map((r) => r.hdr.replayed)), 'ms');
    if (replayed.count) metrics.replayed_delivery_latency_ms = replayed;
    const counters: Record<string, number> = {
      connections: connected.length,
      // Measured: the highest concurrently-open count the workers reported (absent: not measured).
      ...(peak === null ? {} : { connections_peak: peak }),
      connect_failures: results.length - connected.length,
      rooms: o.rooms,
      publishers: pubs.length,
      messages_published: messagesPublished,
      messages_scheduled: published.publishers.reduce((a, p) => a + p.scheduled, 0),
      messages_never_sent: published.publishers.reduce((a, p) => a + (p.scheduled - p.sent), 0),
      messages_published_per_sec: Math.round(messagesPerSec),
      deliveries_expected: total.expected,
      deliveries_received: total.received,
      deliveries_per_sec: Math.round(deliveriesPerSec),
      unexpected_arrivals: unexpected,
      disconnects: collected.reduce((a, r) => a + r.disconnects, 0),
      late_sends: published.lateSends,
      // Latencies above the histogram's 120 s were recorded as 120 s: the latency targets cannot trust their percentiles then.
      latency_values_clamped: collected.reduce((a, r) => a + (r.latencyClamped ?? 0), 0),
    };
    if (stall) {
      // Calibration: how long publisher 0's pump was really held (the stall, plus its timer's lateness).
      const resumed = published.stallResumedUs.get(load.workerOf.get(pubs[0]?.id ?? -1) ?? -1);
      if (resumed !== undefined) counters.publisher_stall_ms = Math.round(resumed - stall.startUs) / 1000;
    }
    if (hooks.chaos) {
      // Judged by the `chaos-applied` target: a chaos scenario whose chaos did not happen, or that nothing saw happen, must not pass.
      const tally = chaosTally.result();
      Object.assign(counters, tally.counters);
      notes.push(...tally.notes);
    }
    if (resolvedFaults.length) {
      counters.messages_queued_while_disconnected = queued;
      counters.messages_never_flushed = unflushed;
      // Null (never all back) becomes unknown for the target: it is left out rather than faked.
      if (worstBack.length && worstBack.every((v) => v !== null)) counters.reconnect_all_back_ms = Math.max(...(worstBack as number[]));
    }

    return {
      metrics,
      counters,
      // Losses are classified in every run: `never sent` is possible without any fault.
      accounting: { ...total, sameNode, crossNode, losses },
      connectionsPerNode: perNode,
      timeline,
      generator: { workers: health, bottleneck: saturated.length > 0 || unpumped > 0, notes: genNotes, ...(measurementError ? { measurementError } : {}) },
      notes,
      ...(ctx.shard ? { timelineHistograms, measureFromEpochMs } : {}),
      faults: resolvedFaults,
      disconnections,
      measureFromUs,
      crossArrivalBins: (() => {
        const m = new Map<number, number>();
        for (const r of collected) for (const [bin, n] of r.crossArrivalBins) m.set(bin, (m.get(bin) ?? 0) + n);
        return m;
      })(),
      extra: {
        perNode: perNodeReport(collected),
        ...(resolvedFaults.length ? { windows: windowReports } : {}),
        ...(disconnections.length
          ? {
              reconnection: {
                // A profile's own reconnect behaviour wins over --reconnect (load/worker.ts).
                policy: profileReconnectName(ctx.topology.protocol?.reconnect) ?? o.reconnect,
                disconnections: disconnections.length,
                reconnected: disconnections.filter((d) => d.upUs !== null).length,
                neverBack: disconnections.filter((d) => d.upUs === null).length,
                attempts: disconnections.reduce((a, d) => a + d.attempts, 0),
                failedAttempts: disconnections.reduce((a, d) => a + d.failedAttempts, 0),
                ...(sessions
                  ? { recovered: disconnections.filter((d) => d.recovered).length, messagesReplayed: disconnections.reduce((a, d) => a + d.replayed, 0) }
                  : {}),
                faults: faultFigures.filter((f) => f.affected > 0),
              },
            }
          : {}),
        nodeMetrics: nodeMetrics.map((p) => ({ t: Math.round((p.atUs - measureFromUs) / 1e5) / 10, nodes: p.nodes })),
        stalls: findStalls(secondsP99(perSecond, o.duration, perNodeSeconds(collected.map((r) => r.perSecond))), mon.cpu, measureFromUs),
      },
    };
  } finally {
    await mon.stop();
    if (hooks.closeLoad) await mon.load.close();
  }
}
