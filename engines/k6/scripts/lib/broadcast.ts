/**
 * The broadcast workload of the k6 scripts (cross-node-broadcast, node-kill, redis-outage,
 * reconnection-storm): the Node engine's scenarios/broadcast-workload.ts as one k6 VU's share.
 *
 * Connections 0…C−1 are dealt to VUs round-robin; the first rooms × publishersPerRoom publish
 * (they do not join), the others join one room each (plan.ts). Every VU counts from setup()'s t0:
 * connections open at connectRate; publishing starts when every connection should be up and
 * joined (+ settle), runs warm-up + duration at `rate` per publisher on a fixed schedule, then
 * drains and closes. Each payload is `{pub, seq, t, n, d}`: `t` the INTENDED send time (epoch ms),
 * `n` the publisher's node, `d` its down spans so far — so a stalled publisher shows as latency
 * (no coordinated omission) and a receiver can tell "never sent" from "lost".
 *
 * Faults are the harness's (engines/k6/chaos.ts), on the same clock (the `WSB_T0=` line). A
 * connection that drops reconnects with the plan's policy and rejoins its room; a publisher that is
 * down when a message falls due cannot send it (it counts in publish_failures and, at the receivers,
 * as lost while the publisher was down).
 *
 * Expected deliveries come from the schedule: every receiver expects every seq of every publisher
 * planned for its room, whether it was sent or not (ledger.ts `close`).
 *
 * Metrics (k6 names; engines/k6/summary.ts and engines/k6/broadcast-ingest.ts map them):
 *   broadcast_latency_ms  Trend, tags path=same|cross, window (planned windows only); deliveries
 *                         of messages intended in the measured window only
 *   connect_time_ms, reconnect_time_ms (tag storm=<policy> under reconnection-storm),
 *   cross_resume_at_ms (redis-outage: arrival of a receiver's first cross-node delivery after the
 *   planned outage end, ms after t0), timer_lag_ms (how late a VU's 100 ms timer fires: the VU's
 *   event-loop delay)
 *   deliveries_expected / _received / _duplicated / _reordered {path, window}, and
 *   deliveries_first_arrivals{path, window} (counted at close beside expected, by the stream's path),
 *   deliveries_lost{class=connected|disconnected|publisher_down, path, window}, deliveries_late{path},
 *   deliveries_in_window (first arrivals during the measured window), connections,
 *   connections_per_node{node}, connect_failures{cause}, join_failures, disconnects, reconnects,
 *   reconnect_attempts, reconnect_failures, never_back, messages_scheduled, messages_published,
 *   publish_failures, late_sends (> 10 ms behind schedule), unexpected_arrivals, clock_anomalies
 */
import { Counter, Trend } from 'k6/metrics';
import { setTimeout } from 'k6/timers';
import { WsbClient } from './client';
import { ReceiverLedger, type Path, type Span } from './ledger';
import { limitedLog, startLagProbe } from './common';
import {
  broadcastTimes,
  connectionsOfVu,
  messagesPerPublisher,
  openAtMs,
  policyForDrop,
  publishersOfRoom,
  reconnectDelayMs,
  roleOf,
  roomName,
  sendAtMs,
  windowOf,
  type BroadcastPlan,
  type ReconnectPolicy,
  type ScriptEnv,
} from './plan';

const latency = new Trend('broadcast_latency_ms', true);
const connectTime = new Trend('connect_time_ms', true);
const reconnectTime = new Trend('reconnect_time_ms', true);
const crossResumeAt = new Trend('cross_resume_at_ms', true);
const expected = new Counter('deliveries_expected');
const firstArrivals = new Counter('deliveries_first_arrivals');
const received = new Counter('deliveries_received');
const duplicated = new Counter('deliveries_duplicated');
const reordered = new Counter('deliveries_reordered');
const lost = new Counter('deliveries_lost');
const late = new Counter('deliveries_late');
const inWindow = new Counter('deliveries_in_window');
const connections = new Counter('connections');
const perNode = new Counter('connections_per_node');
const connectFailures = new Counter('connect_failures');
const joinFailures = new Counter('join_failures');
const disconnects = new Counter('disconnects');
const reconnects = new Counter('reconnects');
const attempts = new Counter('reconnect_attempts');
const failedAttempts = new Counter('reconnect_failures');
const neverBack = new Counter('never_back');
const scheduled = new Counter('messages_scheduled');
const published = new Counter('messages_published');
const publishFailures = new Counter('publish_failures');
const lateSends = new Counter('late_sends');
const unexpected = new Counter('unexpected_arrivals');
const clockAnomalies = new Counter('clock_anomalies');

const LATE_MS = 10;
/** Before the first join a receiver is "down" since forever. */
const NEVER = -1e15;

/** Runs VU `__VU`'s share of the broadcast workload from `t0` (epoch ms). */
export function runBroadcastVu(env: ScriptEnv, tokens: string[], t0: number): void {
  const plan = env.plan as BroadcastPlan;
  const times = broadcastTimes(plan);
  const perPublisher = messagesPerPublisher(plan);
  const padding = plan.payloadBytes > 0 ? 'x'.repeat(plan.payloadBytes) : '';
  const margin = plan.inflightMarginMs ?? 500;
  const reconnectMode = plan.reconnect ?? 'none';
  const storm = reconnectMode === 'storm';
  const lean = plan.lean;
  /** Lean mode: per-delivery counts kept here and added once at the end. */
  const local = { received: new Map<string, number>(), inWindow: 0 };
  const countLocal = (tags: Record<string, string>) => {
    const k = JSON.stringify(tags);
    local.received.set(k, (local.received.get(k) ?? 0) + 1);
  };
  const log = limitedLog();
  const at = (ms: number, fn: () => void) => setTimeout(fn, Math.max(0, t0 + ms - Date.now()));
  const rel = () => Date.now() - t0;
  // A counter that never got a sample is missing from k6's summary: zeros make "none" explicit.
  for (const c of [expected, firstArrivals, received, duplicated, reordered, lost, late, inWindow, connections, connectFailures, joinFailures, disconnects, reconnects, attempts, failedAttempts, neverBack, scheduled, published, publishFailures, lateSends, unexpected, clockAnomalies]) c.add(0);
  for (const path of ['same', 'cross']) for (const c of [expected, firstArrivals, received, duplicated, reordered, late]) c.add(0, { path });
  for (const cls of ['connected', 'disconnected', 'publisher_down']) lost.add(0, { class: cls });

  startLagProbe(t0, times.closeAt);

  // Lean mode: the VU's local counts, added once (after every connection of the VU closed).
  if (lean) {
    at(times.closeAt + 1, () => {
      for (const [k, n] of local.received) received.add(n, JSON.parse(k) as Record<string, string>);
      inWindow.add(local.inWindow);
    });
  }

  for (const g of connectionsOfVu(__VU, plan)) {
    const role = roleOf(g, plan);
    const room = roomName(role.room);
    const ledger = new ReceiverLedger();
    /** This connection's down spans (receiver: until joined; publisher: until welcomed). */
    const down: Span[] = [[NEVER, null]];
    let myNode = '';
    let client: WsbClient | null = null;
    let ending = false;
    let welcomedOnce = false;
    let drops = 0;
    let attempt = 0;
    let policy: ReconnectPolicy = reconnectMode === 'full-jitter' ? 'full-jitter' : 'socketio';
    let serverDelayMs = 0;
    let resumed = false;
    /** A publisher's sends of the last `margin` ms: [actual send, intended] (ms after t0). */
    const recent: Array<[number, number]> = [];
    const isDown = () => down.length > 0 && down[down.length - 1][1] === null;
    const up = () => {
      if (!isDown()) return;
      const span = down[down.length - 1];
      span[1] = rel();
      if (span[0] !== NEVER) {
        reconnectTime.add(Date.now() - t0 - span[0], storm ? { storm: policy } : {});
        reconnects.add(1);
      }
    };

    const onMsg = (d: unknown) => {
      const now = Date.now();
      const m = d as { room?: unknown; payload?: { pub?: unknown; seq?: unknown; t?: unknown; n?: unknown; d?: unknown } } | undefined;
      const p = m?.payload;
      if (role.role !== 'member' || m?.room !== room || !p || typeof p.pub !== 'number' || typeof p.seq !== 'number' || typeof p.t !== 'number') {
        unexpected.add(1);
        return;
      }
      const path: Path = p.n === myNode ? 'same' : 'cross';
      const w = windowOf(p.t - t0, plan.windows);
      const tags: Record<string, string> = w ? { path, window: w.name } : { path };
      const r = ledger.record(p.pub, p.seq, perPublisher, { path, pubDown: Array.isArray(p.d) ? (p.d as Span[]) : [] });
      if (r.kind === 'unexpected') {
        unexpected.add(1);
        return;
      }
      if (r.kind === 'duplicate') {
        duplicated.add(1, tags);
        return;
      }
      if (lean) countLocal(tags);
      else received.add(1, tags);
      if (r.kind === 'reordered') reordered.add(1, tags);
      if (w && w.fault && now - t0 >= w.toMs) late.add(1, { path });
      if (now >= t0 + times.measureFrom && now < t0 + times.measureTo) {
        if (lean) local.inWindow++;
        else inWindow.add(1);
      }
      if (path === 'cross' && !resumed && plan.resumeFromMs !== undefined && now - t0 >= plan.resumeFromMs) {
        resumed = true;
        crossResumeAt.add(now - t0);
      }
      // Warm-up messages are accounted, not timed (as the Node engine).
      if (p.t >= t0 + times.measureFrom && p.t < t0 + times.measureTo && (!lean || p.seq % lean.latencySampleEvery === 0)) {
        const ms = now - p.t;
        if (ms < 0) clockAnomalies.add(1);
        else latency.add(ms, tags);
      }
    };

    const publish = () => {
      if (role.role !== 'publisher') return;
      let seq = 0;
      const tick = () => {
        // Catch up on every message whose intended time has come: late sends carry their
        // intended t, so the delay shows as latency instead of as fewer samples.
        while (seq < perPublisher && t0 + sendAtMs(role.pub, seq, plan) <= Date.now()) {
          const intended = t0 + sendAtMs(role.pub, seq, plan);
          if (Date.now() - intended > LATE_MS) lateSends.add(1);
          scheduled.add(1);
          const payload: Record<string, unknown> = { pub: role.pub, seq, t: intended, n: myNode };
          // Only spans after the first connect matter to receivers (publishing starts after it).
          const spans = down.filter((s) => s[0] !== NEVER);
          if (spans.length) payload.d = spans;
          if (padding) payload.pad = padding;
          if (client && client.emit('publish', { room, payload })) {
            published.add(1);
            const now = rel();
            recent.push([now, intended - t0]);
            while (recent.length && recent[0][0] < now - margin) recent.shift();
          }
          else publishFailures.add(1);
          seq++;
        }
        if (seq < perPublisher) at(sendAtMs(role.pub, seq, plan), tick);
      };
      at(sendAtMs(role.pub, 0, plan), tick);
    };

    const retry = () => {
      if (ending || reconnectMode === 'none') return;
      // Seed 000: after `server_shutdown {reconnectDelay}` the client waits that long first.
      const delay = serverDelayMs > 0 ? serverDelayMs : reconnectDelayMs(policy, attempt, Math.random());
      serverDelayMs = 0;
      attempt++;
      setTimeout(() => connect(false), delay);
    };

    const connect = (first: boolean) => {
      if (ending) return;
      if (!first) attempts.add(1);
      const c: WsbClient = new WsbClient(env.protocol, env.url, tokens[g], {
        onWelcome(nodeId, ms) {
          myNode = nodeId;
          if (!welcomedOnce) {
            welcomedOnce = true;
            connections.add(1);
            perNode.add(1, { node: nodeId });
            connectTime.add(ms);
          }
          if (role.role !== 'member') {
            up();
            return;
          }
          c.request('join', { room }, (reply) => {
            const r = reply as { ok?: unknown; error?: unknown } | undefined;
            if (!r || r.ok !== true) {
              // `closed`: the connection dropped while joining; it reconnects and joins again.
              if (r && r.error === 'closed') return;
              joinFailures.add(1);
              log('join', `connection ${g}: join ${room} refused: ${JSON.stringify(reply)}`);
              return;
            }
            up();
          });
        },
        onEvent(event, d) {
          if (event === 'msg') onMsg(d);
          else if (event === 'server_shutdown') {
            const delay = (d as { reconnectDelay?: unknown } | undefined)?.reconnectDelay;
            if (typeof delay === 'number' && delay > 0) serverDelayMs = delay;
          }
        },
        onConnectFailed(cause, message) {
          if (first) {
            connectFailures.add(1, { cause });
            log(`connect-${cause}`, `connection ${g}: ${cause}: ${message}`);
            return;
          }
          failedAttempts.add(1);
          retry();
        },
        onClosed(byUs) {
          if (byUs || ending) return;
          disconnects.add(1);
          if (!isDown()) {
            // A publisher's span starts at the INTENDED time of what it sent in the last `margin` ms
            // (in flight when it dropped), however late its timers fired those sends.
            const now = rel();
            const inflight = recent.filter((r) => r[0] >= now - margin).map((r) => r[1] + margin);
            down.push([Math.min(now, ...inflight), null]);
            drops++;
            if (storm) policy = policyForDrop(drops);
            attempt = 0;
          }
          retry();
        },
      });
      client = c;
    };

    at(openAtMs(g, plan), () => connect(true));
    publish();
    at(times.closeAt, () => {
      ending = true;
      if (isDown() && down[down.length - 1][0] !== NEVER) neverBack.add(1);
      client?.close();
      if (role.role !== 'member') return;
      for (const cell of ledger.close({
        pubs: publishersOfRoom(role.room, plan),
        perPublisher,
        intendedMs: (pub, seq) => sendAtMs(pub, seq, plan),
        down,
        marginMs: margin,
        windows: plan.windows,
        endMs: times.closeAt,
      })) {
        const tags: Record<string, string> = cell.window ? { path: cell.path, window: cell.window } : { path: cell.path };
        expected.add(cell.expected, tags);
        firstArrivals.add(cell.received, tags);
        for (const cls of ['connected', 'disconnected', 'publisher_down'] as const) if (cell.lost[cls] > 0) lost.add(cell.lost[cls], { ...tags, class: cls });
      }
    });
  }
}
