import { z } from 'zod';
import { defineScenario, type ScenarioContext, type ServerOverride } from './define.js';
import { broadcastFlags, broadcastShape, runBroadcast, validateBroadcast, type BroadcastOptions, type BroadcastOutcome } from './broadcast-workload.js';
import { breaks, findKnee, measureStep, type CapacityStep } from './knee.js';
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
    /** First step, deliveries/s (default 5,000: about half the default cross-node-broadcast run, so "none held" says something about the cluster). */
    from: z.number().positive().max(10_000_000).default(5_000),
    /** Increment per step, deliveries/s (default 5,000). */
    step: z.number().positive().max(10_000_000).default(5_000),
    /** Highest step, deliveries/s (default 100,000). */
    to: z.number().positive().max(10_000_000).default(100_000),
    /** Measured seconds per step (default 5); longer when needed for `minSamples`. */
    stepDuration: z.number().positive().max(3600).default(5),
    /** Timed deliveries a step's p99 must rest on: a step lasts at least minSamples / offered seconds (default 10,000: 100 above the p99). */
    minSamples: z.number().int().min(1).max(100_000_000).default(10_000),
    /** Seconds of unjudged load at the first step's rate before the search (default 5; 0: none). */
    searchWarmup: z.number().min(0).max(600).default(5),
    /** Times a broken step runs again before it counts (default 1). */
    stepRetries: z.number().int().min(0).max(10).default(1),
    /** Runs per step attempt, judged on the median p99 (default 1). */
    stepRepeats: z.number().int().min(1).max(20).default(1),
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
    samples: m.count,
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
    { key: 'from', flag: '--from <n>', description: '[throughput] first step, deliveries/s (default 5000)' },
    { key: 'step', flag: '--step <n>', description: '[throughput] increment per step, deliveries/s (default 5000)' },
    { key: 'to', flag: '--to <n>', description: '[throughput] highest step, deliveries/s (default 100000)' },
    { key: 'stepDuration', flag: '--step-duration <s>', description: '[throughput] measured seconds per step (default 5; longer when --min-samples needs it)' },
    { key: 'minSamples', flag: '--min-samples <n>', description: '[throughput] timed deliveries each step\'s p99 must rest on (default 10000)' },
    { key: 'searchWarmup', flag: '--search-warmup <s>', description: '[throughput] seconds of unjudged load at the first step before the search (default 5; 0: none)' },
    { key: 'stepRetries', flag: '--step-retries <n>', description: '[throughput] times a broken step runs again before it counts (default 1)' },
    { key: 'stepRepeats', flag: '--step-repeats <n>', description: '[throughput] runs per step attempt, judged on the median p99 (default 1)' },
    { key: 'kneeP99', flag: '--knee-p99 <ms>', description: '[throughput] p99 a step must stay under (default 50)' },
  ],
  metrics: ['broadcast_latency_ms', 'broadcast_latency_cross_node_ms'],
  targets: ['throughput', 'latency-p99', 'no-loss', 'no-leak'],
  validate(o, t) {
    const problems = validateBroadcast({ ...o, rate: 1, ...(o.findCapacity ? { duration: o.stepDuration } : {}) } as BroadcastOptions, t);
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
    const once = (perSec: number, duration: number, closeLoad: boolean, stall = false) =>
      runBroadcast(
        { ...ctx, options: { ...o, rate: rateFor(o, perSec), duration, ...(stall ? {} : { publisherStallMs: 0 }) } } as unknown as ScenarioContext<BroadcastOptions>,
        { closeLoad },
      );
    if (!o.findCapacity) return once(o.deliveries, o.duration, false, true);

    // Seconds a step needs so that its p99 rests on at least minSamples timed deliveries.
    const durationFor = (offered: number) => Math.max(o.stepDuration, Math.ceil(o.minSamples / offered));
    let warmup: { offeredPerSec: number; seconds: number; p99Ms: number; lost: number } | null = null;
    if (o.searchWarmup > 0) {
      // The cluster's first load (JIT, buffers, Redis connections) is not a step: it runs unjudged.
      ctx.event('capacity-step', `warm-up at ${Math.round(o.from)} deliveries/s for ${o.searchWarmup} s`);
      const w = await once(o.from, o.searchWarmup, true);
      warmup = { offeredPerSec: Math.round(o.from), seconds: o.searchWarmup, p99Ms: w.metrics.broadcast_latency_ms.p99, lost: w.accounting.lost };
    }
    const steps: CapacityStep[] = [];
    let lastGood: BroadcastOutcome | null = null;
    let last: BroadcastOutcome | null = null;
    for (let offered = o.from; offered <= o.to; offered += o.step) {
      const outs: BroadcastOutcome[] = [];
      const s = await measureStep(
        async (run) => {
          ctx.event('capacity-step', `${Math.round(offered)} deliveries/s${run > 0 ? ` (run ${run + 1})` : ''}`);
          // Calibration: --publisher-stall-ms hits the first step's first run only (the search must survive it).
          const out = await once(offered, durationFor(offered), true, steps.length === 0 && run === 0);
          outs.push(out);
          return asStep(offered, out, limits);
        },
        { retries: o.stepRetries, repeats: o.stepRepeats },
      );
      steps.push(s);
      last = outs.at(-1)!;
      if (s.broke.length) break;
      lastGood = last;
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
      capacitySearch: {
        limits,
        rules: { searchWarmupS: o.searchWarmup, minSamples: o.minSamples, stepRetries: o.stepRetries, stepRepeats: o.stepRepeats },
        ...(warmup ? { warmup } : {}),
        steps,
        knee: { lastGoodPerSec: knee.lastGood?.offeredPerSec ?? null, firstBadPerSec: knee.firstBad?.offeredPerSec ?? null },
      },
    };
    return shown;
  },
});
