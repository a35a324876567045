import { z } from 'zod';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineScenario } from './define.js';
import { broadcastFlags, broadcastShape, broadcastTopology, runBroadcast, validateBroadcast, type BroadcastHooks, type BroadcastOptions } from './broadcast-workload.js';

const options = z
  .object({
    ...broadcastShape,
    /**
     * Calibration of the per-node tables: SIGSTOP this node (`node-2`) during the measured phase,
     * SIGCONT it `pauseMs` later (default: no pause). Its receivers must stand out in the report.
     */
    pauseNode: z.string().regex(/^node-\d+$/, 'must be a node id like node-2').optional(),
    /** Seconds into the measured phase when the node is paused (default 2). */
    pauseAt: z.number().min(0).max(86_400).default(2),
    /** How long the node stays paused, ms (default 2000). */
    pauseMs: z.number().int().min(1).max(600_000).default(2000),
  })
  .strict();
type Options = z.infer<typeof options>;

/** The pause as a chaos schedule: pause, wait, resume, and a `pause` fault window between. */
function pauseHooks(o: Options): BroadcastHooks {
  if (o.pauseNode === undefined) return {};
  const node = o.pauseNode;
  return {
    chaos: async (api) => {
      await api.at(o.pauseAt);
      const paused = await api.act({ type: 'pause-node', node });
      await sleep(Math.max(0, o.pauseMs - (paused.endUs - paused.startUs) / 1000), undefined, { signal: api.signal });
      const resumed = await api.act({ type: 'resume-node', node });
      api.fault({ name: 'pause', startUs: paused.startUs, endUs: resumed.endUs, actionEndUs: resumed.endUs });
    },
  };
}

/**
 * Seed 004's "Real-time messages delivered within 50ms", across nodes: C connections in R rooms,
 * every room with members on every node, P publishers per room publishing at a fixed rate; every
 * receiver times every message from its intended send time and the ledger accounts for every
 * expected delivery.
 */
export default defineScenario<Options>({
  name: 'cross-node-broadcast',
  describe: 'Room broadcasts that cross nodes through Redis: latency at every receiver, every delivery accounted',
  options,
  flags: [
    ...(broadcastFlags as Array<{ key: keyof Options & string; flag: string; description: string }>),
    { key: 'pauseNode', flag: '--pause-node <id>', description: 'calibration: SIGSTOP this node during the measured phase, to see it stand out per node (default none)' },
    { key: 'pauseAt', flag: '--pause-at <s>', description: 'calibration: seconds into the measured phase to pause it (default 2)' },
    { key: 'pauseMs', flag: '--pause-ms <ms>', description: 'calibration: how long it stays paused (default 2000)' },
  ],
  metrics: ['broadcast_latency_ms', 'broadcast_latency_same_node_ms', 'broadcast_latency_cross_node_ms', 'connect_time_ms'],
  targets: ['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order', 'no-leak'],
  shardable: true,
  // The quick start's run: three shorter runs judged on the median, so that one stall of a second
  // (12 % of an 8 s run's samples, enough to break its p99) cannot flip the verdict (docs/repeats.md).
  defaultRepeat: { count: 3, duration: 8 },
  validate(o, t) {
    const problems = validateBroadcast(o as BroadcastOptions, t);
    if (o.pauseNode !== undefined) {
      const n = Number(o.pauseNode.slice(5));
      if (n < 1 || n > t.nodes) problems.push(`--pause-node ${o.pauseNode}: the cluster has node-1 … node-${t.nodes}`);
      if (o.pauseAt >= o.duration) problems.push(`--pause-at ${o.pauseAt} must fall inside --duration ${o.duration}`);
    }
    return problems;
  },
  topology: (o) => broadcastTopology(o as BroadcastOptions),
  run: (ctx) => runBroadcast(ctx as never, pauseHooks(ctx.options)),
});
