/**
 * The k6 engine: `wsbench run <scenario> --engine k6`. runner/run.ts keeps the cluster lifecycle, the
 * report and the exit code; this module finds k6 and bundles the script BEFORE the cluster starts
 * (prepareK6: a missing k6 must not leave anything running), then, against the started cluster,
 * mints the tokens, runs k6 with the plan, thresholds and summaries (runK6), streams k6's output to
 * stderr (and logs/k6.*.log), injects the scenario's faults on the script's clock, and reads k6's
 * summary into the ScenarioResult the Node engine would have produced.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WsbenchError } from '../../common/errors.js';
import { applyChaos } from '../../cluster/chaos.js';
import { ChaosTally } from '../../cluster/chaos-tally.js';
import { outageAccounting } from '../../scenarios/redis-outage-accounting.js';
import type { StartedCluster } from '../../cluster/types.js';
import { mintToken } from '../../load/token.js';
import type { TargetSpec } from '../../model/targets.js';
import {
  describeK6Exit,
  exitCodeForK6,
  ingestK6Summary,
  k6Thresholds,
  parseK6Summary,
  type K6Summary,
  type K6ThresholdSpec,
} from './summary.js';
import type { ScenarioResult } from '../../scenarios/define.js';
import { broadcastTimes, connectedByMs, executionSegment, roleOf, type BroadcastPlan, type K6Plan } from './scripts/lib/plan.js';
import { ingestBroadcastExtras } from './broadcast-ingest.js';
import { k6Health, nodesPeak, startK6Monitor, type K6Monitor } from './process-monitor.js';
import { formatK6Version, k6ModuleAliases, locateK6, OLDEST_TESTED_K6, versionAtLeast, type K6Binary } from './binary.js';
import { bundleK6Script, type BundledScript } from './bundle.js';
import { k6Command, type K6Command } from './command.js';
import { readK6Samples } from './samples.js';
import { summarizeUs } from '../../model/histogram.js';
import { vusFor } from './scenarios.js';
import { K6_ADAPTERS, type K6Adapter, type K6ChaosContext, type K6ChaosOutcome } from './scenarios.js';

export interface K6Prepared {
  k6: K6Binary;
  adapter: K6Adapter;
  script: BundledScript;
  plan: K6Plan;
  notes: string[];
  /** `--shard i/N`: this process's execution segment of the whole plan. */
  shard?: { ref: { index: number; count: number }; startAtMs?: number };
}

/**
 * Before the cluster starts: finds k6 (WSB_K6_NOT_FOUND with how to install it), checks that the
 * scenario has a k6 script, and bundles it for this k6's module names into `<outDir>/k6/`.
 */
export async function prepareK6(
  run: { scenario: string; options: Record<string, unknown>; nodes: number; k6Path?: string; outDir: string; shard?: { ref: { index: number; count: number }; startAtMs?: number } },
  env: NodeJS.ProcessEnv = process.env,
): Promise<K6Prepared> {
  const adapter = K6_ADAPTERS[run.scenario];
  if (!adapter) {
    throw new WsbenchError('WSB_INVALID_OPTION', `scenario ${run.scenario} has no k6 script`, {
      hint: `k6 scripts exist for ${Object.keys(K6_ADAPTERS).join(', ')}; run ${run.scenario} without --engine k6`,
    });
  }
  const k6 = await locateK6(run.k6Path, env);
  const aliases = k6ModuleAliases(k6.version);
  const script = await bundleK6Script(run.scenario, aliases, join(run.outDir, 'k6', `${run.scenario}.js`));
  const plan = adapter.plan(run.options, { nodes: run.nodes });
  // Diagnostics for the k6-versus-Node latency gap (docs/k6.md): VUs and per-delivery metric calls.
  const diag: string[] = [];
  const vus = Number(env.WSBENCH_K6_VUS);
  if (env.WSBENCH_K6_VUS && Number.isInteger(vus) && vus >= 1) {
    plan.vus = Math.min(vus, plan.connections);
    diag.push(`k6 engine: WSBENCH_K6_VUS=${env.WSBENCH_K6_VUS}: ${plan.vus} VUs (diagnostics)`);
  }
  if (run.shard) diag.push(...shardPlan(plan, run.shard));
  if (env.WSBENCH_K6_LEAN === '1' && plan.scenario !== 'connection-capacity') {
    plan.lean = { latencySampleEvery: 10 };
    diag.push('k6 engine: WSBENCH_K6_LEAN=1: no k6 metric call per delivery; latency timed for 1 delivery in 10 (diagnostics)');
  }
  const notes = [
    `k6 engine: ${k6.version.raw} (${k6.path}); script engines/k6/scripts/${run.scenario}.ts bundled with ${script.imports.join(', ')}`,
    'k6 engine: latencies are Date.now() differences (send and receive on one machine clock), whole milliseconds — the Node engine measures microseconds on CLOCK_MONOTONIC',
    "k6 engine: percentiles are k6's own Trend statistics over every sample (--summary-trend-stats), not HDR histograms (no `hdr` in the metrics)",
    "k6 engine: generator health is the k6 process's CPU and RSS, read by wsbench from /proc every second, and its VUs' event-loop delay (timer_lag_ms); no per-second delivery timeline (k6 reports none to wsbench)",
    ...(adapter.notes?.(plan) ?? []),
    ...diag,
  ];
  if (!versionAtLeast(k6.version, OLDEST_TESTED_K6.major, OLDEST_TESTED_K6.minor, OLDEST_TESTED_K6.patch)) {
    notes.push(`k6 engine: k6 ${formatK6Version(k6.version)} is older than the oldest version wsbench was checked with (${formatK6Version(OLDEST_TESTED_K6)})`);
  }
  return { k6, adapter, script, plan, notes, ...(run.shard ? { shard: run.shard } : {}) };
}

/**
 * Makes `plan` (the WHOLE plan, identical on every shard) the plan of a test split into
 * `count` execution segments: VUs a multiple of `count` (vusFor per segment's share), the script
 * deals rooms by segment (plan.ts connectionsOfVu), and with `--start-at` every shard's t0 is the
 * agreed start minus the connect phase, so publishing starts at the agreed time everywhere.
 */
export function shardPlan(plan: K6Plan, shard: { ref: { index: number; count: number }; startAtMs?: number }): string[] {
  if (plan.scenario === 'connection-capacity') throw new WsbenchError('WSB_INVALID_OPTION', '--shard: connection-capacity cannot be sharded under k6', { hint: 'shard cross-node-broadcast' });
  const n = shard.ref.count;
  const perSegment = vusFor(Math.ceil(plan.connections / n), Math.ceil(plan.rooms / n));
  plan.vus = Math.max(1, Math.ceil(Math.min(plan.vus, perSegment * n) / n)) * n;
  plan.segments = n;
  if (shard.startAtMs !== undefined) plan.t0EpochMs = shard.startAtMs - broadcastTimes(plan).publishAt;
  const seg = executionSegment(shard.ref.index, n);
  return [
    `k6 engine: shard ${shard.ref.index}/${n} = --execution-segment ${seg.segment} of ${seg.sequence}: ${plan.vus / n} of ${plan.vus} VUs (by exec.vu.idInTest), holding the rooms k with k mod ${n} = ${shard.ref.index - 1}`,
    ...(plan.t0EpochMs !== undefined ? [`k6 engine: t0 ${new Date(plan.t0EpochMs).toISOString()} on every shard, publishing at the agreed ${new Date(shard.startAtMs!).toISOString()}`] : []),
  ];
}

export interface K6RunContext {
  cluster: Pick<StartedCluster, 'url' | 'nodes' | 'lb' | 'metrics' | 'redis'>;
  /** Wire protocol of the server variant: socket.io, or the ws/Bun variants' JSON frames. */
  protocol: 'socketio' | 'ws';
  jwtSecret: string;
  targets: readonly TargetSpec[];
  options: Record<string, unknown>;
  outDir: string;
  signal: AbortSignal;
  stderr: NodeJS.WritableStream;
  event(type: string, detail?: string, outcome?: 'ok' | 'fail' | 'unknown', action?: { target: string; durationMs: number }): void;
  /** Called with k6's pid once it runs (a forced exit kills it). */
  onSpawn?(pid: number): void;
  /** The environment k6 runs with (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** ms between SIGINT and SIGKILL when the run is aborted (default 15000). */
  killGraceMs?: number;
}

export interface K6Outcome {
  result: ScenarioResult;
  /** k6's exit code (null: killed by `signal`). */
  exitCode: number | null;
  signal: string | null;
  summary: K6Summary | null;
  /** The thresholds set for targets, to reconcile k6's verdicts with wsbench's evaluation. */
  thresholdSpecs: K6ThresholdSpec[];
  command: K6Command;
}

/** One token per connection index (`sub` k6-<index>, all rooms), for the script's SharedArray. */
export function writeTokens(file: string, secret: string, count: number): void {
  const tokens = Array.from({ length: count }, (_, g) => mintToken(secret, `k6-${g}`));
  writeFileSync(file, JSON.stringify(tokens), { mode: 0o600 });
}

/** Reads whichever summary k6 wrote: handleSummary's (preferred), else --summary-export. */
export function readK6Summary(cmd: Pick<K6Command, 'handleSummaryPath' | 'summaryExportPath'>): { summary: K6Summary | null; source: string | null; problem?: string } {
  let failed: { source: string; problem: string } | undefined;
  for (const p of [cmd.handleSummaryPath, cmd.summaryExportPath]) {
    if (!existsSync(p)) continue;
    try {
      return { summary: parseK6Summary(JSON.parse(readFileSync(p, 'utf8')), p), source: p };
    } catch (e) {
      failed ??= { source: p, problem: (e as Error).message };
    }
  }
  return failed ? { summary: null, ...failed } : { summary: null, source: null };
}

/**
 * Runs k6 against the started cluster and reads its summary. Resolves with the result (also for
 * k6's exit 99: thresholds crossed is a verdict, not a failure); throws WSB_INTERRUPTED when
 * aborted, WSB_K6_FAILED for any other non-zero exit or a missing summary.
 */
export async function runK6(prep: K6Prepared, ctx: K6RunContext): Promise<K6Outcome> {
  const dir = join(ctx.outDir, 'k6');
  const logs = join(ctx.outDir, 'logs');
  mkdirSync(dir, { recursive: true });
  mkdirSync(logs, { recursive: true });
  const tokensFile = join(dir, 'tokens.json');
  writeTokens(tokensFile, ctx.jwtSecret, prep.plan.connections);
  const nodeIds = ctx.cluster.nodes.map((n) => n.id);
  const { thresholds, specs } = k6Thresholds(ctx.targets, prep.adapter.submetrics(nodeIds));
  const cmd = k6Command({
    k6Path: prep.k6.path,
    scriptPath: prep.script.path,
    runDir: ctx.outDir,
    url: ctx.cluster.url,
    protocol: ctx.protocol,
    tokensFile,
    plan: prep.plan,
    thresholds,
    baseEnv: ctx.env ?? process.env,
    ...(prep.shard ? { segment: { ...executionSegment(prep.shard.ref.index, prep.shard.ref.count), index: prep.shard.ref.index }, samplesJson: join(dir, 'samples.ndjson') } : {}),
  });
  writeFileSync(join(dir, 'command.json'), JSON.stringify({ command: cmd.command, args: cmd.args, thresholds }, null, 2));

  const { exitCode, signal, tail, chaos, t0, monitor } = await runProcess(cmd, dir, logs, prep, ctx);
  if (ctx.signal.aborted) throw new WsbenchError('WSB_INTERRUPTED', `interrupted (${describeK6Exit(exitCode, signal)})`);
  const read = readK6Summary(cmd);
  const missed = tail.find((l) => l.includes('WSB_SHARD_START_MISSED'));
  if (missed) {
    throw new WsbenchError('WSB_SHARD_START_MISSED', `k6 shard: ${missed.replace(/^.*WSB_SHARD_START_MISSED:\s*/, '').replace(/"\s*$/, '')}`, {
      hint: 'give every shard the same --start-at further ahead (k6 start and setup, then connections / --connect-rate seconds)',
    });
  }
  if (exitCodeForK6(exitCode) === 2) {
    throw new WsbenchError('WSB_K6_FAILED', `${describeK6Exit(exitCode, signal)}${tail.length ? `; its last lines:\n    ${tail.join('\n    ')}` : ''}`, {
      hint: `see ${join(logs, 'k6.stderr.log')} and ${join(logs, 'k6.stdout.log')}${read.source ? `; k6's summary is in ${read.source}` : ''}`,
    });
  }
  if (!read.summary) {
    throw new WsbenchError('WSB_K6_FAILED', `${describeK6Exit(exitCode, signal)} but ${read.problem ?? `wrote no summary (${cmd.handleSummaryPath}, ${cmd.summaryExportPath})`}`, {
      hint: `see ${join(logs, 'k6.stderr.log')}`,
    });
  }
  const measuredSeconds = prep.adapter.measuredSeconds?.(prep.plan);
  const ingested = ingestK6Summary(read.summary, measuredSeconds ? { measuredSeconds } : {});
  const connectionsPerNode: Record<string, number> = Object.fromEntries(nodeIds.map((id) => [id, 0]));
  Object.assign(connectionsPerNode, ingested.connectionsPerNode);
  const notes = [...prep.notes, `k6 engine: summary read from ${read.source} (${read.summary.format})`, ...ingested.notes, ...(chaos?.notes ?? [])];
  Object.assign(ingested.counters, chaos?.counters ?? {});
  const used = Object.values(connectionsPerNode).filter((n) => n > 0).length;
  if (nodeIds.length > 1 && used === 1) notes.push(`the load balancer put every k6 connection on one node (${JSON.stringify(connectionsPerNode)}): nothing crossed nodes`);
  const measured = measuredWindow(prep.plan, t0);
  // A shard: k6's own samples → HDR histograms that `wsbench merge` can add (k6's percentiles cannot be).
  let timeline: ScenarioResult['timeline'] = [];
  let timelineHistograms: ScenarioResult['timelineHistograms'];
  let measureFromEpochMs: number | undefined;
  if (cmd.samplesJson && prep.plan.scenario !== 'connection-capacity' && t0 !== null) {
    const times = broadcastTimes(prep.plan);
    const s = await readK6Samples(cmd.samplesJson, { fromEpochMs: t0 + times.publishAt, zeroEpochMs: t0 + times.measureFrom });
    for (const [name, h] of Object.entries(s.histograms)) ingested.metrics[name] = summarizeUs(h, 'ms');
    timeline = s.timeline;
    timelineHistograms = s.timelineHistograms;
    measureFromEpochMs = t0 + times.measureFrom;
    notes.push(`k6 engine: shard metrics from k6's ${s.timeline.length ? '' : 'empty '}per-sample output ${cmd.samplesJson} as HDR histograms (whole ms as k6 measures them)${s.badLines ? `; ${s.badLines} unreadable lines skipped` : ''}`);
  }
  // connections_peak: the most connections the nodes held at once, sampled every second (what the nodes count).
  const peak = nodesPeak(monitor?.nodeSamples ?? []);
  if (peak !== null) ingested.counters.connections_peak = peak;
  else notes.push('k6 engine: the nodes reported no connection counts, so connections_peak is not measured');
  const extra: Record<string, unknown> = {};
  if (prep.plan.scenario !== 'connection-capacity') {
    const b = ingestBroadcastExtras(read.summary, prep.plan as BroadcastPlan, { t0, redisBackEpochMs: chaos?.redisBackEpochMs, faults: prep.adapter.chaos !== undefined });
    Object.assign(ingested.counters, b.counters);
    if (b.losses) Object.assign(ingested.accounting, { losses: b.losses });
    if (b.windows) extra.windows = b.windows;
    if (b.reconnection) extra.reconnection = b.reconnection;
    notes.push(...b.notes);
    if (prep.plan.scenario === 'redis-outage' && b.windows) {
      // Loss outside the planned outage (no-loss-outside-redis-outage). The k6 windows have no settle
      // window: the `after` window starts when Redis is planned back, so a loss while the nodes reconnect counts.
      const acc = outageAccounting(b.windows, 0);
      Object.assign(ingested.counters, acc.counters);
      notes.push(...acc.notes, 'k6 engine: redis-outage has no settle window after Redis is back (the Node engine allows --settle, default 2 s)');
    }
  }
  const lagTrend = read.summary.metrics.timer_lag_ms;
  const lag = lagTrend && typeof lagTrend.values['p(99)'] === 'number' && typeof lagTrend.values.max === 'number' ? { p99: lagTrend.values['p(99)'], max: lagTrend.values.max } : null;
  if (!lag) notes.push("k6 engine: no timer_lag_ms in k6's summary: the VUs' event-loop delay is not measured (shown as 0)");
  const samples = monitor?.samples ?? [];
  const zero = measured ? measured.fromMs : (samples[0]?.atMs ?? 0);
  // A shard's k6 holds its segment's connections only.
  const held = prep.plan.segments && prep.plan.segments > 1 && prep.shard ? segmentConnections(prep.plan as BroadcastPlan, prep.shard!.ref.index) : prep.plan.connections;
  const health = samples.length ? k6Health(samples, measured ?? { fromMs: 0, toMs: Number.MAX_SAFE_INTEGER }, held, lag) : null;
  if (!health) notes.push('k6 engine: the k6 process could not be sampled from /proc; generator health unknown');
  const genNotes = health?.why.length ? [`GENERATOR-BOUND (k6): ${health.why.join('; ')}`] : [];
  if (monitor?.nodeSamples.length) extra.nodeMetrics = monitor.nodeSamples.map((p) => ({ t: Math.round((p.atMs - zero) / 100) / 10, nodes: p.nodes }));
  return {
    result: {
      metrics: ingested.metrics,
      counters: ingested.counters,
      accounting: ingested.accounting,
      connectionsPerNode,
      timeline,
      ...(timelineHistograms ? { timelineHistograms } : {}),
      ...(measureFromEpochMs !== undefined ? { measureFromEpochMs } : {}),
      generator: {
        workers: health ? [health.health] : [],
        bottleneck: health?.bound ?? false,
        notes: [...genNotes, ...notes],
        processSamples: samples.map((x) => ({ t: Math.round((x.atMs - zero) / 100) / 10, worker: 0, cpuPercent: Math.round(x.cpuPercent * 10) / 10, rssBytes: x.rssBytes })),
      },
      extra,
    },
    exitCode,
    signal,
    summary: read.summary,
    thresholdSpecs: specs,
    command: cmd,
  };
}

/** Connections of segment `index` (1-based) of a plan split by room into `plan.segments`. */
export function segmentConnections(plan: BroadcastPlan, index: number): number {
  let n = 0;
  for (let g = 0; g < plan.connections; g++) if (roleOf(g, plan).room % plan.segments! === index - 1) n++;
  return n;
}

/** The measured window on the script's clock (epoch ms), or null before t0 was seen. */
export function measuredWindow(plan: K6Plan, t0: number | null): { fromMs: number; toMs: number } | null {
  if (t0 === null) return null;
  if (plan.scenario === 'connection-capacity') return { fromMs: t0 + connectedByMs(plan), toMs: t0 + connectedByMs(plan) + plan.holdMs };
  const t = broadcastTimes(plan);
  return { fromMs: t0 + t.measureFrom, toMs: t0 + t.measureTo };
}

const T0_LINE = /WSB_T0=(\d{10,})/;
const TAIL_LINES = 8;

/**
 * Runs the adapter's chaos from the script's t0 until it ends, k6 exits or the run is aborted
 * (`stop`); a fault that fails is on the timeline, and the chaos itself never fails the run.
 */
function startChaos(prep: K6Prepared, ctx: K6RunContext, t0: number, stop: AbortSignal): Promise<K6ChaosOutcome | undefined> {
  const chaos = prep.adapter.chaos;
  if (!chaos) return Promise.resolve(undefined);
  const stopped = () => new WsbenchError('WSB_INTERRUPTED', 'k6 ended before the chaos did');
  const sleep = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (stop.aborted) return reject(stopped());
      const t = setTimeout(() => {
        stop.removeEventListener('abort', onStop);
        resolve();
      }, Math.max(0, ms));
      const onStop = () => {
        clearTimeout(t);
        reject(stopped());
      };
      stop.addEventListener('abort', onStop, { once: true });
    });
  /** Chaos actions seen not to happen, or that nothing observed (cluster/chaos-tally.ts): judged by `chaos-applied`. */
  const tally = new ChaosTally();
  // Only where faults are judged: connection-capacity's "chaos" measures memory, it breaks nothing.
  const judged = ctx.targets.some((t) => t.id === 'chaos-applied');
  const c: K6ChaosContext = {
    plan: prep.plan,
    options: ctx.options,
    cluster: ctx.cluster,
    at: (ms) => sleep(t0 + ms - Date.now()),
    sleep,
    chaos: async (action) => {
      if (stop.aborted) throw stopped();
      // cluster/chaos.ts on the epoch-ms clock of the script (µs for its records).
      const rec = await applyChaos(ctx.cluster as StartedCluster, action, () => Date.now() * 1000);
      ctx.event(rec.action, rec.detail, rec.outcome, { target: rec.target, durationMs: (rec.endUs - rec.startUs) / 1000 });
      tally.add(rec);
      return { outcome: rec.outcome, startEpochMs: rec.startUs / 1000, endEpochMs: rec.endUs / 1000 };
    },
    act: async (type, detail, fn) => {
      if (stop.aborted) throw stopped();
      // Nothing observes what fn did: its outcome is unknown (a thrown error: fail), never an assumed ok.
      try {
        await fn();
        const why = `${detail}: ran, its effect not observed`;
        ctx.event(type, why, 'unknown');
        if (judged) tally.add({ action: type, target: detail, outcome: 'unknown', detail: 'ran, its effect not observed', hint: 'apply it through chaos(), which observes its effect' });
      } catch (e) {
        ctx.event(type, `${detail}: ${(e as Error).message}`, 'fail');
        tally.add({ action: type, target: detail, outcome: 'fail', detail: (e as Error).message });
      }
    },
    event: ctx.event,
    signal: stop,
  };
  const withTally = (outcome: K6ChaosOutcome | void): K6ChaosOutcome => {
    const t = tally.result();
    return { ...(outcome ?? {}), counters: { ...(outcome?.counters ?? {}), ...t.counters }, notes: [...(outcome?.notes ?? []), ...t.notes] };
  };
  return chaos(c).then(withTally, (e: unknown) => {
    // A chaos that did not run to its end: what it had still to do was never applied, or not observed.
    const outran = stop.aborted;
    const why = outran ? 'stopped: k6 ended first' : `failed: ${(e as Error).message}`;
    ctx.event('chaos', why, outran ? 'unknown' : 'fail');
    if (judged) tally.add({
      action: 'chaos',
      target: 'k6',
      outcome: outran ? 'unknown' : 'fail',
      detail: outran ? 'k6 ended before the chaos did; the rest of it was never applied' : why,
      hint: 'give k6 time to outlive the chaos (a longer --duration)',
    });
    return withTally(undefined);
  });
}

/** Spawns k6, streams and logs its output, runs the chaos on its clock, forwards an abort. */
function runProcess(
  cmd: K6Command,
  cwd: string,
  logs: string,
  prep: K6Prepared,
  ctx: K6RunContext,
): Promise<{ exitCode: number | null; signal: string | null; tail: string[]; chaos: K6ChaosOutcome | undefined; t0: number | null; monitor: K6Monitor | null }> {
  const plan = prep.plan;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.command, cmd.args, { cwd, env: cmd.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chaosStop = new AbortController();
    let chaos: Promise<K6ChaosOutcome | undefined> = Promise.resolve(undefined);
    let chaosOutcome: K6ChaosOutcome | undefined;
    const tail: string[] = [];
    let t0Seen = false;
    let t0: number | null = null;
    let monitor: K6Monitor | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    const outLog = createWriteStream(join(logs, 'k6.stdout.log'));
    const errLog = createWriteStream(join(logs, 'k6.stderr.log'));
    const onLine = (line: string, isErr: boolean) => {
      (isErr ? errLog : outLog).write(`${line}\n`);
      if (line.trim() === '') return;
      ctx.stderr.write(`k6 │ ${line}\n`);
      if (isErr) {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
      }
      const m = !t0Seen ? T0_LINE.exec(line) : null;
      if (m) {
        t0Seen = true;
        t0 = Number(m[1]);
        ctx.event('phase', `k6 t0 (${plan.vus} VUs, ${plan.connections} connections)`);
        chaos = startChaos(prep, ctx, t0, chaosStop.signal);
      }
    };
    createInterface({ input: child.stdout }).on('line', (l) => onLine(l, false));
    createInterface({ input: child.stderr }).on('line', (l) => onLine(l, true));
    const onAbort = () => {
      // k6 stops on SIGINT, still writes its summary, and exits 105; SIGKILL if it lingers.
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), ctx.killGraceMs ?? 15_000);
    };
    child.once('spawn', () => {
      if (child.pid !== undefined) {
        ctx.onSpawn?.(child.pid);
        monitor = startK6Monitor(child.pid, () => ctx.cluster.metrics());
      }
      ctx.event('k6', `started (pid ${child.pid})`, 'ok');
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
    const finish = () => {
      chaosStop.abort();
      if (killTimer) clearTimeout(killTimer);
      ctx.signal.removeEventListener('abort', onAbort);
    };
    child.once('error', (e) => {
      finish();
      void monitor?.stop();
      outLog.end();
      errLog.end();
      reject(new WsbenchError('WSB_K6_FAILED', `cannot run ${cmd.command}: ${e.message}`, { hint: 'check --k6 / K6_BIN', cause: e }));
    });
    child.once('close', (code, sig) => {
      finish();
      ctx.event('k6', describeK6Exit(code, sig), code === 0 || code === 99 ? 'ok' : 'fail');
      let open = 4;
      const done = () => {
        if (--open === 0) resolve({ exitCode: code, signal: sig, tail, chaos: chaosOutcome, t0, monitor });
      };
      void (monitor ? monitor.stop() : Promise.resolve()).then(done);
      outLog.end(done);
      errLog.end(done);
      void chaos.then((o) => {
        chaosOutcome = o;
        done();
      });
    });
  });
}
