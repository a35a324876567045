/**
 * cross-node-broadcast for k6: the Node engine's scenario (scenarios/cross-node-broadcast.ts) as a
 * k6 script, run by `wsbench run cross-node-broadcast --engine k6`. The workload, its schedule and
 * its metrics are lib/broadcast.ts's; no faults.
 */
import { runBroadcastVu } from './lib/broadcast';
import { k6Options, loadTokens, scriptEnv, sharedStart, writeSummary, type SetupData } from './lib/common';

const env = scriptEnv('cross-node-broadcast');
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
