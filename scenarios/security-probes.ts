import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WsbenchError } from '../common/errors.js';
import { nowUs } from '../common/clock.js';
import { httpGet } from '../cluster/wait.js';
import { promValue } from '../cluster/prom-metrics.js';
import { SERVER_VARIANT_INFO, type ServerOptions, type StartedCluster } from '../cluster/types.js';
import { mintToken } from '../load/token.js';
import { badTokens } from '../load/probe-tokens.js';
import { describeOutcome, probeConnect, type HandshakeOutcome, type ProbeClient } from '../load/probe-client.js';
import type { WireProtocol } from '../load/protocol-client.js';
import type { ProbeResult, ProbesReport } from '../model/run-report.js';
import { defineScenario, type ScenarioResult } from './define.js';
import { broadcastFlags, broadcastShape, broadcastTopology, runBroadcast, validateBroadcast, type BroadcastOptions } from './broadcast-workload.js';

/** Probe families, each judged by its own target (`probe-<family>`). */
export const PROBE_FAMILIES = ['auth', 'origin', 'size-limit', 'rate-limit', 'room-auth', 'slow-consumer'] as const;
export type ProbeFamily = (typeof PROBE_FAMILIES)[number];

const MiB = 1024 * 1024;

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

/** What one probe needs. */
interface ProbeEnv {
  url: string;
  protocol: WireProtocol;
  secret: string;
  limits: ServerOptions;
  cluster: StartedCluster;
  o: Options;
  signal: AbortSignal;
  /** Every connection a probe opened, closed when the probes end. */
  open: Set<ProbeClient>;
}

const fmtBytes = (b: number) => (b >= MiB ? `${(b / MiB).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw new WsbenchError('WSB_INTERRUPTED', 'run interrupted during the security probes');
}

async function connect(env: ProbeEnv, rooms: string[], extra: { token?: string | null; origin?: string } = {}): Promise<HandshakeOutcome> {
  const token = extra.token === null ? undefined : (extra.token ?? mintToken(env.secret, `probe-${randomBytes(3).toString('hex')}`, rooms));
  const r = await probeConnect({ url: env.url, protocol: env.protocol, token, origin: extra.origin, timeoutMs: env.o.probeTimeout });
  if (r.kind === 'connected') env.open.add(r.client);
  return r;
}

/** A valid connection a probe builds on; throws a probe error when even that is refused. */
async function mustConnect(env: ProbeEnv, rooms: string[]): Promise<ProbeClient> {
  const r = await connect(env, rooms);
  if (r.kind !== 'connected') throw new ProbeError(`a valid connection was refused: ${describeOutcome(r)}`);
  return r.client;
}

/** The probe could not tell (its own setup failed): status `error`. */
class ProbeError extends Error {}

type Judged = Pick<ProbeResult, 'observed' | 'status'> & { details?: ProbeResult['details'] };

async function probe(family: ProbeFamily, id: string, description: string, expected: string, body: () => Promise<Judged>): Promise<ProbeResult> {
  const t0 = Date.now();
  let j: Judged;
  try {
    j = await body();
  } catch (e) {
    if (e instanceof WsbenchError) throw e;
    j = { status: 'error', observed: e instanceof ProbeError ? e.message : `probe failed: ${(e as Error).message}` };
  }
  return { family, id: `${family}/${id}`, description, expected, ...j, durationMs: Date.now() - t0 };
}

/** The node a client landed on, if wsbench knows its URL. */
function nodeUrl(env: ProbeEnv, nodeId: string | undefined): string | undefined {
  return env.cluster.nodes.find((n) => n.id === nodeId)?.url;
}

/** RSS and the slow-consumer drop counter of one node (nulls when it cannot be scraped). */
async function nodeFigures(url: string | undefined): Promise<{ rss: number | null; slowDrops: number | null }> {
  if (url === undefined) return { rss: null, slowDrops: null };
  try {
    const { status, body } = await httpGet(`${url}/metrics`, 2000);
    if (status !== 200) return { rss: null, slowDrops: null };
    const m = /^wsb_rejected_total\{[^}]*reason="slow_consumer"[^}]*\}\s+(\S+)/m.exec(body);
    return { rss: promValue(body, 'process_resident_memory_bytes'), slowDrops: m ? Number(m[1]) : null };
  } catch {
    return { rss: null, slowDrops: null };
  }
}

// ---- the probes ------------------------------------------------------------------------------

function authProbes(env: ProbeEnv): Array<() => Promise<ProbeResult>> {
  const sio = env.protocol === 'socketio';
  const expected = sio ? 'refused at the handshake: connect_error "unauthorized: …"' : 'upgrade refused with HTTP 401';
  return badTokens(env.secret, 'probe-auth', ['*']).map((bad) => () =>
    probe('auth', bad.id, bad.description, expected, async () => {
      const r = await connect(env, ['*'], { token: bad.token ?? null });
      const observed = describeOutcome(r);
      if (r.kind === 'connected') return { status: 'fail', observed: `accepted: ${observed}` };
      const refused = sio ? r.kind === 'connect_error' && /^unauthorized/.test(r.message) : r.kind === 'http' && r.status === 401;
      return { status: refused ? 'pass' : 'error', observed };
    }),
  );
}

function originProbe(env: ProbeEnv): () => Promise<ProbeResult> {
  const sio = env.protocol === 'socketio';
  return () =>
    probe(
      'origin',
      'foreign-origin',
      `a valid token, from a browser page on ${env.o.foreignOrigin} (Origin header)`,
      `upgrade refused with HTTP ${sio ? '400 (engine.io allowRequest)' : '403'}`,
      async () => {
        // Control: the same handshake without an Origin header (a non-browser client) must pass.
        const control = await connect(env, ['*']);
        if (control.kind !== 'connected') throw new ProbeError(`the control handshake without Origin was refused: ${describeOutcome(control)}`);
        control.client.close();
        const r = await connect(env, ['*'], { origin: env.o.foreignOrigin });
        const observed = describeOutcome(r);
        if (r.kind === 'connected') return { status: 'fail', observed: `accepted: ${observed}` };
        return { status: r.kind === 'http' && r.status >= 400 && r.status < 500 ? 'pass' : 'error', observed };
      },
    );
}

function sizeProbe(env: ProbeEnv): () => Promise<ProbeResult> {
  const limit = env.limits.maxPayload;
  const size = limit + 1024;
  return () =>
    probe('size-limit', 'oversized-frame', `one publish frame of ${fmtBytes(size)} (limit ${fmtBytes(limit)})`, 'connection closed with 1009 (message too big), nothing published', async () => {
      const c = await mustConnect(env, ['probe-size']);
      const overhead = c.frame('publish', { room: 'probe-size', payload: '' }, 1).length;
      const payload = 'x'.repeat(size - overhead);
      const a = await c.sendWithAck((id) => c.frame('publish', { room: 'probe-size', payload }, id), env.o.probeTimeout);
      const closed = isObj(a) && typeof a.closed === 'number' ? a.closed : c.closeCode;
      // A fresh connection proves the node is still fine.
      const after = await connect(env, ['*']);
      const nodeOk = after.kind === 'connected' ? 'the node still accepts connections' : `then a new connection: ${describeOutcome(after)}`;
      const details = { frameBytes: size, maxPayloadBytes: limit, closeCode: closed ?? null };
      if (closed !== undefined) return { status: 'pass', observed: `connection closed with ${closed}; ${nodeOk}`, details };
      if (isObj(a) && a.ok === true) return { status: 'fail', observed: `accepted: the publish was acked ok; ${nodeOk}`, details };
      return { status: 'fail', observed: `neither refused nor closed (${JSON.stringify(a)}); ${nodeOk}`, details };
    });
}

function rateProbe(env: ProbeEnv): () => Promise<ProbeResult> {
  const limit = env.limits.rateLimit;
  const windowS = env.limits.rateWindowMs / 1000;
  const n = limit + Math.max(10, Math.ceil(limit * 0.2));
  return () =>
    probe('rate-limit', 'publish-flood', `${n} publishes as fast as the acks come (limit ${limit} per ${windowS} s)`, `at most ${limit} accepted, the rest refused with rate_limited`, async () => {
      if (n > 5000) throw new ProbeError(`the nodes allow ${limit} messages per window for this run (raised for the background load?); the probe floods at most 5000`);
      const c = await mustConnect(env, ['probe-rate']);
      let ok = 0;
      let limited = 0;
      let other = 0;
      for (let i = 0; i < n; i++) {
        const a = await c.emitWithAck('publish', { room: 'probe-rate', payload: i }, env.o.probeTimeout);
        if (isObj(a) && a.ok === true) ok++;
        else if (isObj(a) && a.error === 'rate_limited') limited++;
        else other++;
        if (isObj(a) && (a.closed !== undefined || a.timeout)) break;
      }
      const details = { sent: n, accepted: ok, rateLimited: limited, other, limit };
      const observed = `${ok} accepted, ${limited} refused rate_limited${other ? `, ${other} other answers` : ''}`;
      return { status: limited > 0 && ok <= limit ? 'pass' : 'fail', observed, details };
    });
}

function roomProbes(env: ProbeEnv): Array<() => Promise<ProbeResult>> {
  const granted = 'probe-granted';
  const forbidden = 'probe-forbidden';
  const one = (id: string, event: 'join' | 'publish', description: string) => () =>
    probe('room-auth', id, description, `${event} refused: forbidden`, async () => {
      const c = await mustConnect(env, [granted]);
      const control = await c.emitWithAck('join', { room: granted }, env.o.probeTimeout);
      if (!(isObj(control) && control.ok === true)) throw new ProbeError(`joining the granted room failed: ${JSON.stringify(control)}`);
      const a = await c.emitWithAck(event, event === 'join' ? { room: forbidden } : { room: forbidden, payload: 'probe' }, env.o.probeTimeout);
      const observed = `${event} answered ${JSON.stringify(a)}`;
      if (isObj(a) && a.ok === false && a.error === 'forbidden') return { status: 'pass', observed };
      return { status: isObj(a) && a.ok === true ? 'fail' : 'error', observed };
    });
  return [
    one('join-ungranted', 'join', `a token granting only "${granted}" joins "${forbidden}"`),
    one('publish-ungranted', 'publish', `a token granting only "${granted}" publishes to "${forbidden}"`),
  ];
}

function slowConsumerProbe(env: ProbeEnv): () => Promise<ProbeResult> {
  const limit = env.limits.maxBufferedBytes;
  const budget = env.o.slowConsumerMb * MiB;
  // Big messages (under the size limit) reach the budget in few publishes; the publishers are
  // rate limited like anyone, so a new one takes over when one is refused.
  const chunk = Math.max(1024, Math.min(MiB, env.limits.maxPayload - 1024));
  const messages = Math.ceil(budget / chunk);
  return () =>
    probe(
      'slow-consumer',
      'never-reads',
      `a member of a room stops reading its socket while ${messages} messages of ${fmtBytes(chunk)} (${fmtBytes(messages * chunk)}) are published to the room`,
      `the node drops the connection (or the messages) once more than ${fmtBytes(limit)} wait for it (--max-buffered-bytes): the client never gets everything, the node's memory stays bounded`,
      async () => {
        const room = `probe-slow-${randomBytes(3).toString('hex')}`;
        const slow = await mustConnect(env, [room]);
        const joined = await slow.emitWithAck('join', { room }, env.o.probeTimeout);
        if (!(isObj(joined) && joined.ok === true)) throw new ProbeError(`the slow consumer could not join: ${JSON.stringify(joined)}`);
        const url = nodeUrl(env, slow.nodeId);
        const before = await nodeFigures(url);
        slow.pause();
        const payload = 'x'.repeat(chunk);
        let pub = await mustConnect(env, [room]);
        let publishers = 1;
        let published = 0;
        let dropSeen = false;
        while (published < messages) {
          checkAbort(env.signal);
          const a = await pub.emitWithAck('publish', { room, payload }, Math.max(env.o.probeTimeout, 10_000));
          if (isObj(a) && a.ok === true) published++;
          else if (isObj(a) && a.error === 'rate_limited' && publishers < 50) {
            pub.close();
            pub = await mustConnect(env, [room]);
            publishers++;
            continue;
          } else throw new ProbeError(`publishing to the slow consumer's room failed after ${published} messages: ${JSON.stringify(a)}`);
          // Where the node's counter is readable, stop as soon as it dropped the consumer.
          if (before.slowDrops !== null && published % 4 === 0) {
            const now = await nodeFigures(url);
            if (now.slowDrops !== null && now.slowDrops > before.slowDrops) {
              dropSeen = true;
              break;
            }
          }
        }
        const peak = await nodeFigures(url);
        pub.close();
        // Read again: whatever the node kept for the client arrives now, then (if it dropped it) the close.
        slow.resume();
        let last = -1;
        let stalled = 0;
        while (slow.closeCode === undefined && (slow.events.get('msg') ?? 0) < published && stalled < 20) {
          checkAbort(env.signal);
          await sleep(100);
          if (slow.bytesReceived === last) stalled++;
          else stalled = 0;
          last = slow.bytesReceived;
        }
        const delivered = slow.events.get('msg') ?? 0;
        const after = await nodeFigures(url);
        const details = {
          node: slow.nodeId ?? null,
          maxBufferedBytes: limit,
          messagesPublished: published,
          bytesPublished: published * chunk,
          messagesDelivered: delivered,
          bytesReceived: slow.bytesReceived,
          closeCode: slow.closeCode ?? null,
          rssBeforeBytes: before.rss,
          rssPeakBytes: peak.rss,
          rssGrowthBytes: before.rss !== null && peak.rss !== null ? peak.rss - before.rss : null,
          nodeSlowConsumerDrops: after.slowDrops !== null && before.slowDrops !== null ? after.slowDrops - before.slowDrops : null,
        };
        const rss = details.rssGrowthBytes === null ? '' : `; node RSS ${details.rssGrowthBytes >= 0 ? '+' : ''}${fmtBytes(details.rssGrowthBytes)}`;
        const got = `${delivered} of ${published} messages (${fmtBytes(slow.bytesReceived)} of ${fmtBytes(published * chunk)})`;
        if (slow.closeCode !== undefined) {
          return { status: 'pass', observed: `dropped by the node${dropSeen ? ' (counted slow_consumer)' : ''}: closed with ${slow.closeCode} after delivering ${got}${rss}`, details };
        }
        if (delivered < published) return { status: 'pass', observed: `connection kept, messages dropped: delivered ${got}${rss}`, details };
        return { status: 'fail', observed: `the node queued everything for a client that did not read and delivered it when it read again: ${got}${rss}`, details };
      },
    );
}

// ---- health ------------------------------------------------------------------------------------

/** `/health` of every node wsbench knows (or of the load balancer when it knows none). */
async function health(cluster: StartedCluster): Promise<Map<string, boolean>> {
  const targets = cluster.nodes.length ? cluster.nodes.map((n) => [n.id, n.url] as const) : ([['lb', cluster.url]] as const);
  const up = await Promise.all(
    targets.map(async ([, url]) => {
      try {
        return (await httpGet(`${url}/health`, 2000)).status === 200;
      } catch {
        return false;
      }
    }),
  );
  return new Map(targets.map(([id], i) => [id, up[i]]));
}

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
        const all = [...authProbes(env), originProbe(env), sizeProbe(env), rateProbe(env), ...roomProbes(env), slowConsumerProbe(env)];
        try {
          for (const p of all) {
            checkAbort(ctx.signal);
            const r = await p();
            results.push(r);
            ctx.event('probe', `${r.id}: ${r.status}`, r.status === 'pass' ? 'ok' : 'fail');
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
      probes_failed: results.filter((r) => r.status !== 'pass').length,
      // A node that was not up before the probes cannot be judged: it counts as down.
      nodes_down_during_probes: down + nodes.filter((n) => !n.upBefore).length,
    };
    for (const f of PROBE_FAMILIES) {
      const mine = results.filter((r) => r.family === f);
      // Only families that ran get a counter: one missing is `unknown` and fails its target.
      if (mine.length) counters[`probes_failed_${f.replace(/-/g, '_')}`] = mine.filter((r) => r.status !== 'pass').length;
    }
    const { faults: _f, disconnections: _d, crossArrivalBins: _c, measureFromUs: _m, ...result } = outcome;
    return { ...result, counters, extra: { ...result.extra, probes } };
  },
});
