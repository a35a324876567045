import crossNodeBroadcast from './cross-node-broadcast.js';
import type { Scenario } from './define.js';

export * from './define.js';

/** Every Node-engine scenario, by name. */
export const SCENARIOS: Record<string, Scenario<any>> = {
  [crossNodeBroadcast.name]: crossNodeBroadcast,
};
