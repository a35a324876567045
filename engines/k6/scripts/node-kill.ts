/**
 * node-kill for k6 (`wsbench run node-kill --engine k6`): the broadcast workload (lib/broadcast.ts)
 * while the HARNESS SIGKILLs one node `killAt` seconds into the measured phase, on the script's
 * clock (engines/k6/chaos.ts, timed from the `WSB_T0=` line). The killed node's clients reconnect
 * with the plan's policy (socket.io-client's by default) through NGINX to the survivors and rejoin;
 * every missing delivery is classified (lost while the receiver or the publisher was down, or while
 * both were connected: the cluster's failure).
 */
import { runBroadcastVu } from './lib/broadcast';
import { k6Options, loadTokens, scriptEnv, sharedStart, writeSummary, type SetupData } from './lib/common';

const env = scriptEnv('node-kill');
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
