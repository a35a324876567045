import { z } from 'zod';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineScenario } from './define.js';
import { broadcastFlags, broadcastShape, broadcastTopology, runBroadcast, validateBroadcast, type BroadcastOptions } from './broadcast-workload.js';

const options = z
  .object({
    ...broadcastShape,
    duration: broadcastShape.duration.default(15),
    /** Seconds into the measured phase when Redis stops (default 4). */
    outageAt: z.number().min(0).default(4),
    /** Seconds Redis stays down (default 5). */
    outage: z.number().positive().max(600).default(5),
  })
  .strict();
type Options = z.infer<typeof options>;

/**
 * Seed 002 "Local operations continue during Redis outages": Redis stops for a while under
 * broadcast load. Same-node deliveries should go on; cross-node ones stop, and come late or never.
 * The report gives both per window, late versus lost, and when cross-node delivery resumed.
 */
export default defineScenario<Options>({
  name: 'redis-outage',
  describe: 'Stop Redis for a while under broadcast load: same-node vs cross-node delivery during the outage, late vs lost, time until cross-node delivery resumes',
  options,
  flags: [
    ...(broadcastFlags as Array<{ key: keyof Options & string; flag: string; description: string }>).map((f) => (f.key === 'duration' ? { ...f, description: 'measured seconds of publishing (default 15)' } : f)),
    { key: 'outageAt', flag: '--outage-at <s>', description: '[redis-outage] seconds into the measured phase to stop Redis (default 4)' },
    { key: 'outage', flag: '--outage <s>', description: '[redis-outage] seconds Redis stays down (default 5)' },
  ],
  metrics: ['broadcast_latency_ms', 'broadcast_latency_cross_node_ms'],
  targets: ['same-node-during-redis-outage', 'cross-node-resumes', 'no-leak'],
  needsClusterControl: 'stops and starts Redis',
  validate(o, t) {
    const problems = validateBroadcast(o as BroadcastOptions, t);
    if (o.outageAt + o.outage >= o.duration) problems.push(`--outage-at ${o.outageAt} + --outage ${o.outage} must end inside --duration ${o.duration}`);
    return problems;
  },
  topology: (o) => broadcastTopology(o as BroadcastOptions),
  async run(ctx) {
    let backUs = 0;
    const out = await runBroadcast(ctx as never, {
      chaos: async (api) => {
        await api.at(ctx.options.outageAt);
        const stop = await api.act({ type: 'stop-redis' });
        await sleep(ctx.options.outage * 1000, undefined, { signal: api.signal });
        const start = await api.act({ type: 'start-redis' });
        backUs = start.endUs;
        api.fault({ name: 'redis-outage', startUs: stop.startUs, endUs: start.endUs, actionEndUs: start.endUs });
      },
    });
    // When cross-node traffic flowed again: the first 100 ms bin after Redis returned with a
    // cross-node arrival.
    const bins = [...out.crossArrivalBins.keys()].filter((b) => (b + 1) * 100_000 > backUs).sort((a, b) => a - b);
    if (backUs > 0) {
      // Absent (→ target unknown) when it never resumed.
      if (bins.length) out.counters.cross_node_resumed_after_ms = Math.max(0, Math.round((bins[0] * 100_000 - backUs) / 1000));
      else out.notes = [...(out.notes ?? []), 'cross-node delivery did not resume before the run ended'];
      out.counters.redis_back_at_ms = Math.round((backUs - out.measureFromUs) / 1000);
    }
    return out;
  },
});
