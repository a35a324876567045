import { z } from 'zod';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineScenario } from './define.js';
import { broadcastFlags, broadcastShape, broadcastTopology, runBroadcast, validateBroadcast, type BroadcastOptions } from './broadcast-workload.js';

const options = z
  .object({
    ...broadcastShape,
    duration: broadcastShape.duration.default(30),
    /** Seconds into the measured phase when the first node is stopped (default 3). */
    firstAt: z.number().min(0).default(3),
    /** Seconds to let the cluster settle after a node is back before stopping the next (default 2). */
    settle: z.number().min(0).max(600).default(2),
  })
  .strict();
type Options = z.infer<typeof options>;

/**
 * Seed 001 "Graceful Shutdown: notifies clients before restart, allows reconnection to other
 * instances": each node in turn gets SIGTERM (it says `server_shutdown` and closes), is started
 * again, and the next one follows once every client is back.
 */
export default defineScenario<Options>({
  name: 'rolling-restart',
  describe: 'Graceful SIGTERM and restart of each node in turn under broadcast load: reconnects per client and loss',
  options,
  flags: [
    ...(broadcastFlags as Array<{ key: keyof Options & string; flag: string; description: string }>).map((f) => (f.key === 'duration' ? { ...f, description: 'measured seconds of publishing (default 30)' } : f)),
    { key: 'firstAt', flag: '--first-at <s>', description: '[rolling-restart] seconds into the measured phase to stop the first node (default 3)' },
    { key: 'settle', flag: '--settle <s>', description: '[rolling-restart] seconds between a node being back and the next stop (default 2)' },
  ],
  metrics: ['broadcast_latency_ms', 'reconnect_time_ms'],
  targets: ['reconnect-all', 'no-loss-while-connected', 'no-duplicates', 'no-leak', 'chaos-applied'],
  needsClusterControl: 'stops (SIGTERM) and restarts every node in turn',
  validate: (o, t) => validateBroadcast(o as BroadcastOptions, t),
  topology: (o) => broadcastTopology(o as BroadcastOptions),
  async run(ctx) {
    const out = await runBroadcast(ctx as never, {
      chaos: async (api) => {
        await api.at(ctx.options.firstAt);
        for (const node of api.cluster.nodes) {
          const stop = await api.act({ type: 'stop-node', node: node.id });
          api.fault({ name: `restart-${node.id}`, startUs: stop.startUs, endUs: 'auto', actionEndUs: stop.endUs });
          const start = await api.act({ type: 'start-node', node: node.id });
          await api.allBack(start.endUs, 20_000);
          await sleep(ctx.options.settle * 1000, undefined, { signal: api.signal });
        }
      },
    });
    const perClient = new Map<number, number>();
    for (const d of out.disconnections) perClient.set(d.id, (perClient.get(d.id) ?? 0) + 1);
    const counts = [...perClient.values()];
    out.counters.clients_disconnected = counts.length;
    out.counters.reconnects_per_client_max = counts.length ? Math.max(...counts) : 0;
    out.counters.reconnects_per_client_mean_x100 = counts.length ? Math.round((counts.reduce((a, b) => a + b, 0) / ctx.options.connections) * 100) : 0;
    return out;
  },
});
