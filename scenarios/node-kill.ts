import { z } from 'zod';
import { defineScenario } from './define.js';
import { broadcastFlags, broadcastShape, broadcastTopology, runBroadcast, validateBroadcast, type BroadcastOptions } from './broadcast-workload.js';

const options = z
  .object({
    ...broadcastShape,
    /** Measured seconds of publishing (default 15). */
    duration: broadcastShape.duration.default(15),
    /** Seconds into the measured phase when the node is killed (default 5). */
    killAt: z.number().min(0).default(5),
    /** Node to SIGKILL (default node-1). */
    node: z.string().regex(/^node-\d+$/, 'must be a node id like node-2').default('node-1'),
    /** Start the killed node again this many seconds after the kill (default: never). */
    restartAfter: z.number().min(0).optional(),
  })
  .strict();
type Options = z.infer<typeof options>;

/**
 * Seed 004 "Automatic reconnection within 5 seconds" and seed 002 "Automatic failover when
 * instances go down": the broadcast runs, one node is SIGKILLed; the report says how long its
 * clients took to come back (and where they landed), what they lost while away, and whether any
 * client that stayed connected to a surviving node lost anything.
 */
export default defineScenario<Options>({
  name: 'node-kill',
  describe: 'Kill one node (SIGKILL) under broadcast load: time until its clients are back, loss split by who was disconnected',
  options,
  flags: [
    ...(broadcastFlags as Array<{ key: keyof Options & string; flag: string; description: string }>).map((f) => (f.key === 'duration' ? { ...f, description: 'measured seconds of publishing (default 15)' } : f)),
    { key: 'killAt', flag: '--kill-at <s>', description: '[node-kill] seconds into the measured phase to kill the node (default 5)' },
    { key: 'node', flag: '--node <id>', description: '[node-kill] node to kill (default node-1)' },
    { key: 'restartAfter', flag: '--restart-after <s>', description: '[node-kill] start the node again this many seconds after the kill (default never)' },
  ],
  metrics: ['broadcast_latency_ms', 'reconnect_time_ms', 'connect_time_ms'],
  targets: ['reconnect-all', 'no-loss-while-connected', 'no-duplicates', 'no-leak', 'chaos-applied'],
  needsClusterControl: 'SIGKILLs a node (and may start it again)',
  validate(o, t) {
    const problems = validateBroadcast(o as BroadcastOptions, t);
    const n = Number(o.node.slice(5));
    if (n < 1 || n > t.nodes) problems.push(`--node ${o.node}: the cluster has node-1 … node-${t.nodes}`);
    if (o.killAt >= o.duration) problems.push(`--kill-at ${o.killAt} must fall inside --duration ${o.duration}`);
    return problems;
  },
  topology: (o) => broadcastTopology(o as BroadcastOptions),
  run: (ctx) =>
    runBroadcast(ctx as never, {
      chaos: async (api) => {
        const o = ctx.options;
        await api.at(o.killAt);
        const kill = await api.act({ type: 'kill-node', node: o.node });
        api.fault({ name: 'kill', startUs: kill.startUs, endUs: 'auto', actionEndUs: kill.endUs });
        if (o.restartAfter !== undefined) {
          await api.at(o.killAt + o.restartAfter);
          await api.act({ type: 'start-node', node: o.node });
        }
      },
    }),
});
