import { z } from 'zod';
import { nowUs } from '../common/clock.js';
import { SERVER_VARIANT_INFO } from '../cluster/types.js';
import { isReferenceProfile } from '../config/protocol.js';
import type { ProbeResult, ProbesReport } from '../model/run-report.js';
import { defineScenario, type ScenarioResult } from './define.js';
import { broadcastFlags, broadcastShape, broadcastTopology, runBroadcast, validateBroadcast, type BroadcastOptions } from './broadcast-workload.js';
import { PROBE_FAMILIES, checkAbort, health, type ProbeEnv } from './probe-harness.js';
import { referenceProbes } from './reference-probes.js';
import { profileProbes } from './profile-probes.js';

export { PROBE_FAMILIES, type ProbeFamily } from './probe-harness.js';

const options = z
  .object({
    ...broadcastShape,
    // The background broadcast is light: it only has to show other clients' latency during the
    // probes, and 1 msg/s per publisher stays under seed 001's 100 messages/minute, so the nodes
    // keep the seed's rate limit (the rate-limit probe tests the limit in force).
    /** Background connections (default 40). */
    connections: broadcastShape.connections.default(40),
    /** Background rooms (default 4). */
    rooms: broadcastShape.rooms.default(4),
    /** Background messages per second per publisher (default 1). */
    rate: broadcastShape.rate.default(1),
    /** Measured seconds of background publishing; the probes start with it and may outlast it (default 5). */
    duration: broadcastShape.duration.default(5),
    /** Background warm-up seconds (default 1). */
    warmup: broadcastShape.warmup.default(1),
    /** Background drain seconds (default 1). */
    drain: broadcastShape.drain.default(1),
    /** Background worker processes (default 1). */
    workers: z.number().int().min(1).max(64).default(1),
    /** MiB the slow-consumer probe sends towards a client that never reads (default 64: well past --max-buffered-bytes and the kernel's socket buffers). */
    slowConsumerMb: z.number().int().min(1).max(4096).default(64),
    /** The foreign Origin the origin probe claims (default https://evil.example). */
    foreignOrigin: z.string().url().default('https://evil.example'),
    /** ms each probe waits for the node's answer (default 5000). */
    probeTimeout: z.number().int().min(100).max(120_000).default(5000),
  })
  .strict();
type Options = z.infer<typeof options>;

/**
 * Seed 001's "Security Considerations" (JWT on every connection, room authorization, rate limit,
 * message size) plus the Origin check and a slow consumer, probed against a running cluster while
 * a light broadcast measures what the other clients see.
 */
export default defineScenario<Options>({
  name: 'security-probes',
  describe: 'Handshakes with bad tokens and a foreign Origin, an oversized frame, a rate-limit flood, ungranted rooms and a client that never reads: expected vs observed per probe, node health and other clients\' latency meanwhile',
  options,
  flags: [
    ...(broadcastFlags as Array<{ key: keyof Options & string; flag: string; description: string }>).map((f) =>
      ({
        connections: { ...f, description: '[security-probes] background connections (default 40)' },
        rooms: { ...f, description: '[security-probes] background rooms (default 4)' },
        rate: { ...f, description: '[security-probes] background messages per second per publisher (default 1)' },
        duration: { ...f, description: '[security-probes] measured seconds of background publishing (default 5)' },
        warmup: { ...f, description: '[security-probes] seconds of background publishing before measuring (default 1)' },
        drain: { ...f, description: '[security-probes] seconds to wait for in-flight background deliveries (default 1)' },
        workers: { ...f, description: '[security-probes] load-generator processes (default 1)' },
      })[f.key as string] ?? f,
    ),
    { key: 'slowConsumerMb', flag: '--slow-consumer-mb <n>', description: '[security-probes] MiB sent towards a client that never reads (default 64)' },
    { key: 'foreignOrigin', flag: '--foreign-origin <url>', description: '[security-probes] Origin the origin probe claims (default https://evil.example)' },
    { key: 'probeTimeout', flag: '--probe-timeout <ms>', description: "[security-probes] ms each probe waits for the node's answer (default 5000)" },
  ],
  metrics: ['broadcast_latency_ms', 'connect_time_ms'],
  targets: ['probe-auth', 'probe-origin', 'probe-size-limit', 'probe-rate-limit', 'probe-room-auth', 'probe-slow-consumer', 'probe-nodes-up', 'no-loss-while-connected'],
  validate: (o, t) => validateBroadcast(o as BroadcastOptions, t),
  topology(o) {
    const t = broadcastTopology(o as BroadcastOptions);
    // The probes' own connections, a handful at a time.
    return { ...t, expectedConnections: t.expectedConnections + 16 };
  },
  async run(ctx): Promise<ScenarioResult> {
    const o = ctx.options;
    const env: ProbeEnv = {
      url: ctx.cluster.url,
      protocol: SERVER_VARIANT_INFO[ctx.topology.server].protocol,
      secret: ctx.topology.jwtSecret,
      limits: ctx.topology.serverOptions,
      cluster: ctx.cluster,
      o,
      signal: ctx.signal,
      open: new Set(),
    };
    const results: ProbeResult[] = [];
    let window = { startUs: 0, endUs: 0 };
    let before = new Map<string, boolean>();
    let after = new Map<string, boolean>();
    const outcome = await runBroadcast(ctx as never, {
      chaos: async (api) => {
        await api.at(0);
        before = await health(ctx.cluster);
        const startUs = nowUs();
        ctx.event('phase', 'probes');
        // A server spoken to through a profile gets the probes in its own protocol (profile-probes.ts).
        const profile = ctx.topology.protocol;
        const all = profile === undefined || isReferenceProfile(profile) ? referenceProbes(env) : profileProbes(env, profile);
        try {
          for (const p of all) {
            checkAbort(ctx.signal);
            const r = await p();
            results.push(r);
            ctx.event('probe', `${r.id}: ${r.status}`, r.status === 'pass' ? 'ok' : r.status === 'not-applicable' ? 'unknown' : 'fail');
          }
        } finally {
          for (const c of env.open) c.close();
        }
        const endUs = nowUs();
        window = { startUs, endUs };
        // The `probes` window covers the whole seconds the probes ran in: window latency counts
        // deliveries by their intended second, and the probes usually take less than one.
        const seconds = Math.max(1, Math.ceil((endUs - api.measureFromUs) / 1e6));
        api.fault({ name: 'probes', startUs: api.measureFromUs, endUs: api.measureFromUs + seconds * 1e6, actionEndUs: endUs });
        after = await health(ctx.cluster);
        ctx.event('phase', 'probes done');
      },
    });

    // Node health through the probes: every 1 s scrape of /metrics inside the window, and /health after.
    const startMs = Math.round((window.startUs - outcome.measureFromUs) / 1000);
    const endMs = Math.round((window.endUs - outcome.measureFromUs) / 1000);
    const scrapes = (outcome.extra?.nodeMetrics ?? []).filter((p) => p.t * 1000 >= startMs && p.t * 1000 <= endMs);
    const nodes = [...before.keys()].map((nodeId) => ({
      nodeId,
      upBefore: before.get(nodeId) ?? false,
      upAfter: after.get(nodeId) ?? false,
      downScrapes: scrapes.filter((p) => p.nodes.some((n) => n.nodeId === nodeId && !n.up)).length,
    }));
    const down = nodes.filter((n) => n.upBefore && (!n.upAfter || n.downScrapes > 0)).length;
    const w = outcome.extra?.windows?.probes;
    const lat = w && w.broadcast_latency_ms.count > 0 ? w.broadcast_latency_ms : null;
    const probes: ProbesReport = {
      startMs,
      endMs,
      results,
      nodes,
      nodesStayedUp: down === 0 && nodes.some((n) => n.upBefore),
      background: {
        connections: outcome.counters.connections ?? 0,
        deliveries: w?.accounting.received ?? 0,
        lost: w?.accounting.lost ?? 0,
        p50Ms: lat?.p50 ?? null,
        p99Ms: lat?.p99 ?? null,
        maxMs: lat?.max ?? null,
      },
    };
    const counters: Record<string, number> = {
      ...outcome.counters,
      probes_run: results.length,
      probes_failed: results.filter((r) => r.status === 'fail' || r.status === 'error').length,
      // A node that was not up before the probes cannot be judged: it counts as down.
      nodes_down_during_probes: down + nodes.filter((n) => !n.upBefore).length,
    };
    const na = results.filter((r) => r.status === 'not-applicable').length;
    if (na) counters.probes_not_applicable = na;
    for (const f of PROBE_FAMILIES) {
      const mine = results.filter((r) => r.family === f && r.status !== 'not-applicable');
      // Only families where a probe applied get a counter: one missing is `unknown` and fails its target.
      if (mine.length) counters[`probes_failed_${f.replace(/-/g, '_')}`] = mine.filter((r) => r.status !== 'pass').length;
    }
    const { faults: _f, disconnections: _d, crossArrivalBins: _c, measureFromUs: _m, ...result } = outcome;
    return { ...result, counters, extra: { ...result.extra, probes } };
  },
});
