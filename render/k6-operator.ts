/**
 * `wsbench render k6-operator <scenario>`: a k6-operator `TestRun` (k6.io/v1alpha1) running the
 * scenario's k6 script on `parallelism` runners, the ConfigMap holding the script — bundled
 * exactly as the local k6 engine bundles it for the same k6 version (engines/k6/bundle.ts) — and
 * its environment (the WSB_* variables of engines/k6/command.ts), and the claim the runners write
 * their outputs to.
 *
 * How the operator runs it (grafana/k6-operator, pkg/resources/jobs): an initializer pod runs
 * `k6 archive` + `k6 inspect` on the script with the runner's spec (its env entries passed as
 * `-e NAME=$(NAME)`, expanded by the kubelet, because `spec.args` is a list), then `parallelism`
 * runner Jobs `<name>-<i>` (i from 1) run `k6 run --execution-segment …` paused, and a starter
 * starts them together. Hence:
 * - the WSB_* variables are `env` entries read from the ConfigMap (not `envFrom`: the initializer
 *   passes only `env` to k6, and a JSON value would not survive its shell otherwise);
 * - the tokens the script opens (WSB_TOKENS_FILE) are minted by an init container of the wsbench
 *   image from the JWT secret in its Secret, into an emptyDir: the secret never enters k6;
 * - each runner knows its name from its pod's `job-name` label (`<name>-<i>`), and writes
 *   `<name>-<i>.summary.json` (handleSummary), `<name>-<i>.summary-export.json` and
 *   `<name>-<i>.samples.json.gz` (k6's JSON output: every sample, tagged `instance_id=<i>` by the
 *   operator) into the results claim under `<name>/`.
 */
import { shardPlan } from '../engines/k6/engine.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IConfigMap, IContainer, IEnvVar, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import { k6ModuleAliases, formatK6Version, type K6Version } from '../engines/k6/binary.js';
import { bundleK6Script } from '../engines/k6/bundle.js';
import { k6Command } from '../engines/k6/command.js';
import { K6_ADAPTERS } from '../engines/k6/scenarios.js';
import { k6Thresholds } from '../engines/k6/summary.js';
import type { TargetSpec } from '../model/targets.js';
import { broadcastTimes, type K6Plan } from '../engines/k6/scripts/lib/plan.js';
import { JWT_SECRET_KEY, jwtEnv, nodeId } from './cluster.js';
import { labelsFor, metadata, type K8sObject, type Rendered } from './k8s.js';
import { resultsClaim, RESULTS_DIR, type ResultsClaimOptions } from './results-claim.js';

/** Where the operator mounts a ConfigMap script (`/test/<file>`), and the file's key. */
export const SCRIPT_KEY = 'script.js';
export const SCRIPT_PATH = `/test/${SCRIPT_KEY}`;
export const TOKENS_DIR = '/wsbench-tokens';
export const TOKENS_FILE = `${TOKENS_DIR}/tokens.json`;
/**
 * The user of the grafana/k6 images (`k6`, uid and gid 12345). The runner pods run every
 * container as it — also the token init container (the CRD gives init containers no security
 * context of their own), so k6 can read the tokens file it writes (mode 0600) — and it owns the
 * results claim's files (fsGroup).
 */
export const K6_IMAGE_UID = 12345;

/** The runner's own name, `<testrun>-<i>`, from its pod's `job-name` label. */
export const RUNNER_VAR = 'WSB_RUNNER';

export interface K6OperatorRenderOptions {
  /** TestRun name (runner Jobs are `<name>-<i>`). */
  name: string;
  namespace?: string;
  scenario: string;
  /** The scenario's resolved options (cli/plan.ts buildPlan). */
  options: Record<string, unknown>;
  targets: readonly TargetSpec[];
  /** Nodes of the cluster under test (the per-node connection submetrics). */
  nodes: number;
  protocol: 'socketio' | 'ws';
  parallelism: number;
  /** The k6 the runner image holds: the script's module names depend on it. */
  k6Version: Pick<K6Version, 'major' | 'minor' | 'patch'>;
  /** Runner (and initializer) image; default grafana/k6:<version>. */
  k6Image: string;
  /** wsbench's image: mints the tokens in an init container. */
  image: string;
  /** The cluster as the runners reach it, `http://<lb service>:8080`. */
  url: string;
  jwtSecretName: string;
  /** One runner per Kubernetes node (the CRD's `separate`). */
  separate: boolean;
  /** CPU and memory each runner requests (`--cpu`, `--memory`); none by default. */
  requests?: { cpu?: string; memory?: string };
  results: ResultsClaimOptions;
  /**
   * cross-node-broadcast: the agreed start of publishing, if given (baked into the plan as every
   * runner's t0; else each runner counts from its own setup(), which its summary records), the plan id `wsbench run --engine k6 --shard i/N --start-at` would give, and the resolved
   * config `wsbench merge --k6-operator` rebuilds each runner's shard plan from (ConfigMap key
   * `wsbench-merge.json`).
   */
  merge?: { startAt?: string; planId: string; config: Record<string, unknown> };
}

/** The ConfigMap key holding what `wsbench merge --k6-operator` needs. */
export const MERGE_KEY = 'wsbench-merge.json';

/** `wsbench-merge.json` of a rendered k6-operator ConfigMap. */
export interface K6OperatorMergeInfo {
  kind: 'k6-operator';
  /** TestRun name: runner i writes `<name>-<i>.summary.json` and `.samples.json.gz`. */
  name: string;
  scenario: string;
  parallelism: number;
  /** `--start-at`: when every runner publishes (absent: the runners start together and each counts from its own setup()). */
  startAt?: string;
  planId: string;
  /** The resolved config (server, nodes, options, targets) every runner's shard plan is rebuilt from. */
  config: Record<string, unknown>;
}

/** Turns `-e K=V` pairs into a record, and returns the other arguments. */
function splitEnv(args: string[]): { vars: Record<string, string>; rest: string[] } {
  const vars: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-e') {
      const kv = args[++i];
      const eq = kv.indexOf('=');
      vars[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else rest.push(args[i]);
  }
  return { vars, rest };
}

/**
 * The runner's k6 arguments and WSB_* variables, derived from the command the local engine runs
 * (engines/k6/command.ts) so the two cannot drift: `run` and the script path go (the operator adds
 * them), `--local-ips` goes (it binds loopback source addresses; a runner pod has its own IP), the
 * summary paths become per-runner files in the results claim, and k6's JSON output is added.
 */
export function runnerCommand(o: Pick<K6OperatorRenderOptions, 'url' | 'protocol'>, plan: K6Plan, thresholds: Record<string, string[]>): { args: string[]; vars: Record<string, string> } {
  const local = k6Command({ k6Path: 'k6', scriptPath: SCRIPT_PATH, runDir: '/unused', url: o.url, protocol: o.protocol, tokensFile: TOKENS_FILE, plan, thresholds });
  const { vars, rest } = splitEnv(local.args);
  delete vars.WSB_SUMMARY_JSON; // per runner: an env entry with $(WSB_RUNNER)
  const out: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === 'run' || a === SCRIPT_PATH) continue;
    if (a === '--local-ips') {
      i++;
      continue;
    }
    if (a === '--summary-export') {
      out.push(a, `${RESULTS_DIR}/$(${RUNNER_VAR}).summary-export.json`);
      i++;
      continue;
    }
    out.push(a);
  }
  out.push('--out', `json=${RESULTS_DIR}/$(${RUNNER_VAR}).samples.json.gz`);
  return { args: out, vars };
}

/** The script the local k6 engine would run for this scenario and k6 version, as text. */
export async function bundledScript(scenario: string, k6Version: Pick<K6Version, 'major' | 'minor' | 'patch'>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'wsb-render-'));
  try {
    // The same call prepareK6 makes (engines/k6/engine.ts); only the output folder differs.
    const b = await bundleK6Script(scenario, k6ModuleAliases(k6Version), join(dir, 'k6', `${scenario}.js`));
    return readFileSync(b.path, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Under execution segments k6 numbers VUs per runner: `__VU` is 1…k in every runner, and only
 * `exec.vu.idInTest` is the VU's number in the whole test (checked with k6 v0.48: segment 1/2:1 of
 * 4 VUs runs __VU 1, 2 as idInTest 2, 4). A script that deals connections by `__VU` alone would
 * have every runner open the first VUs' connections. Null when the script reads idInTest or there
 * is one runner.
 */
export function segmentWarning(script: string, parallelism: number): string | null {
  if (parallelism <= 1 || /\bidInTest\b/.test(script)) return null;
  return `WARNING: this k6 script deals its connections by __VU, which k6 counts per runner under execution segments: with parallelism ${parallelism} every runner would open the same first connections of the plan, not its own segment's. Use --parallelism 1 until the script reads exec.vu.idInTest.`;
}

export async function renderK6Operator(o: K6OperatorRenderOptions): Promise<Rendered> {
  const adapter = K6_ADAPTERS[o.scenario];
  const plan = adapter.plan(o.options, { nodes: o.nodes });
  // N runners = N equal execution segments: the VUs deal whole rooms by segment (engines/k6/engine.ts shardPlan),
  // so a room's publisher and members run in one runner and every latency is measured on one pod's clock.
  // With an agreed start (`merge`), every runner's t0 is baked into the plan: the merge knows each runner's clock zero.
  const startAtMs = o.merge?.startAt ? Date.parse(o.merge.startAt) : undefined;
  if (o.parallelism > 1 && plan.scenario === 'cross-node-broadcast') shardPlan(plan, { ref: { index: 1, count: o.parallelism }, ...(startAtMs !== undefined ? { startAtMs } : {}) });
  else if (startAtMs !== undefined && plan.scenario === 'cross-node-broadcast') plan.t0EpochMs = startAtMs - broadcastTimes(plan).publishAt;
  const nodeIds = Array.from({ length: o.nodes }, (_, i) => nodeId(i));
  const { thresholds } = k6Thresholds(o.targets, adapter.submetrics(nodeIds));
  const { args, vars } = runnerCommand(o, plan, thresholds);
  const script = await bundledScript(o.scenario, o.k6Version);
  const ns = o.namespace;
  const labels = labelsFor(o.name, 'k6-operator', { 'wsbench.scenario': o.scenario });

  const configMapName = `${o.name}-script`;
  const configMap: IConfigMap & K8sObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(configMapName, labels, ns),
    data: {
      [SCRIPT_KEY]: script,
      ...vars,
      ...(o.merge ? { [MERGE_KEY]: JSON.stringify({ kind: 'k6-operator', name: o.name, scenario: o.scenario, parallelism: o.parallelism, ...(o.merge.startAt ? { startAt: o.merge.startAt } : {}), planId: o.merge.planId, config: o.merge.config } satisfies K6OperatorMergeInfo) } : {}),
    },
  };

  const env: IEnvVar[] = [
    { name: RUNNER_VAR, valueFrom: { fieldRef: { fieldPath: "metadata.labels['job-name']" } } },
    ...Object.keys(vars).map((k): IEnvVar => ({ name: k, valueFrom: { configMapKeyRef: { name: configMapName, key: k } } })),
    { name: 'WSB_SUMMARY_JSON', value: `${RESULTS_DIR}/$(${RUNNER_VAR}).summary.json` },
    { name: 'K6_NO_USAGE_REPORT', value: 'true' },
  ];
  const claim = resultsClaim(o.results, o.name, labels, ns);
  const volumes: IVolume[] = [
    { name: 'wsbench-tokens', emptyDir: {} },
    { name: 'results', persistentVolumeClaim: { claimName: claim.claimName } },
  ];
  const volumeMounts: IVolumeMount[] = [
    { name: 'wsbench-tokens', mountPath: TOKENS_DIR, readOnly: true },
    // One folder per TestRun on the claim (the kubelet creates it): runs never mix.
    { name: 'results', mountPath: RESULTS_DIR, subPath: o.name },
  ];
  const tokens: Pick<IContainer, 'name' | 'image' | 'env' | 'command' | 'args' | 'volumeMounts'> = {
    name: 'wsbench-tokens',
    image: o.image,
    command: ['wsbench', 'tokens', String(plan.connections)],
    args: ['--out', TOKENS_FILE],
    env: [jwtEnv(o.jwtSecretName)],
    volumeMounts: [{ name: 'wsbench-tokens', mountPath: TOKENS_DIR }],
  };

  const testRun: K8sObject = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: metadata(o.name, labels, ns),
    spec: {
      parallelism: o.parallelism,
      ...(o.separate ? { separate: true } : {}),
      script: { configMap: { name: configMapName, file: SCRIPT_KEY } },
      args,
      runner: {
        image: o.k6Image,
        metadata: { labels },
        securityContext: { runAsUser: K6_IMAGE_UID, runAsGroup: K6_IMAGE_UID, fsGroup: K6_IMAGE_UID },
        ...(o.requests && Object.keys(o.requests).length ? { resources: { requests: o.requests } } : {}),
        env,
        initContainers: [tokens],
        volumes,
        volumeMounts,
      },
    },
  };

  const objects: K8sObject[] = [...(claim.object ? [claim.object] : []), configMap, testRun];
  // What a local k6 run measures from the harness beside k6 (e.g. the nodes' memory) has no harness here.
  const harnessNote = adapter.chaos ? [`${o.scenario}: what \`wsbench run --engine k6\` measures beside k6 (the nodes' metrics during the run) is not measured under the operator.`] : [];
  const files = `${o.name}-<i>.summary.json, .summary-export.json, .samples.json.gz`;
  const notes = [
    `${o.scenario} on the k6-operator: ${o.parallelism} runners (k6 ${formatK6Version(o.k6Version)}, image ${o.k6Image}), each an execution segment of one plan of ${plan.connections} connections on ${plan.vus} VUs.`,
    `Script: engines/k6/scripts/${o.scenario}.ts bundled for k6 ${formatK6Version(o.k6Version)} exactly as \`wsbench run ${o.scenario} --engine k6\` bundles it (ConfigMap ${configMapName}, key ${SCRIPT_KEY}).`,
    `Target: ${vars.WSB_URL}; the tokens are minted in each runner from ${JWT_SECRET_KEY} in the Secret ${o.jwtSecretName} (wsbench render cluster makes it).`,
    `Needs: the k6-operator with the TestRun CRD that has spec.args (v1.x; fixtures/k8s/k6-operator/), the image ${o.image} (the project's Dockerfile) where the runners can pull it.`,
    `Results: every runner writes ${files} to the claim ${claim.claimName} under ${o.name}/; copy that folder out and run \`wsbench merge --k6-operator <this manifest> <the folder>\` (docs/kubernetes.md).`,
    ...(o.merge?.startAt ? [`Start: every runner publishes from ${o.merge.startAt} (plan ${o.merge.planId}); apply before then, allowing for image pulls, k6 start and the connect phase (a runner that is late stops with WSB_SHARD_START_MISSED).`] : []),
    `Apply: kubectl apply -f <this>; watch: kubectl get testrun ${o.name} -w (stage finished); remove: kubectl delete testrun ${o.name}`,
    'No --local-ips under the operator: each runner connects from its pod IP, so with ip_hash all of one runner\'s connections reach one node (render the cluster with --lb-policy least_conn or round_robin to spread them).',
    ...harnessNote,
  ];
  const warning = segmentWarning(script, o.parallelism);
  if (warning) notes.unshift(warning);
  return { kind: 'k6-operator', objects, notes };
}
