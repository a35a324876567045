import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { WsbenchError, isWsbenchError } from '../common/errors.js';
import { DisposerStack } from '../common/disposer-stack.js';
import { packageRoot } from '../common/paths.js';
import { LocalDriver } from '../cluster/local-driver.js';
import { pidsRecord } from '../cluster/clean.js';
import { calibrationFaultNote, calibrationFaultOverride } from '../cluster/calibration-faults.js';
import { ExternalDriver } from '../cluster/external-driver.js';
import { insecureOverride } from '../cluster/insecure-checks.js';
import { SERVER_VARIANT_INFO, adapterOf, type StartedCluster } from '../cluster/types.js';
import { LoadGenerator } from '../load/load-generator.js';
import { emptyAccounting } from '../load/delivery-ledger.js';
import { SCHEMA_VERSION, type RunReport } from '../reports/run-report.js';
import { evaluateTargets, exitCodeFor, verdictOf } from '../reports/evaluate.js';
import { renderConsole, renderProgressLine } from '../reports/console.js';
import { writeFileAtomic, writeReportAtomic } from '../reports/write-report.js';
import { renderHtml } from '../reports/html.js';
import { renderJunit } from '../reports/junit.js';
import { exitCodeForK6, reconcileK6Thresholds } from '../reports/k6-summary.js';
import { prepareK6, runK6, type K6Outcome, type K6Prepared } from '../engines/k6/engine.js';
import type { ProgressSnapshot, ScenarioResult } from '../scenarios/define.js';
import { explainTargets } from '../scenarios/stalls.js';
import type { RunPlan } from './plan.js';

/** Process globals the run uses, passed in (k6's GlobalState): tests give their own. */
export interface RunIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  signal: AbortSignal;
  /** Called with every pid the run starts, so a forced exit can kill them. */
  onPids?: (pids: () => number[]) => void;
  /** Called once the cluster is up, before any load (`wsbench calibrate --wire` starts its capture here). */
  onClusterUp?: (cluster: StartedCluster, outDir: string) => Promise<void>;
}

export interface RunOutcome {
  report: RunReport;
  reportPath: string;
  exitCode: number;
}

export function toolVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function environment(): RunReport['environment'] {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemBytes: os.totalmem(),
    hostname: os.hostname(),
  };
}

function emptyResult(): ScenarioResult {
  return {
    metrics: {},
    counters: {},
    accounting: { ...emptyAccounting(), sameNode: emptyAccounting(), crossNode: emptyAccounting() },
    connectionsPerNode: {},
    timeline: [],
    generator: { workers: [], bottleneck: false, notes: [] },
  };
}

/**
 * Runs one plan end to end: cluster up, scenario, teardown, report. Never leaves a process
 * running: the cluster and every load generator are on one disposer stack that runs on success,
 * failure and abort. Resolves with the report and the exit code (0 pass, 1 target missed,
 * 2 harness error or interrupted); a report is written in every case where the run started.
 */
export async function run(plan: RunPlan, io: RunIO): Promise<RunOutcome> {
  const startedAt = new Date();
  const t0 = Date.now();
  const outDir = resolve(plan.outDir ?? join('wsbench-results', plan.runId));
  mkdirSync(outDir, { recursive: true });
  const reportPath = join(outDir, 'report.json');
  const stack = new DisposerStack();
  const events: RunReport['events'] = [];
  const event = (type: string, detail?: string, outcome?: 'ok' | 'fail' | 'unknown', action?: { target: string; durationMs: number }) => {
    const endMs = Date.now() - t0;
    // A chaos action is reported when it ends: its start is its end minus its duration.
    const atMs = action ? Math.round(endMs - action.durationMs) : endMs;
    events.push({ atMs, type, ...(detail === undefined ? {} : { detail }), ...(outcome ? { outcome } : {}), ...(action ? { target: action.target, endMs } : {}) });
  };
  let cluster: StartedCluster | undefined;
  const loads: LoadGenerator[] = [];
  /** The k6 process of `--engine k6` (it has exited by the time runK6 returns). */
  const enginePids: number[] = [];
  /** Processes the driver spawned while the cluster was starting (until `cluster` is set). */
  const startingPids: number[] = [];
  const allPids = () => [...new Set([...(cluster?.pids() ?? startingPids), ...loads.flatMap((l) => l.pids()), ...enginePids])];
  io.onPids?.(allPids);
  const say = (line: string) => io.stderr.write(`${line}\n`);
  const tty = Boolean(io.stderr.isTTY);
  let lastProgress = 0;
  let progressShown = false;
  const progress = (p: ProgressSnapshot) => {
    const line = renderProgressLine(p);
    if (tty) {
      io.stderr.write(`\r${line}\x1b[K`);
      progressShown = true;
    } else if (Date.now() - lastProgress >= 5000) {
      lastProgress = Date.now();
      say(line);
    }
  };
  const endProgress = () => {
    if (progressShown) io.stderr.write('\n');
    progressShown = false;
  };
  // With each pid's command line and start time, so that `wsbench clean` only ever kills the run's own programs.
  const recordPids = () => writeFileSync(join(outDir, 'pids.json'), JSON.stringify(pidsRecord(plan.runId, plan.driver, allPids()), null, 2));

  let result: ScenarioResult = emptyResult();
  let k6Outcome: K6Outcome | undefined;
  let failure: WsbenchError | undefined;
  const notes: string[] = plan.topology.calibrationFaults?.length ? [calibrationFaultNote(plan.topology.calibrationFaults)] : [];
  notes.push(...(plan.notes ?? []));
  if (plan.topology.insecureDisable?.length) notes.push(`INSECURE NODES (test/calibration only, --insecure-disable): the nodes skip ${plan.topology.insecureDisable.join(', ')} on purpose`);
  try {
    const t = plan.topology;
    say(`wsbench ${toolVersion()} · ${plan.scenario.name} · run ${plan.runId}`);
    // k6 is looked for (and the script bundled) BEFORE the cluster starts: a missing k6 leaves nothing running.
    let k6: K6Prepared | undefined;
    if (plan.engine === 'k6') {
      k6 = await prepareK6({ scenario: plan.scenario.name, options: plan.options, nodes: t.nodes, k6Path: plan.k6Path, outDir });
      say(`k6 engine: ${k6.k6.version.raw} (${k6.k6.path}), script bundled to ${k6.script.path}`);
    }
    if (plan.external) say(`using the running cluster at ${plan.external.url} (not started by wsbench)${plan.external.nodeUrls.length ? `, nodes ${plan.external.nodeUrls.join(', ')}` : ''}`);
    else say(`starting cluster: redis-server, ${t.nodes} ${t.server} nodes${t.adapter === 'redis-streams' ? ' (redis-streams adapter, connection state recovery)' : ''}, nginx (${t.lbPolicy}) — logs in ${outDir}/logs`);
    if (t.calibrationFaults?.length) say(calibrationFaultNote(t.calibrationFaults));
    if (t.insecureDisable?.length) say(`INSECURE NODES (test/calibration only): every node skips these checks on purpose: ${t.insecureDisable.join(', ')}`);
    event('cluster', 'starting');
    // The docker driver (and testcontainers with it) is loaded only when asked for.
    const driver =
      plan.driver === 'docker' ? new (await import('../cluster/docker-driver.js')).DockerDriver(plan.docker) : plan.external ? new ExternalDriver(plan.external) : new LocalDriver();
    // Every process is in pids.json as soon as it is spawned: a `kill -9` mid-start leaves nothing `wsbench clean` cannot find.
    cluster = await driver.start(t, {
      runId: plan.runId,
      runDir: outDir,
      signal: io.signal,
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
    if (io.onClusterUp) await io.onClusterUp(cluster, outDir);
    if (io.signal.aborted) throw new WsbenchError('WSB_INTERRUPTED', 'interrupted');

    if (k6) {
      k6Outcome = await runK6(k6, {
        cluster,
        protocol: SERVER_VARIANT_INFO[t.server].protocol,
        jwtSecret: t.jwtSecret,
        targets: plan.targets,
        options: plan.options,
        outDir,
        signal: io.signal,
        stderr: io.stderr,
        event,
        onSpawn: (pid) => {
          enginePids.push(pid);
          recordPids();
        },
      });
      result = k6Outcome.result;
    } else result = await plan.scenario.run({
      cluster,
      options: plan.options,
      topology: t,
      signal: io.signal,
      event,
      progress,
      startLoad: async (opts) => {
        // The ws and bun variants speak the JSON wire protocol; socketio speaks Socket.IO.
        // --adapter redis-streams: the clients resume their Socket.IO session on reconnect (connection state recovery).
        const gen = await LoadGenerator.start({ ...opts, url: started.url, jwtSecret: t.jwtSecret, protocol: SERVER_VARIANT_INFO[t.server].protocol, recover: t.adapter === 'redis-streams' });
        loads.push(gen);
        stack.push('load generator', () => gen.close());
        recordPids();
        return gen;
      },
    });
    endProgress();
  } catch (e) {
    endProgress();
    failure = isWsbenchError(e)
      ? e
      : new WsbenchError('WSB_INTERNAL', e instanceof Error ? e.message : String(e), { hint: 'this is a wsbench bug; run with --debug and report it', cause: e });
    if (io.signal.aborted && failure.code !== 'WSB_INTERRUPTED') {
      failure = new WsbenchError('WSB_INTERRUPTED', `interrupted (${failure.message})`);
    }
  } finally {
    say('tearing down…');
    const errors = await stack.dispose();
    for (const e of errors) notes.push(`teardown: ${e.message}`);
    event('teardown', errors.length ? `${errors.length} errors` : 'clean', errors.length ? 'fail' : 'ok');
  }

  const base: Omit<RunReport, 'targets' | 'verdict'> = {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'wsbench', version: toolVersion() },
    runId: plan.runId,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - t0,
    environment: environment(),
    topology: {
      driver: plan.driver,
      server: plan.topology.server,
      adapter: adapterOf(plan.topology),
      nodes: plan.topology.nodes,
      lb: plan.external ? 'external' : 'nginx',
      lbPolicy: plan.external ? 'external' : plan.topology.lbPolicy,
      redis: cluster?.redis.url ?? 'not started',
      versions: cluster?.versions ?? {},
      overrides: [
        ...(plan.topology.calibrationFaults?.length ? [calibrationFaultOverride(plan.topology.calibrationFaults)] : []),
        ...insecureOverride(plan.topology.insecureDisable),
        ...plan.serverOverrides.map((o) => ({
          setting: o.setting,
          value: o.value,
          seedDefault: { rateLimit: 100, rateWindowMs: 60_000, maxPayload: 1_048_576, roomCapacity: 1000 }[o.setting],
          why: o.why,
        })),
      ],
    },
    scenario: { name: plan.scenario.name, describe: plan.scenario.describe },
    options: plan.options,
    metrics: result.metrics,
    counters: result.counters,
    accounting: result.accounting,
    connectionsPerNode: result.connectionsPerNode,
    timeline: result.timeline,
    events,
    ...(result.extra ?? {}),
    generator: { ...result.generator, notes: [...result.generator.notes, ...(result.notes ?? []), ...notes] },
  };
  let targets = failure ? [] : evaluateTargets(base, plan.targets);
  if (k6Outcome && !failure) {
    // k6 judged the targets it can express as thresholds; a crossed one fails its target (reports/k6-summary.ts).
    const reconciled = reconcileK6Thresholds(targets, k6Outcome.thresholdSpecs, k6Outcome.summary, k6Outcome.exitCode);
    targets = reconciled.targets;
    base.generator.notes.push(...reconciled.notes);
  }
  targets = explainTargets(targets, base);
  let verdict = verdictOf(targets, { error: failure !== undefined && failure.code !== 'WSB_INTERRUPTED', interrupted: failure?.code === 'WSB_INTERRUPTED' });
  // k6's exit 99 (thresholds crossed) is a missed target: never a pass (wsbench exit 1).
  if (k6Outcome && !failure && verdict === 'pass' && exitCodeForK6(k6Outcome.exitCode) === 1) verdict = 'fail';
  const report: RunReport = {
    ...base,
    targets,
    verdict,
    ...(failure ? { error: { code: failure.code, message: failure.message, hint: failure.hint } } : {}),
  };
  let reportWritten = false;
  try {
    await writeReportAtomic(reportPath, report);
    reportWritten = true;
  } catch (e) {
    if (isWsbenchError(e) && e.code === 'WSB_REPORT_INVALID') {
      // A report outside the schema is a wsbench bug: keep the measurements for the bug report.
      await writeFileAtomic(join(outDir, 'report.invalid.json'), `${JSON.stringify(report, null, 2)}\n`).catch(() => undefined);
      failure ??= e;
    } else {
      failure ??= new WsbenchError('WSB_REPORT_WRITE_FAILED', `cannot write ${reportPath}: ${(e as Error).message}`, { hint: 'choose a writable --out folder' });
    }
  }
  // report.html and junit.xml beside report.json (issue #6), each atomic: complete or absent.
  const rendered: string[] = [];
  for (const [file, render] of reportWritten ? ([['report.html', renderHtml], ['junit.xml', renderJunit]] as const) : []) {
    try {
      await writeFileAtomic(join(outDir, file), render(report));
      rendered.push(file);
    } catch (e) {
      failure ??= isWsbenchError(e)
        ? e
        : new WsbenchError('WSB_INTERNAL', `cannot render ${file}: ${(e as Error).message}`, { hint: 'this is a wsbench bug; run with --debug and report it', cause: e });
    }
  }
  if (plan.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (!failure || result.timeline.length > 0) io.stdout.write(`${renderConsole(report)}\n`);
  if (failure) say(`error ${failure.code}: ${failure.message}${failure.hint ? `\nhint: ${failure.hint}` : ''}`);
  say(`report: ${reportPath}${rendered.length ? ` (also ${rendered.join(', ')})` : ''}`);
  return { report, reportPath, exitCode: failure ? failure.exitCode : exitCodeFor(verdict) };
}
