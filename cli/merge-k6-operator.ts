/**
 * `wsbench merge --k6-operator <manifest> <results folder…>`: the partial reports of a k6-operator
 * TestRun's runners, made from what each runner wrote into the results claim
 * (`<name>-<i>.summary.json`, `<name>-<i>.samples.json.gz`) and the rendered manifest's ConfigMap
 * (`wsbench-merge.json`: scenario, resolved config, runner count, agreed start if any, plan id; `WSB_PLAN`:
 * the k6 plan every runner ran). Runner i is shard i/N of the plan `wsbench run --engine k6
 * --shard i/N --start-at` would make (same plan id), so the partials go through the same merge.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { WsbenchError } from '../common/errors.js';
import { redactUrl } from '../config/redact.js';
import { runnerResult } from '../engines/k6/runner-outputs.js';
import type { K6Plan } from '../engines/k6/scripts/lib/plan.js';
import { MERGE_KEY, type K6OperatorMergeInfo } from '../render/k6-operator.js';
import type { RunReport } from '../model/run-report.js';
import { partialOf, type PartialReport } from '../reports/partial.js';
import { assembleReport } from '../runner/assemble-report.js';
import { buildPlan } from './plan.js';

function invalid(message: string, hint: string): WsbenchError {
  return new WsbenchError('WSB_MERGE_INVALID', message, { hint });
}

/**
 * The rendered ConfigMap's data (from a YAML stream, `render … > file`, or a `render --out` folder),
 * and from the same manifest what the runners ran against: the target URL (`WSB_URL`) and the
 * TestRun's runner image.
 */
export function mergeInfoOf(manifest: string): { info: K6OperatorMergeInfo; plan: K6Plan; url?: string; runnerImage?: string } {
  if (!existsSync(manifest)) throw invalid(`--k6-operator ${manifest}: no such file or folder`, 'give the manifest `wsbench render k6-operator` wrote (stdout saved to a file, or its --out folder)');
  const files = statSync(manifest).isDirectory() ? readdirSync(manifest).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(manifest, f)) : [manifest];
  const objects = files.flatMap((file) => parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => doc.toJS() as { kind?: string; data?: Record<string, string>; spec?: { runner?: { image?: unknown } } } | null));
  const cm = objects.find((o) => o?.kind === 'ConfigMap' && o.data?.[MERGE_KEY]);
  if (!cm?.data?.WSB_PLAN) {
    throw invalid(`--k6-operator ${manifest}: no ConfigMap with ${MERGE_KEY} and WSB_PLAN in it`, 'render the TestRun with this wsbench: `wsbench render k6-operator cross-node-broadcast --start-at <time> …` (the ConfigMap carries what the merge needs)');
  }
  const info = JSON.parse(cm.data[MERGE_KEY]) as K6OperatorMergeInfo;
  const image = objects.find((o) => o?.kind === 'TestRun')?.spec?.runner?.image;
  return { info, plan: JSON.parse(cm.data.WSB_PLAN) as K6Plan, ...(cm.data.WSB_URL ? { url: redactUrl(cm.data.WSB_URL) } : {}), ...(typeof image === 'string' ? { runnerImage: image } : {}) };
}

/**
 * What is true of a runner's run, in place of what the merging process would say of itself: the
 * cluster was not started by wsbench (driver, load balancer and Redis `external`, versions unknown),
 * the clients connected to the manifest's URL from the k6-operator's runner pods, and the machine
 * is the runner's (its job `<name>-<i>`; its Node, CPUs and memory unknown).
 */
function asRunner(report: RunReport, o: { name: string; index: number; runners: number; url?: string; runnerImage?: string }): RunReport {
  return {
    ...report,
    environment: { node: 'unknown', platform: 'unknown', arch: 'unknown', cpus: 0, cpuModel: 'unknown', totalMemBytes: 0, hostname: `${o.name}-${o.index}` },
    topology: {
      ...report.topology,
      driver: 'external',
      lb: 'external',
      lbPolicy: 'external',
      redis: 'external',
      versions: {},
      ...(o.url ? { url: o.url } : {}),
      k6Operator: { testRun: o.name, runners: o.runners, ...(o.runnerImage ? { runnerImage: o.runnerImage } : {}) },
    },
  };
}

/** `<name>-<i>.<ext>` in one of the folders (or their `<name>/` subfolder, the claim's layout). */
function find(folders: readonly string[], name: string, file: string): string | undefined {
  for (const f of folders) for (const p of [join(f, file), join(f, name, file)]) if (existsSync(p)) return p;
  return undefined;
}

/** Every runner's partial report, in runner order; refuses a missing runner's files with WSB_MERGE_MISSING_SHARD. */
export async function k6OperatorPartials(manifest: string, folders: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Array<{ file: string; report: PartialReport }>> {
  const { info, plan, url, runnerImage } = mergeInfoOf(manifest);
  const n = info.parallelism;
  const files = Array.from({ length: n }, (_, k) => {
    const base = `${info.name}-${k + 1}`;
    return { index: k + 1, summary: find(folders, info.name, `${base}.summary.json`), samples: find(folders, info.name, `${base}.samples.json.gz`) ?? find(folders, info.name, `${base}.samples.json`) };
  });
  const missing = files.filter((f) => !f.summary || !f.samples);
  if (missing.length) {
    throw new WsbenchError(
      'WSB_MERGE_MISSING_SHARD',
      `TestRun ${info.name} has ${n} runners: ${missing.map((f) => `runner ${f.index} (${info.name}-${f.index}.${!f.summary ? 'summary.json' : 'samples.json.gz'})`).join(', ')} not found in ${folders.join(', ')}`,
      { hint: `copy the claim's ${info.name}/ folder out whole once the TestRun's stage is finished: every runner writes ${info.name}-<i>.summary.json and .samples.json.gz` },
    );
  }
  const nodes = Number(info.config.nodes);
  const nodeIds = Array.from({ length: nodes }, (_, k) => `node-${k + 1}`);
  const out: Array<{ file: string; report: PartialReport }> = [];
  for (const f of files) {
    // Runner i is shard i/N of the plan `wsbench run --engine k6 --shard i/N --start-at` makes from the same config.
    const runPlan = buildPlan(info.scenario, { engine: 'k6', shard: `${f.index}/${n}`, ...(info.startAt ? { startAt: info.startAt } : {}) }, env, info.config);
    if (!runPlan.shard || runPlan.shard.planId !== info.planId) {
      throw new WsbenchError('WSB_MERGE_MIXED_PLANS', `TestRun ${info.name}: its plan ${info.planId} is not the plan this wsbench makes of its config (${runPlan.shard?.planId ?? 'none'})`, {
        hint: 'merge with the wsbench version that rendered the TestRun',
      });
    }
    const result = await runnerResult({ summary: f.summary!, samples: f.samples! }, plan, nodeIds);
    const startedAt = new Date(result.t0EpochMs);
    const finishedMs = statSync(f.summary!).mtimeMs;
    const assembled = assembleReport({
      plan: { ...runPlan, runId: `${info.name}-${f.index}` },
      startedAt,
      t0: startedAt.getTime(),
      cluster: undefined,
      result,
      engine: undefined,
      events: [{ atMs: 0, type: 'phase', detail: `k6 t0 (runner ${info.name}-${f.index} of the k6-operator TestRun ${info.name})` }],
      notes: [`k6-operator TestRun ${info.name}, runner ${f.index} of ${n}: read by \`wsbench merge --k6-operator\` (the runner's own figures; the verdict is the merged report's)`],
      failure: undefined,
    });
    const report = asRunner(assembled, { name: info.name, index: f.index, runners: n, ...(url ? { url } : {}), ...(runnerImage ? { runnerImage } : {}) });
    report.finishedAt = new Date(Math.max(finishedMs, startedAt.getTime())).toISOString();
    report.durationMs = Math.max(0, Math.round(finishedMs - startedAt.getTime()));
    out.push({ file: f.summary!, report: partialOf(report, { ...runPlan.shard, ...(info.startAt ? { startAt: info.startAt } : {}) }, result) });
  }
  return out;
}
