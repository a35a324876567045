/**
 * The end of a run: what the scenario measured + the run's identity, environment and topology →
 * the RunReport, with targets evaluated (and reconciled with the engine's own judgement) and the
 * verdict. Pure apart from reading the package version and the machine's description.
 */
import { redactServer, shownUserServer } from '../config/user-server.js';
import { redactUrl } from '../config/redact.js';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { WsbenchError } from '../common/errors.js';
import { packageRoot } from '../common/paths.js';
import { calibrationFaultOverride } from '../calibrate/faults.js';
import { insecureOverride } from '../cluster/insecure-checks.js';
import { SERVER_DEFAULTS, adapterOf, type StartedCluster } from '../cluster/types.js';
import { emptyAccounting } from '../model/accounting.js';
import { evaluateTargets, verdictOf } from '../model/evaluate.js';
import { explainTargets } from '../scenarios/stalls.js';
import { SCHEMA_VERSION, type RunReport } from '../model/run-report.js';
import type { EngineOutcome } from '../engines/types.js';
import type { ScenarioResult } from '../scenarios/define.js';
import type { RunPlan } from './plan.js';

/** The report's keys for a user's server as shown (topology.serverImage / serverCommand). */
function reportedServer(shown: ReturnType<typeof shownUserServer>): { serverImage?: string; serverCommand?: string } {
  return shown === undefined ? {} : 'image' in shown ? { serverImage: shown.image } : { serverCommand: shown.command };
}

export function toolVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function environment(): RunReport['environment'] {
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

/** What a run that measured nothing reports (it failed before or while the scenario ran). */
export function emptyResult(): ScenarioResult {
  return {
    metrics: {},
    counters: {},
    accounting: { ...emptyAccounting(), sameNode: emptyAccounting(), crossNode: emptyAccounting() },
    connectionsPerNode: {},
    timeline: [],
    generator: { workers: [], bottleneck: false, notes: [] },
  };
}

/** The seed's value of each server setting a scenario may override (the report shows both). */
const SEED_SERVER_SETTINGS: Record<RunPlan['serverOverrides'][number]['setting'], number> = {
  rateLimit: SERVER_DEFAULTS.rateLimit,
  rateWindowMs: SERVER_DEFAULTS.rateWindowMs,
  maxPayload: SERVER_DEFAULTS.maxPayload,
  roomCapacity: SERVER_DEFAULTS.roomCapacity,
};

export interface ReportInput {
  plan: RunPlan;
  startedAt: Date;
  /** Date.now() when the run started. */
  t0: number;
  cluster: StartedCluster | undefined;
  result: ScenarioResult;
  /** The engine's outcome, when it ran to the end. */
  engine: EngineOutcome | undefined;
  events: RunReport['events'];
  /** Run-level notes (calibration faults, insecure nodes, planning caveats, teardown errors). */
  notes: string[];
  failure: WsbenchError | undefined;
}

/** Assembles the RunReport: targets are evaluated only when the run did not fail. */
export function assembleReport(i: ReportInput): RunReport {
  const { plan, result, failure } = i;
  const t = plan.topology;
  const base: Omit<RunReport, 'targets' | 'verdict'> = {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'wsbench', version: toolVersion() },
    runId: plan.runId,
    startedAt: i.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - i.t0,
    environment: environment(),
    topology: {
      driver: plan.driver,
      ...(t.userServer ? { server: 'custom' as const, ...reportedServer(shownUserServer(t.userServer, plan.driver)) } : { server: t.server, adapter: adapterOf(t) }),
      nodes: t.nodes,
      lb: plan.external ? 'external' : 'nginx',
      lbPolicy: plan.external ? 'external' : t.lbPolicy,
      redis: i.cluster?.redis.url ?? 'not started',
      versions: i.cluster?.versions ?? {},
      ...(plan.external ? { url: redactUrl(plan.external.url) } : {}),
      overrides: [
        ...(t.calibrationFaults?.length ? [calibrationFaultOverride(t.calibrationFaults)] : []),
        ...insecureOverride(t.insecureDisable),
        ...plan.serverOverrides.map((o) => ({ setting: o.setting, value: o.value, seedDefault: SEED_SERVER_SETTINGS[o.setting], why: o.why })),
      ],
    },
    scenario: { name: plan.scenario.name, describe: plan.scenario.describe },
    options: plan.options,
    // Secrets in the user's server `env` are not stored (docs/report.md).
    config: plan.config && { ...plan.config, server: redactServer(plan.config.server) },
    metrics: result.metrics,
    counters: result.counters,
    accounting: result.accounting,
    connectionsPerNode: result.connectionsPerNode,
    timeline: result.timeline,
    events: i.events,
    ...(result.extra ?? {}),
    generator: { ...result.generator, notes: [...result.generator.notes, ...(result.notes ?? []), ...i.notes] },
  };
  let targets = failure ? [] : evaluateTargets(base, plan.targets);
  const judged = !failure && i.engine?.judge ? i.engine.judge(targets) : undefined;
  if (judged) {
    targets = judged.targets;
    base.generator.notes.push(...judged.notes);
  }
  // A failed latency target says whether stalls or a sustained breach failed it (docs/stability.md).
  targets = explainTargets(targets, base);
  let verdict = verdictOf(targets, { error: failure !== undefined && failure.code !== 'WSB_INTERRUPTED', interrupted: failure?.code === 'WSB_INTERRUPTED' });
  // The engine failed the run itself (k6's exit 99: a threshold crossed): a missed target, never a pass.
  if (judged?.failed && verdict === 'pass') verdict = 'fail';
  return {
    ...base,
    targets,
    verdict,
    ...(failure ? { error: { code: failure.code, message: failure.message, hint: failure.hint } } : {}),
  };
}
