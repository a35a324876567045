import { z } from 'zod';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchAccept } from '../cluster/lb-accept.js';
import { defineScenario } from './define.js';
import { broadcastFlags, broadcastShape, broadcastTopology, runBroadcast, validateBroadcast, type BroadcastOptions } from './broadcast-workload.js';
import { affectedBy } from './reconnection-figures.js';
import { fromReturnFigures, judgedCounters, summarizeStorms } from './storm-figures.js';

const STORM_POLICIES = ['both', 'socketio', 'full-jitter'] as const;

const options = z
  .object({
    ...broadcastShape,
    duration: broadcastShape.duration.default(25),
    /** Seconds into the measured phase of the first storm (default 3). */
    stormAt: z.number().min(0).default(3),
    /** Seconds between the clients being back and the next storm (default 3). */
    gap: z.number().min(0).max(600).default(3),
    /** Storms per reconnection policy; the targets judge the median storm (default 1). */
    storms: z.number().int().min(1).max(50).default(1),
    /** Which backoff the storms use: both side by side (socket.io defaults, then full jitter, alternating), or one (default both). */
    stormPolicy: z.enum(STORM_POLICIES).default('both'),
  })
  .strict();
type Options = z.infer<typeof options>;

/**
 * Every connection drops at once (NGINX stopped and started again), with socket.io-client's
 * default backoff and with seed 001's full-jitter backoff, side by side, `--storms N` times each:
 * time to 99 % / 100 % reconnected counted from the drop and from the moment NGINX accepted again
 * (observed with TCP connects), accepts per 100 ms (peak and mean), failed attempts. Targets judge
 * each policy's median storm, and the worse policy of the two.
 */
export default defineScenario<Options>({
  name: 'reconnection-storm',
  describe: 'Drop every connection at once (nginx stop/start), --storms N times per backoff: socket.io-client defaults vs full jitter, from the drop and from the LB\'s return',
  options,
  flags: [
    ...(broadcastFlags as Array<{ key: keyof Options & string; flag: string; description: string }>).map((f) => (f.key === 'duration' ? { ...f, description: 'measured seconds of publishing (default 25)' } : f)),
    { key: 'stormAt', flag: '--storm-at <s>', description: '[reconnection-storm] seconds into the measured phase of the first storm (default 3)' },
    { key: 'gap', flag: '--gap <s>', description: '[reconnection-storm] seconds between recovery and the next storm (default 3)' },
    { key: 'storms', flag: '--storms <n>', description: '[reconnection-storm] storms per backoff policy; targets judge the median storm (default 1)' },
    { key: 'stormPolicy', flag: '--storm-policy <p>', description: '[reconnection-storm] both (socketio and full-jitter, alternating), socketio or full-jitter (default both)' },
  ],
  metrics: ['reconnect_time_ms', 'broadcast_latency_ms'],
  targets: ['reconnect-all', 'no-loss-while-connected', 'no-leak', 'chaos-applied'],
  needsClusterControl: 'stops and starts the load balancer (nginx)',
  validate: (o, t) => validateBroadcast(o as BroadcastOptions, t),
  topology: (o) => broadcastTopology(o as BroadcastOptions),
  run: async (ctx) => {
    const o = ctx.options;
    const policies = o.stormPolicy === 'both' ? (['socketio', 'full-jitter'] as const) : ([o.stormPolicy] as const);
    const out = await runBroadcast(ctx as never, {
      chaos: async (api) => {
        await api.at(o.stormAt);
        let first = true;
        for (let k = 1; k <= o.storms; k++) {
          for (const policy of policies) {
            if (!first) await sleep(o.gap * 1000, undefined, { signal: api.signal });
            first = false;
            await api.setReconnect(policy);
            const stop = await api.act({ type: 'stop-lb' });
            // Watched from outside, from before the start: the instant NGINX accepts again.
            const watch = watchAccept(api.cluster.url, { signal: api.signal });
            const start = await api.act({ type: 'start-lb' });
            if (start.outcome === 'fail') watch.stop();
            const returnUs = await watch.accepted;
            api.fault({ name: o.storms === 1 ? `storm-${policy}` : `storm-${policy}-${k}`, startUs: stop.startUs, endUs: 'auto', actionEndUs: stop.endUs, returnUs });
            await api.allBack(start.endUs, 40_000);
          }
        }
      },
    });
    const rc = out.extra?.reconnection;
    if (!rc) return out;
    for (const f of rc.faults) {
      const fault = out.faults.find((x) => x.name === f.fault);
      if (fault) Object.assign(f, fromReturnFigures({ startUs: fault.startUs, returnUs: fault.returnUs ?? null }, affectedBy(fault, out.disconnections)));
    }
    rc.storms = summarizeStorms(rc.faults);
    // The median storm is judged, not the worst one (docs/stability.md); every storm stays in the report.
    delete out.counters.reconnect_all_back_ms;
    Object.assign(out.counters, judgedCounters(rc.storms));
    if (o.storms > 1) out.notes = [...(out.notes ?? []), `reconnect targets judge each policy's median storm of ${o.storms} (and the worse policy); every storm is in reconnection.faults`];
    return out;
  },
});
