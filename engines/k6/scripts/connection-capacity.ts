/**
 * connection-capacity for k6 (`wsbench run connection-capacity --engine k6`): seed 004's
 * "Support 10,000+ concurrent WebSocket connections". Every connection opens on the shared
 * schedule (connectRate across all VUs), waits for `welcome`, and is held; once every connection
 * should be up (+ settle) each one checks that it is still open — the count of those that are is
 * `connections_open_at_check`, open at that one instant (a connection welcomed later is not in it;
 * the report's `connections_peak` is the nodes' own count, sampled every second by the harness:
 * engines/k6/process-monitor.ts) — and sends one `ping` with an
 * ack (`ping_rtt_ms`: the cluster still answers at that load). Then all are held `holdMs` longer
 * and closed.
 *
 * Metrics: connect_time_ms (Trend, new WebSocket → welcome, whole ms), ping_rtt_ms (Trend),
 * connections, connections_open_at_check, connections_per_node{node}, connect_failures{cause},
 * disconnects (closed by the server during the hold).
 */
import { Counter, Trend } from 'k6/metrics';
import { setTimeout } from 'k6/timers';
import { WsbClient } from './lib/client';
import { k6Options, limitedLog, loadTokens, scriptEnv, sharedStart, startLagProbe, writeSummary, type SetupData } from './lib/common';
import { connectedByMs, connectionsOfVu, openAtMs, type CapacityPlan } from './lib/plan';

const env = scriptEnv('connection-capacity');
const plan = env.plan as CapacityPlan;
const tokens = loadTokens(env);

export const options = k6Options(env);

const connectTime = new Trend('connect_time_ms', true);
const pingRtt = new Trend('ping_rtt_ms', true);
const connections = new Counter('connections');
const peak = new Counter('connections_open_at_check');
const perNode = new Counter('connections_per_node');
const connectFailures = new Counter('connect_failures');
const disconnects = new Counter('disconnects');

export function setup(): SetupData {
  return sharedStart();
}

export default function (data: SetupData): void {
  const t0 = data.t0;
  const log = limitedLog();
  const at = (ms: number, fn: () => void) => setTimeout(fn, Math.max(0, t0 + ms - Date.now()));
  const checkAt = connectedByMs(plan);
  // A counter that never got a sample is missing from k6's summary: zeros make "none" explicit.
  for (const c of [connections, peak, connectFailures, disconnects]) c.add(0);
  startLagProbe(t0, checkAt + plan.holdMs);

  for (const g of connectionsOfVu(__VU, plan)) {
    let client: WsbClient | null = null;
    at(openAtMs(g, plan), () => {
      client = new WsbClient(env.protocol, env.url, tokens[g], {
        onWelcome(nodeId, ms) {
          connections.add(1);
          perNode.add(1, { node: nodeId });
          connectTime.add(ms);
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
    at(checkAt, () => {
      if (!client || !client.connected) return;
      peak.add(1);
      const sent = Date.now();
      client.request('ping', { t: sent }, (reply) => {
        const r = reply as { nodeId?: unknown } | undefined;
        if (r && typeof r.nodeId === 'string') pingRtt.add(Date.now() - sent);
      });
    });
    at(checkAt + plan.holdMs, () => client?.close());
  }
}

export function handleSummary(data: unknown): Record<string, string> | undefined {
  return writeSummary(env, data);
}
