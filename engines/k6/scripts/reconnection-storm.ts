/**
 * reconnection-storm for k6 (`wsbench run reconnection-storm --engine k6`), after the Node
 * engine's scenario: the broadcast workload (lib/broadcast.ts, publishing as the Node engine does,
 * so no-loss-while-connected is measured) while the HARNESS stops and restarts NGINX twice
 * (engines/k6/chaos.ts: every connection drops at once). Each client reconnects with
 * socket.io-client's default backoff after its first drop and with seed 001's full jitter after
 * its second (plan `reconnect: storm`), and rejoins; `reconnect_time_ms{storm}` is its drop →
 * rejoin, in whole ms.
 */
import { runBroadcastVu } from './lib/broadcast';
import { k6Options, loadTokens, scriptEnv, sharedStart, writeSummary, type SetupData } from './lib/common';

const env = scriptEnv('reconnection-storm');
const tokens = loadTokens(env);

export const options = k6Options(env);

export function setup(): SetupData {
  return sharedStart();
}

export default function (data: SetupData): void {
  runBroadcastVu(env, tokens, data.t0);
}

export function handleSummary(data: unknown): Record<string, string> | undefined {
  return writeSummary(env, data);
}
