import { z } from 'zod';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineScenario } from './define.js';
import { broadcastFlags, broadcastShape, broadcastTopology, runBroadcast, validateBroadcast, type BroadcastOptions } from './broadcast-workload.js';

const options = z
  .object({
    ...broadcastShape,
    duration: broadcastShape.duration.default(25),
    /** Seconds into the measured phase of the first storm (default 3). */
    stormAt: z.number().min(0).default(3),
    /** Seconds between the clients being back and the second storm (default 3). */
    gap: z.number().min(0).max(600).default(3),
  })
  .strict();
type Options = z.infer<typeof options>;

/**
 * Every connection drops at once (NGINX stopped and started again), twice: first with
 * socket.io-client's default backoff, then with seed 001's full-jitter backoff, side by side:
 * time to 99 % / 100 % reconnected, accepts per 100 ms (peak and mean), failed attempts.
 */
export default defineScenario<Options>({
  name: 'reconnection-storm',
  describe: 'Drop every connection at once (nginx stop/start), twice: socket.io-client default backoff vs full jitter, side by side',
  options,
  flags: [
    ...(broadcastFlags as Array<{ key: keyof Options & string; flag: string; description: string }>).map((f) => (f.key === 'duration' ? { ...f, description: 'measured seconds of publishing (default 25)' } : f)),
    { key: 'stormAt', flag: '--storm-at <s>', description: '[reconnection-storm] seconds into the measured phase of the first storm (default 3)' },
    { key: 'gap', flag: '--gap <s>', description: '[reconnection-storm] seconds between recovery and the second storm (default 3)' },
  ],
  metrics: ['reconnect_time_ms', 'broadcast_latency_ms'],
  targets: ['reconnect-all', 'no-loss-while-connected', 'no-leak'],
  needsClusterControl: 'stops and starts the load balancer (nginx)',
  validate: (o, t) => validateBroadcast(o as BroadcastOptions, t),
  topology: (o) => broadcastTopology(o as BroadcastOptions),
  run: (ctx) =>
    runBroadcast(ctx as never, {
      chaos: async (api) => {
        await api.at(ctx.options.stormAt);
        for (const policy of ['socketio', 'full-jitter'] as const) {
          await api.setReconnect(policy);
          const stop = await api.act({ type: 'stop-lb' });
          const start = await api.act({ type: 'start-lb' });
          api.fault({ name: `storm-${policy}`, startUs: stop.startUs, endUs: 'auto', actionEndUs: stop.endUs });
          await api.allBack(start.endUs, 40_000);
          if (policy === 'socketio') await sleep(ctx.options.gap * 1000, undefined, { signal: api.signal });
        }
      },
    }),
});
