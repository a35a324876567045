/**
 * reconnection-storm for k6 (`wsbench run reconnection-storm --engine k6`), after the Node
 * engine's scenario (scenarios/reconnection-storm.ts): every connection drops at once, twice —
 * the HARNESS stops and restarts NGINX (engines/k6/scenarios.ts, timed from the `WSB_T0=` line
 * setup() prints; the second storm once every client is back and `gap` seconds more). Each client
 * reconnects with socket.io-client's default backoff after its first drop and with seed 001's
 * full-jitter backoff after its second (lib/plan.ts policyForDrop), as the Node engine's two storms
 * do, and rejoins its room; `reconnect_time_ms` (tag storm=socketio|full-jitter) is its drop →
 * rejoin ack, in whole ms. Clients stay `durationMs` after the connect phase (+ drain), then close;
 * one still down then counts in never_back. No messages are published: the Node engine's loss
 * classification (no-loss-while-connected) has no k6 counterpart.
 *
 * Metrics: reconnect_time_ms{storm}, connect_time_ms (Trends); connections, connections_per_node
 * {node} (first connects), connect_failures{cause}, disconnects, reconnects, reconnect_attempts,
 * reconnect_failures (attempts that got no welcome), join_failures, never_back.
 */
import { Counter, Trend } from 'k6/metrics';
import { setTimeout } from 'k6/timers';
import { WsbClient } from './lib/client';
import { k6Options, limitedLog, loadTokens, scriptEnv, sharedStart, writeSummary, type SetupData } from './lib/common';
import { connectionsOfVu, openAtMs, policyForDrop, reconnectDelayMs, roomName, stormEndMs, type ReconnectPolicy, type StormPlan } from './lib/plan';

const env = scriptEnv('reconnection-storm');
const plan = env.plan as StormPlan;
const tokens = loadTokens(env);

export const options = k6Options(env);

const reconnectTime = new Trend('reconnect_time_ms', true);
const connectTime = new Trend('connect_time_ms', true);
const connections = new Counter('connections');
const perNode = new Counter('connections_per_node');
const connectFailures = new Counter('connect_failures');
const disconnects = new Counter('disconnects');
const reconnects = new Counter('reconnects');
const attempts = new Counter('reconnect_attempts');
const failedAttempts = new Counter('reconnect_failures');
const joinFailures = new Counter('join_failures');
const neverBack = new Counter('never_back');

export function setup(): SetupData {
  return sharedStart();
}

export default function (data: SetupData): void {
  const t0 = data.t0;
  const log = limitedLog();
  const at = (ms: number, fn: () => void) => setTimeout(fn, Math.max(0, t0 + ms - Date.now()));
  // A counter that never got a sample is missing from k6's summary: zeros make "none" explicit.
  for (const c of [connections, connectFailures, disconnects, reconnects, attempts, failedAttempts, joinFailures, neverBack]) c.add(0);

  for (const g of connectionsOfVu(__VU, plan)) {
    const room = roomName(g % plan.rooms);
    let ending = false;
    let client: WsbClient | null = null;
    let downSince: number | null = null;
    let drops = 0;
    let policy: ReconnectPolicy = 'socketio';
    let attempt = 0;
    let serverDelayMs = 0;

    const retry = () => {
      if (ending) return;
      // Seed 000: after `server_shutdown {reconnectDelay}` the client waits that long first.
      const delay = serverDelayMs > 0 ? serverDelayMs : reconnectDelayMs(policy, attempt, Math.random());
      serverDelayMs = 0;
      attempt++;
      setTimeout(() => connect(false), delay);
    };

    const connect = (first: boolean) => {
      if (ending) return;
      if (!first) attempts.add(1);
      const c = new WsbClient(env.protocol, env.url, tokens[g], {
        onWelcome(nodeId, ms) {
          if (first) {
            connections.add(1);
            perNode.add(1, { node: nodeId });
            connectTime.add(ms);
          }
          c.request('join', { room }, (reply) => {
            const r = reply as { ok?: unknown } | undefined;
            if (!r || r.ok !== true) {
              joinFailures.add(1);
              log('join', `connection ${g}: join ${room} refused: ${JSON.stringify(reply)}`);
              return;
            }
            if (downSince !== null) {
              reconnectTime.add(Date.now() - downSince, { storm: policy });
              reconnects.add(1);
              downSince = null;
            }
          });
        },
        onEvent(event, d) {
          if (event === 'server_shutdown') {
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
          if (downSince === null) {
            downSince = Date.now();
            drops++;
            policy = policyForDrop(drops);
            attempt = 0;
          }
          retry();
        },
      });
      client = c;
    };

    at(openAtMs(g, plan), () => connect(true));
    at(stormEndMs(plan), () => {
      ending = true;
      if (downSince !== null) neverBack.add(1);
      client?.close();
    });
  }
}

export function handleSummary(data: unknown): Record<string, string> | undefined {
  return writeSummary(env, data);
}
