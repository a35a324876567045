import { z } from 'zod';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineScenario } from './define.js';
import { broadcastFlags, broadcastShape, broadcastTopology, runBroadcast, validateBroadcast, type BroadcastOptions } from './broadcast-workload.js';
import { outageAccounting } from './redis-outage-accounting.js';

const options = z
  .object({
    ...broadcastShape,
    duration: broadcastShape.duration.default(15),
    /** Seconds into the measured phase when Redis stops (default 4). */
    outageAt: z.number().min(0).default(4),
    /** Seconds Redis stays down (default 5). */
    outage: z.number().positive().max(600).default(5),
    /**
     * Seconds after Redis is back during which losses still count as the outage's (default 2). The
     * nodes' Redis clients retry at most every 1 s (ioredis retryStrategy min(n × 100, 1000) ms in
     * reference-server/), then pass the ready check and re-SUBSCRIBE: 2 s is one full retry
     * interval plus the handshake, with margin. After it, the cluster must lose nothing again.
     */
    settle: z.number().min(0).max(600).default(2),
  })
  .strict();
type Options = z.infer<typeof options>;

/**
 * Seed 002 "Local operations continue during Redis outages": Redis stops for a while under
 * broadcast load. Same-node deliveries should go on; cross-node ones stop, and come late or never —
 * Redis pub/sub is at-most-once, so what is published while it is down is dropped, which is what
 * the adapter promises, not a cluster failure. Outside the outage (before it, and once Redis has
 * been back for `settle` seconds) nothing may be lost. The report gives every window, late versus
 * lost, and when cross-node delivery resumed.
 */
export default defineScenario<Options>({
  name: 'redis-outage',
  describe: 'Stop Redis for a while under broadcast load: same-node vs cross-node delivery during the outage, late vs lost, time until cross-node delivery resumes, no loss outside the outage',
  options,
  flags: [
    ...(broadcastFlags as Array<{ key: keyof Options & string; flag: string; description: string }>).map((f) => (f.key === 'duration' ? { ...f, description: 'measured seconds of publishing (default 15)' } : f)),
    { key: 'outageAt', flag: '--outage-at <s>', description: '[redis-outage] seconds into the measured phase to stop Redis (default 4)' },
    { key: 'outage', flag: '--outage <s>', description: '[redis-outage] seconds Redis stays down (default 5)' },
    { key: 'settle', flag: '--settle <s>', description: '[redis-outage] seconds after Redis is back whose losses still count as the outage\'s (default 2: the nodes retry Redis at most every 1 s)' },
  ],
  metrics: ['broadcast_latency_ms', 'broadcast_latency_cross_node_ms'],
  targets: ['same-node-during-redis-outage', 'cross-node-resumes', 'no-leak', 'no-loss-outside-redis-outage', 'chaos-applied'],
  needsClusterControl: 'stops and starts Redis',
  validate(o, t) {
    const problems = validateBroadcast(o as BroadcastOptions, t);
    if (o.outageAt + o.outage + o.settle >= o.duration) problems.push(`--outage-at ${o.outageAt} + --outage ${o.outage} + --settle ${o.settle} must end inside --duration ${o.duration}`);
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
        // A message intended within the in-flight margin before the stop may still be on its way to
        // Redis when it goes down: it belongs to the outage, as it does for a disconnection.
        const from = Math.max(api.measureFromUs, stop.startUs - ctx.options.inflightMargin * 1000);
        api.fault({ name: 'redis-outage', startUs: from, endUs: start.endUs, actionEndUs: start.endUs });
        if (ctx.options.settle > 0) api.fault({ name: 'redis-settle', startUs: start.endUs, endUs: start.endUs + ctx.options.settle * 1e6, actionEndUs: start.endUs });
      },
    });
    if (backUs > 0) {
      // When cross-node traffic flowed again: the end of the first whole 100 ms bin after Redis
      // returned that has a cross-node arrival — an upper bound at 100 ms resolution, measured from
      // the fault's end (never clamped). Absent (→ target unknown) when it never resumed.
      const bins = [...out.crossArrivalBins.keys()].filter((b) => b * 100_000 >= backUs).sort((a, b) => a - b);
      if (bins.length) out.counters.cross_node_resumed_after_ms = Math.round(((bins[0] + 1) * 100_000 - backUs) / 1000);
      else out.notes = [...(out.notes ?? []), 'cross-node delivery did not resume before the run ended'];
      out.counters.redis_back_at_ms = Math.round((backUs - out.measureFromUs) / 1000);
    }
    const acc = outageAccounting(out.extra?.windows, ctx.options.settle);
    Object.assign(out.counters, acc.counters);
    // The workload's CLUSTER FAILURE note counts the outage's own losses too: say what they are instead.
    out.notes = [...(out.notes ?? []).filter((n) => !n.startsWith('CLUSTER FAILURE')), ...acc.notes];
    return out;
  },
});
