/**
 * The run core: one plan end to end — engine prepared, cluster up, scenario, teardown, report —
 * with no terminal in it. It prints nothing; what a user would watch (log lines, progress, cluster
 * events, chaos actions, an engine's own output) reaches the caller as typed events (`onEvent`).
 */
import { writeFileSync } from 'node:fs';
import { prepareOutDir } from '../common/out-dir.js';
import { join, resolve } from 'node:path';
import { WsbenchError, isWsbenchError } from '../common/errors.js';
import { DisposerStack } from '../common/disposer-stack.js';
import { pidsRecord } from '../cluster/clean.js';
import { createDriver } from '../cluster/create-driver.js';
import { calibrationFaultNote } from '../calibrate/faults.js';
import type { StartedCluster } from '../cluster/types.js';
import { engineFor } from '../engines/index.js';
import type { EngineOutcome, PreparedEngine } from '../engines/types.js';
import { exitCodeFor } from '../model/evaluate.js';
import { partialOf } from '../reports/partial.js';
import { shardOptions } from '../load/shard-plan.js';
import { writeFileAtomic } from '../reports/write-report.js';
import type { RunReport } from '../model/run-report.js';
import type { RunEvent } from '../model/run-events.js';
import type { ScenarioResult } from '../scenarios/define.js';
import { assembleReport, emptyResult, toolVersion } from './assemble-report.js';
import type { RunPlan } from './plan.js';
import { writeRunOutputs } from './write-outputs.js';

export { toolVersion };

export interface RunOptions {
  /** Aborting it stops the run gracefully: teardown, then a partial report (verdict `interrupted`). */
  signal?: AbortSignal;
  /** Every log line, progress snapshot, cluster event and chaos action, as it happens. */
  onEvent?: (e: RunEvent) => void;
  /** Called once with a function listing every pid the run has started, so a forced exit can kill them. */
  onPids?: (pids: () => number[]) => void;
  /** Called once the cluster is up, before any load (`wsbench calibrate --wire` starts its capture here). */
  onClusterUp?: (cluster: StartedCluster, outDir: string) => Promise<void>;
}

export interface RunOutcome {
  report: RunReport;
  /** Where report.json is (or would have been) written. */
  reportPath: string;
  /** The other files written beside report.json (report.html, junit.xml). */
  written: string[];
  /** 0 pass, 1 a target missed, 2 harness error or interrupted (130 is the CLI's, for a forced exit). */
  exitCode: number;
  /** What stopped the run or its report, when something did (also in `report.error`). */
  error?: WsbenchError;
}

/**
 * Runs one plan end to end. Never leaves a process running: the cluster and everything the engine
 * started are on one disposer stack that runs on success, failure and abort. A report is written
 * in every case where the run started.
 */
export async function run(plan: RunPlan, opts: RunOptions = {}): Promise<RunOutcome> {
  const signal = opts.signal ?? new AbortController().signal;
  const emit = (e: RunEvent) => opts.onEvent?.(e);
  const say = (message: string) => emit({ type: 'log', message });
  const startedAt = new Date();
  const t0 = Date.now();
  // Checked and made before anything starts (a coded error, never a hang on /proc: common/out-dir.ts).
  const outDir = prepareOutDir(plan.outDir ?? join('wsbench-results', plan.runId));
  const reportPath = join(outDir, 'report.json');
  const stack = new DisposerStack();
  const events: RunReport['events'] = [];
  const event = (type: string, detail?: string, outcome?: 'ok' | 'fail' | 'unknown', action?: { target: string; durationMs: number }) => {
    const endMs = Date.now() - t0;
    // A chaos action is reported when it ends: its start is its end minus its duration.
    const atMs = action ? Math.round(endMs - action.durationMs) : endMs;
    const e = { atMs, type, ...(detail === undefined ? {} : { detail }), ...(outcome ? { outcome } : {}), ...(action ? { target: action.target, endMs } : {}) };
    events.push(e);
    emit({ type: 'event', event: e });
  };
  let cluster: StartedCluster | undefined;
  let engine: PreparedEngine | undefined;
  /** Processes the driver spawned while the cluster was starting (until `cluster` is set). */
  const startingPids: number[] = [];
  const allPids = () => [...new Set([...(cluster?.pids() ?? startingPids), ...(engine?.pids() ?? [])])];
  opts.onPids?.(allPids);
  // With each pid's command line and start time, so that `wsbench clean` only ever kills the run's own programs.
  const recordPids = () => writeFileSync(join(outDir, 'pids.json'), JSON.stringify(pidsRecord(plan.runId, plan.driver, allPids()), null, 2));

  let result: ScenarioResult = emptyResult();
  let engineOutcome: EngineOutcome | undefined;
  let failure: WsbenchError | undefined;
  const t = plan.topology;
  const notes: string[] = t.calibrationFaults?.length ? [calibrationFaultNote(t.calibrationFaults)] : [];
  notes.push(...(plan.notes ?? []));
  if (plan.shard) notes.push(`SHARD ${plan.shard.ref.index}/${plan.shard.ref.count} of plan ${plan.shard.planId}: ${plan.shard.share.rooms.length} of ${String(plan.options.rooms)} rooms, ${plan.shard.share.connections} of ${String(plan.options.connections)} connections (options are the whole plan's; \`wsbench merge\` judges the whole)`);
  if (t.insecureDisable?.length) notes.push(`INSECURE NODES (test/calibration only, --insecure-disable): the nodes skip ${t.insecureDisable.join(', ')} on purpose`);
  try {
    say(`wsbench ${toolVersion()} · ${plan.scenario.name} · run ${plan.runId}`);
    // The engine is prepared (k6 looked for, its script bundled) BEFORE the cluster starts: a missing k6 leaves nothing running.
    // A shard runs its share of the plan's connections, rooms and connect rate (load/shard-plan.ts).
    engine = await engineFor(plan.engine).prepare({
      scenario: plan.scenario,
      options: plan.shard ? shardOptions(plan.options, plan.shard.share) : plan.options,
      ...(plan.shard ? { shard: { roomNames: plan.shard.share.roomNames, startAtMs: plan.shard.startAtMs, ref: plan.shard.ref, planOptions: plan.options } } : {}),
      topology: t,
      targets: plan.targets,
      outDir,
      k6Path: plan.k6Path,
    });
    for (const line of engine.log) say(line);
    if (plan.external) say(`using the running cluster at ${plan.external.url} (not started by wsbench)${plan.external.nodeUrls.length ? `, nodes ${plan.external.nodeUrls.join(', ')}` : ''}`);
    else say(`starting cluster: redis-server, ${t.nodes} ${t.server} nodes${t.adapter === 'redis-streams' ? ' (redis-streams adapter, connection state recovery)' : ''}, nginx (${t.lbPolicy}) — logs in ${outDir}/logs`);
    if (t.calibrationFaults?.length) say(calibrationFaultNote(t.calibrationFaults));
    if (t.insecureDisable?.length) say(`INSECURE NODES (test/calibration only): every node skips these checks on purpose: ${t.insecureDisable.join(', ')}`);
    event('cluster', 'starting');
    const driver = await createDriver({ driver: plan.driver, docker: plan.docker, external: plan.external });
    // Every process is in pids.json as soon as it is spawned: a `kill -9` mid-start leaves nothing `wsbench clean` cannot find.
    cluster = await driver.start(t, {
      runId: plan.runId,
      runDir: outDir,
      signal,
      onProcess: (pid) => {
        startingPids.push(pid);
        recordPids();
      },
    });
    const started = cluster;
    stack.push('cluster', async () => {
      const errs = await started.down();
      if (errs.length) throw new Error(errs.map((e) => e.message).join('; '));
    });
    recordPids();
    event('cluster', `up at ${cluster.url}`, 'ok');
    say(`cluster up: ${cluster.url} → ${cluster.nodes.map((n) => `${n.id} :${n.port}`).join(', ')} · redis :${cluster.redis.port}`);
    if (opts.onClusterUp) await opts.onClusterUp(cluster, outDir);
    if (signal.aborted) throw new WsbenchError('WSB_INTERRUPTED', 'interrupted');

    engineOutcome = await engine.run({
      cluster,
      signal,
      event,
      progress: (snapshot) => emit({ type: 'progress', snapshot }),
      output: (line) => emit({ type: 'output', source: plan.engine, line }),
      defer: (name, close) => stack.push(name, close),
      onProcess: recordPids,
    });
    result = engineOutcome.result;
  } catch (e) {
    failure = isWsbenchError(e)
      ? e
      : new WsbenchError('WSB_INTERNAL', e instanceof Error ? e.message : String(e), { hint: 'this is a wsbench bug; run with --debug and report it', cause: e });
    if (signal.aborted && failure.code !== 'WSB_INTERRUPTED') {
      failure = new WsbenchError('WSB_INTERRUPTED', `interrupted (${failure.message})`);
    }
  } finally {
    say('tearing down…');
    const errors = await stack.dispose();
    for (const e of errors) notes.push(`teardown: ${e.message}`);
    event('teardown', errors.length ? `${errors.length} errors` : 'clean', errors.length ? 'fail' : 'ok');
  }

  const report = assembleReport({ plan, startedAt, t0, cluster, result, engine: engineOutcome, events, notes, failure });
  const out = await writeRunOutputs(outDir, report);
  failure ??= out.failure;
  // A shard's partial report: its share, with what `wsbench merge` needs (reports/partial.ts).
  if (plan.shard && !out.failure) {
    const partialPath = join(outDir, 'partial.json');
    try {
      await writeFileAtomic(partialPath, `${JSON.stringify(partialOf(report, plan.shard, result.timelineHistograms ?? [], plan.clusterId), null, 2)}\n`);
      if (!failure) say(`shard ${plan.shard.ref.index}/${plan.shard.ref.count} of plan ${plan.shard.planId}: partial report ${partialPath} — its targets are this share's only; \`wsbench merge\` judges the whole`);
    } catch (e) {
      failure ??= new WsbenchError('WSB_REPORT_WRITE_FAILED', `cannot write ${partialPath}: ${(e as Error).message}`, { hint: 'choose a writable --out folder' });
    }
  }
  // A shard that measured its share exits 0: the verdict belongs to `wsbench merge`.
  return { report, reportPath, written: out.also, exitCode: failure ? failure.exitCode : plan.shard ? 0 : exitCodeFor(report.verdict), ...(failure ? { error: failure } : {}) };
}
