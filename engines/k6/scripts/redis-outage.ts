/**
 * redis-outage for k6 (`wsbench run redis-outage --engine k6`): the broadcast workload
 * (lib/broadcast.ts) while the HARNESS stops Redis `outageAt` seconds into the measured phase for
 * `outage` seconds, on the script's clock (engines/k6/chaos.ts). The plan's windows (before /
 * redis-outage / after, by intended send time) are accounted separately, same-node and cross-node;
 * `cross_resume_at_ms` times the first cross-node arrival after the planned end.
 */
import { runBroadcastVu } from './lib/broadcast';
import { k6Options, loadTokens, scriptEnv, sharedStart, writeSummary, type SetupData } from './lib/common';

const env = scriptEnv('redis-outage');
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
