import crossNodeBroadcast from './cross-node-broadcast.js';
import nodeKill from './node-kill.js';
import redisOutage from './redis-outage.js';
import rollingRestart from './rolling-restart.js';
import reconnectionStorm from './reconnection-storm.js';
import connectionCapacity from './connection-capacity.js';
import throughput from './throughput.js';
import securityProbes from './security-probes.js';
import type { Scenario } from './define.js';

export * from './define.js';

/** Every Node-engine scenario, by name. */
export const SCENARIOS: Record<string, Scenario<any>> = Object.fromEntries(
  [crossNodeBroadcast, connectionCapacity, throughput, nodeKill, redisOutage, rollingRestart, reconnectionStorm, securityProbes].map((s) => [s.name, s]),
);
