import { z } from 'zod';
import { defineScenario, type ScenarioContext, type ServerOverride } from './define.js';
import { broadcastFlags, broadcastShape, runBroadcast, validateBroadcast, type BroadcastOptions, type BroadcastOutcome } from './broadcast-workload.js';
import { breaks, findKnee, type CapacityStep } from './knee.js';
import { SEED_TARGETS } from '../model/targets.js';

const { rate: _rate, ...shape } = broadcastShape;
const options = z
  .object({
    ...shape,
    duration: broadcastShape.duration.default(10),
    /** Offered deliveries per second (publish rate × members), fixed mode (default 20,000). */
    deliveries: z.number().positive().max(10_000_000).default(20_000),
    /** Step the offered rate up until p99 or loss breaks, and report the knee. */
    findCapacity: z.boolean().default(false),
    /** First step, deliveries/s (default 10,000). */
    from: z.number().positive().max(10_000_000).default(10_000),
    /** Increment per step, deliveries/s (default 10,000). */
    step: z.number().positive().max(10_000_000).default(10_000),
    /** Highest step, deliveries/s (default 100,000). */
    to: z.number().positive().max(10_000_000).default(100_000),
    /** Measured seconds per step (default 5). */
    stepDuration: z.number().positive().max(3600).default(5),
    /** p99 a step must stay under, ms (default: the latency-p99 target, 50). */
    kneeP99: z.number().positive().max(60_000).optional(),
  })
  .strict();
type Options = z.infer<typeof options>;

const membersPerRoom = (o: Pick<Options, 'connections' | 'rooms' | 'publishersPerRoom'>) => Math.floor((o.connections - o.rooms * o.publishersPerRoom) / o.rooms);
/** Messages per second per publisher that offer `perSec` deliveries per second. */
const rateFor = (o: Options, perSec: number) => perSec / (o.rooms * o.publishersPerRoom * membersPerRoom(o));

function asStep(offered: number, out: BroadcastOutcome, limits: { p99Ms: number; maxLost: number }): CapacityStep {
  const m = out.metrics.broadcast_latency_ms;
  const s = {
    offeredPerSec: Math.round(offered),
    achievedPerSec: out.counters.deliveries_per_sec,
    p50Ms: m.p50,
    p99Ms: m.p99,
    lost: out.accounting.lost,
    duplicated: out.accounting.duplicated,
    reordered: out.accounting.reordered,
    generatorBound: out.generator.bottleneck,
  };
  return { ...s, broke: breaks(s, limits) };
}

/**
 * Seed 004 "Handle 50,000 messages per second" / 001 "Messages/second: 50,000+": broadcast at a
 * fixed offered delivery rate, or with --find-capacity step the rate up until p99 or loss breaks
 * and report the knee with every step's figures.
 */
export default defineScenario<Options>({
  name: 'throughput',
  describe: 'Broadcast at a fixed delivery rate, or --find-capacity: step the rate until p99 or loss breaks, and report the knee',
  options,
  flags: [
    ...(broadcastFlags.filter((f) => f.key !== 'rate') as Array<{ key: keyof Options & string; flag: string; description: string }>).map((f) =>
      f.key === 'duration' ? { ...f, description: 'measured seconds of publishing (default 10)' } : f,
    ),
    { key: 'deliveries', flag: '--deliveries <n>', description: '[throughput] offered deliveries per second (default 20000)' },
    { key: 'findCapacity', flag: '--find-capacity', description: '[throughput] step the rate up until p99 or loss breaks; report the knee' },
    { key: 'from', flag: '--from <n>', description: '[throughput] first step, deliveries/s (default 10000)' },
    { key: 'step', flag: '--step <n>', description: '[throughput] increment per step, deliveries/s (default 10000)' },
    { key: 'to', flag: '--to <n>', description: '[throughput] highest step, deliveries/s (default 100000)' },
    { key: 'stepDuration', flag: '--step-duration <s>', description: '[throughput] measured seconds per step (default 5)' },
    { key: 'kneeP99', flag: '--knee-p99 <ms>', description: '[throughput] p99 a step must stay under (default 50)' },
  ],
  metrics: ['broadcast_latency_ms', 'broadcast_latency_cross_node_ms'],
  targets: ['throughput', 'latency-p99', 'no-loss', 'no-leak'],
  validate(o, t) {
    const problems = validateBroadcast({ ...o, rate: 1 } as BroadcastOptions, t);
    if (o.findCapacity && o.from > o.to) problems.push(`--from ${o.from} is above --to ${o.to}`);
    return problems;
  },
  topology(o) {
    const top = o.findCapacity ? o.to : o.deliveries;
    const needed = Math.ceil(rateFor(o, top) * 60 * 1.5) + 10;
    const overrides: ServerOverride[] = needed > 100 ? [{ setting: 'rateLimit', value: needed, why: `publishers send up to ${Math.round(rateFor(o, top) * 10) / 10} msg/s` }] : [];
    return { expectedConnections: o.connections, serverOverrides: overrides };
  },
  async run(ctx) {
    const o = ctx.options;
    const limits = { p99Ms: o.kneeP99 ?? SEED_TARGETS['latency-p99'].value, maxLost: 0 };
    const once = (perSec: number, duration: number, closeLoad: boolean) =>
      runBroadcast({ ...ctx, options: { ...o, rate: rateFor(o, perSec), duration } } as unknown as ScenarioContext<BroadcastOptions>, { closeLoad });
    if (!o.findCapacity) return once(o.deliveries, o.duration, false);

    const steps: CapacityStep[] = [];
    let lastGood: BroadcastOutcome | null = null;
    let last: BroadcastOutcome | null = null;
    for (let offered = o.from; offered <= o.to; offered += o.step) {
      ctx.event('capacity-step', `${Math.round(offered)} deliveries/s`);
      const out = await once(offered, o.stepDuration, true);
      const s = asStep(offered, out, limits);
      steps.push(s);
      last = out;
      if (s.broke.length) break;
      lastGood = out;
    }
    const knee = findKnee(steps);
    const shown = lastGood ?? last!;
    shown.counters.deliveries_per_sec = knee.lastGood?.achievedPerSec ?? 0;
    // The `throughput` target judges messages/s (model/targets.ts): the last step that held, or 0.
    if (lastGood === null) shown.counters.messages_published_per_sec = 0;
    shown.notes = [
      ...(shown.notes ?? []),
      knee.firstBad
        ? `knee: held at ${knee.lastGood?.offeredPerSec ?? 'no'} deliveries/s, broke at ${knee.firstBad.offeredPerSec} (${knee.firstBad.broke.join(', ')}); figures shown are ${lastGood ? 'the last step that held' : 'the first step'}`
        : `no knee up to ${steps.at(-1)?.offeredPerSec} deliveries/s: every step held`,
    ];
    shown.extra = {
      ...shown.extra,
      capacitySearch: { limits, steps, knee: { lastGoodPerSec: knee.lastGood?.offeredPerSec ?? null, firstBadPerSec: knee.firstBad?.offeredPerSec ?? null } },
    };
    return shown;
  },
});
