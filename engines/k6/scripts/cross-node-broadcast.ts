/**
 * cross-node-broadcast for k6: the Node engine's scenario (scenarios/cross-node-broadcast.ts) as a
 * k6 script, run by `wsbench run cross-node-broadcast --engine k6`.
 *
 * Connections 0…C−1 are dealt to VUs round-robin; the first rooms × publishersPerRoom publish
 * (they do not join), the others join one room each (lib/plan.ts). Every VU counts from setup()'s
 * t0: connections open at connectRate; publishing starts when every connection should be up and
 * joined (+ settle), runs warm-up + duration at `rate` per publisher on a fixed schedule, then
 * drains and closes. Each payload is `{pub, seq, t, n}` with `t` the INTENDED send time (epoch ms)
 * and `n` the publisher's node, so a stalled publisher shows as latency (no coordinated omission).
 *
 * Differences from the Node engine, all from k6: `Date.now()` only (latency in whole ms, send
 * and receive on the same wall clock of one process); percentiles are k6's Trend over every
 * sample (no HDR histogram); VUs cannot coordinate, so the phases are a shared schedule instead of
 * barriers (a connection that joins after publishing began misses messages and they count lost).
 *
 * Metrics (k6 names; reports/k6-summary.ts maps them to the report):
 *   broadcast_latency_ms  Trend, tag path=same|cross (receiver on the publisher's node or not),
 *                         deliveries of messages intended in the measured window only
 *   connect_time_ms       Trend: new WebSocket → welcome
 *   deliveries_expected   Counter: each send adds the planned members of its room
 *   deliveries_expected_seen{path}  each stream a receiver hears from adds its scheduled count
 *   deliveries_received / _duplicated / _reordered {path}, deliveries_in_window (measured window)
 *   connections, connections_per_node{node}, connect_failures{cause}, join_failures, disconnects,
 *   messages_published, publish_failures, late_sends (> 10 ms behind schedule),
 *   unexpected_arrivals, clock_anomalies (negative latency)
 */
import { Counter, Trend } from 'k6/metrics';
import { setTimeout } from 'k6/timers';
import { WsbClient } from './lib/client';
import { ReceiverLedger } from './lib/ledger';
import { k6Options, limitedLog, loadTokens, scriptEnv, sharedStart, writeSummary, type SetupData } from './lib/common';
import { broadcastTimes, connectionsOfVu, membersOfRoom, messagesPerPublisher, openAtMs, roleOf, roomName, sendAtMs, type BroadcastPlan } from './lib/plan';

const env = scriptEnv('cross-node-broadcast');
const plan = env.plan as BroadcastPlan;
const tokens = loadTokens(env);

export const options = k6Options(env);

const latency = new Trend('broadcast_latency_ms', true);
const connectTime = new Trend('connect_time_ms', true);
const expected = new Counter('deliveries_expected');
const expectedSeen = new Counter('deliveries_expected_seen');
const received = new Counter('deliveries_received');
const duplicated = new Counter('deliveries_duplicated');
const reordered = new Counter('deliveries_reordered');
const inWindow = new Counter('deliveries_in_window');
const connections = new Counter('connections');
const perNode = new Counter('connections_per_node');
const connectFailures = new Counter('connect_failures');
const joinFailures = new Counter('join_failures');
const disconnects = new Counter('disconnects');
const published = new Counter('messages_published');
const publishFailures = new Counter('publish_failures');
const lateSends = new Counter('late_sends');
const unexpected = new Counter('unexpected_arrivals');
const clockAnomalies = new Counter('clock_anomalies');

const LATE_MS = 10;

export function setup(): SetupData {
  return sharedStart();
}

export default function (data: SetupData): void {
  const t0 = data.t0;
  const times = broadcastTimes(plan);
  const perPublisher = messagesPerPublisher(plan);
  const padding = plan.payloadBytes > 0 ? 'x'.repeat(plan.payloadBytes) : '';
  const log = limitedLog();
  const at = (ms: number, fn: () => void) => setTimeout(fn, Math.max(0, t0 + ms - Date.now()));
  // A counter that never got a sample is missing from k6's summary: zeros make "none" explicit.
  for (const c of [expected, received, duplicated, reordered, inWindow, connections, connectFailures, joinFailures, disconnects, published, publishFailures, lateSends, unexpected, clockAnomalies]) c.add(0);
  for (const path of ['same', 'cross']) for (const c of [expectedSeen, received, duplicated, reordered]) c.add(0, { path });

  for (const g of connectionsOfVu(__VU, plan)) {
    const role = roleOf(g, plan);
    const room = roomName(role.room);
    const ledger = new ReceiverLedger();
    let myNode = '';
    let client: WsbClient | null = null;

    const onMsg = (d: unknown) => {
      const now = Date.now();
      const m = d as { room?: unknown; payload?: { pub?: unknown; seq?: unknown; t?: unknown; n?: unknown } } | undefined;
      const p = m?.payload;
      if (role.role !== 'member' || m?.room !== room || !p || typeof p.pub !== 'number' || typeof p.seq !== 'number' || typeof p.t !== 'number') {
        unexpected.add(1);
        return;
      }
      const path = p.n === myNode ? 'same' : 'cross';
      const tags = { path };
      const r = ledger.record(p.pub, p.seq, perPublisher);
      if (r.kind === 'unexpected') {
        unexpected.add(1);
        return;
      }
      if (r.firstOfStream) expectedSeen.add(perPublisher, tags);
      if (r.kind === 'duplicate') {
        duplicated.add(1, tags);
        return;
      }
      received.add(1, tags);
      if (r.kind === 'reordered') reordered.add(1, tags);
      if (now >= t0 + times.measureFrom && now < t0 + times.measureTo) inWindow.add(1);
      // Warm-up messages are accounted, not timed (as the Node engine).
      if (p.t >= t0 + times.measureFrom && p.t < t0 + times.measureTo) {
        const ms = now - p.t;
        if (ms < 0) clockAnomalies.add(1);
        else latency.add(ms, tags);
      }
    };

    const publish = () => {
      if (role.role !== 'publisher') return;
      const members = membersOfRoom(role.room, plan);
      let seq = 0;
      const tick = () => {
        // Catch up on every message whose intended time has come: late sends carry their
        // intended t, so the delay shows as latency instead of as fewer samples.
        while (seq < perPublisher && t0 + sendAtMs(role.pub, seq, plan) <= Date.now()) {
          const intended = t0 + sendAtMs(role.pub, seq, plan);
          if (Date.now() - intended > LATE_MS) lateSends.add(1);
          const payload: Record<string, unknown> = { pub: role.pub, seq, t: intended, n: myNode };
          if (padding) payload.pad = padding;
          if (client && client.emit('publish', { room, payload })) {
            published.add(1);
            expected.add(members);
          } else {
            publishFailures.add(1);
          }
          seq++;
        }
        if (seq < perPublisher) at(sendAtMs(role.pub, seq, plan), tick);
      };
      at(sendAtMs(role.pub, 0, plan), tick);
    };

    at(openAtMs(g, plan), () => {
      client = new WsbClient(env.protocol, env.url, tokens[g], {
        onWelcome(nodeId, ms) {
          myNode = nodeId;
          connections.add(1);
          perNode.add(1, { node: nodeId });
          connectTime.add(ms);
          if (role.role === 'member') {
            client?.request('join', { room }, (reply) => {
              const r = reply as { ok?: unknown; error?: unknown } | undefined;
              if (!r || r.ok !== true) {
                joinFailures.add(1);
                log('join', `connection ${g}: join ${room} refused: ${JSON.stringify(reply)}`);
              }
            });
          }
        },
        onEvent(event, d) {
          if (event === 'msg') onMsg(d);
        },
        onConnectFailed(cause, message) {
          connectFailures.add(1, { cause });
          log(`connect-${cause}`, `connection ${g}: ${cause}: ${message}`);
        },
        onClosed(byUs) {
          if (!byUs) disconnects.add(1);
        },
      });
    });
    publish();
    at(times.closeAt, () => client?.close());
  }
}

export function handleSummary(data: unknown): Record<string, string> | undefined {
  return writeSummary(env, data);
}
