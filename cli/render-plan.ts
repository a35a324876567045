/**
 * `wsbench render`'s flags → validated manifests (render/), one builder per kind: every problem in
 * the user's terms at once (WSB_INVALID_OPTION naming the flag), and the scenario's options checked
 * by the same buildPlan `wsbench run` uses. Pure apart from reading a --config file and, without
 * --k6-version, asking the local k6 its version. The commander side is cli/render-command.ts.
 */
import { randomBytes } from 'node:crypto';
import { WsbenchError } from '../common/errors.js';
import { LB_POLICIES, type LbPolicy } from '../cluster/nginx-config.js';
import { SERVER_DEFAULTS, SERVER_KINDS, SERVER_VARIANT_INFO, SOCKETIO_ADAPTERS, type ServerKind, type SocketIoAdapter } from '../cluster/types.js';
import { formatK6Version, locateK6, parseK6Version, type K6Version } from '../engines/k6/binary.js';
import { K6_ADAPTERS } from '../engines/k6/scenarios.js';
import { SCENARIOS } from '../scenarios/index.js';
import { CLUSTER_RENDER_DEFAULTS, defaultJwtSecretName, JWT_SECRET_KEY, K8S_PORTS, lbServiceName, nodeServiceName, renderCluster } from '../render/cluster.js';
import { renderK6Operator } from '../render/k6-operator.js';
import { checkImage, checkName, refuse, type Rendered } from '../render/k8s.js';
import { renderNodeJob } from '../render/node-job.js';
import { QUANTITY, RESULTS_CLAIM_DEFAULTS, resultsClaimProblems, type ResultsClaimOptions } from '../render/results-claim.js';
import { buildPlan, lookupScenario, scenarioFlagValues, type RunPlan } from './plan.js';
import { toolVersion } from '../runner/run.js';

export const RENDER_KINDS = ['cluster', 'k6-operator', 'node-job'] as const;
export type RenderKind = (typeof RENDER_KINDS)[number];

/** Defaults of the render flags that are not the cluster's (render/cluster.ts has those). */
export const RENDER_DEFAULTS = {
  /** Runners or shard pods. */
  parallelism: 1,
  /** Seconds from rendering to the shards' agreed start (node-job without --start-at). */
  startDelayS: 300,
  /** Seconds the merge Job waits for every partial. */
  mergeTimeoutS: 3600,
};

/** Longest `--name`: Kubernetes adds `-initializer`, `-service-<i>`, `-node-<i>`, a pod suffix (63 in all). */
const MAX_NAME = 40;


export type Flags = Record<string, unknown>;
const str = (f: Flags, k: string): string | undefined => (typeof f[k] === 'string' ? (f[k] as string) : undefined);
const list = (f: Flags, k: string): string[] => [f[k] ?? []].flat().flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter(Boolean);

function int(f: Flags, key: string, flag: string, dflt: number, min: number, max: number, problems: string[]): number {
  const raw = f[key];
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${flag}: must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    return dflt;
  }
  return n;
}

function enumOf<T extends string>(f: Flags, key: string, flag: string, choices: readonly T[], dflt: T | undefined, problems: string[]): T | undefined {
  const v = str(f, key);
  if (v === undefined) return dflt;
  if (!(choices as readonly string[]).includes(v)) {
    problems.push(`${flag}: must be one of ${choices.join(', ')} (got '${v}')`);
    return dflt;
  }
  return v as T;
}

/** `http(s)://` or `ws(s)://host:port` with no path: how the runners reach the cluster. Only parsed. */
function clusterUrlProblems(flag: string, value: string): string[] {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return [`${flag}: '${value}' is not a URL (e.g. http://wsbench-lb:8080)`];
  }
  const p: string[] = [];
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) p.push(`${flag}: '${value}' must be an http://, https://, ws:// or wss:// URL`);
  if (u.pathname !== '/' || u.search || u.hash) p.push(`${flag}: '${value}' must be just scheme://host:port (the scripts add the path)`);
  return p;
}

/** `--k6-version v0.48.0` / `0.48.0`. */
export function parseVersionFlag(v: string): K6Version | null {
  return parseK6Version(`k6 ${v.startsWith('v') ? v : `v${v}`}`);
}

/** The scenario's flags, picked from the command's flags (they share `wsbench run`'s names). */
function scenarioFlags(scenario: string, f: Flags): Flags {
  return scenarioFlagValues(scenario, f);
}

/** The same validation `wsbench run` does, on the flags this render shares with it. */
function planFor(scenario: string, f: Flags, extra: Flags, env: NodeJS.ProcessEnv): RunPlan {
  return buildPlan(scenario, { ...scenarioFlags(scenario, f), ...extra, ...(str(f, 'config') ? { config: str(f, 'config') } : {}), ...(f.target ? { target: f.target as string[] } : {}) }, env);
}

function resultsOptions(f: Flags, problems: string[]): ResultsClaimOptions {
  const o: ResultsClaimOptions = { storage: str(f, 'storage') ?? RESULTS_CLAIM_DEFAULTS.storage, ...(str(f, 'resultsClaim') ? { existing: str(f, 'resultsClaim') } : {}), ...(str(f, 'storageClass') ? { storageClass: str(f, 'storageClass') } : {}) };
  problems.push(...resultsClaimProblems(o));
  if (o.existing) problems.push(...checkName('--results-claim', o.existing, 63));
  return o;
}

/** `--cpu` / `--memory`: what each load generator pod requests (no limits: a throttled generator measures itself). */
function requestsOf(f: Flags, problems: string[]): { cpu?: string; memory?: string } {
  const out: { cpu?: string; memory?: string } = {};
  for (const k of ['cpu', 'memory'] as const) {
    const v = str(f, k);
    if (v === undefined) continue;
    if (!QUANTITY.test(v)) problems.push(`--${k}: '${v}' is not a Kubernetes quantity like ${k === 'cpu' ? '2 or 500m' : '2Gi or 512Mi'}`);
    else out[k] = v;
  }
  return out;
}

function common(f: Flags, problems: string[]): { namespace?: string; image: string; clusterName: string; jwtSecretName: string } {
  const namespace = str(f, 'namespace');
  if (namespace !== undefined) problems.push(...checkName('--namespace', namespace, 63));
  const image = str(f, 'image') ?? `wsbench:${toolVersion()}`;
  problems.push(...checkImage('--image', image));
  const clusterName = str(f, 'clusterName') ?? CLUSTER_RENDER_DEFAULTS.name;
  problems.push(...checkName('--cluster-name', clusterName, MAX_NAME));
  const jwtSecretName = str(f, 'jwtSecretName') ?? defaultJwtSecretName(clusterName);
  problems.push(...checkName('--jwt-secret-name', jwtSecretName, 63));
  return { ...(namespace ? { namespace } : {}), image, clusterName, jwtSecretName };
}

async function renderClusterKind(scenario: string | undefined, f: Flags, env: NodeJS.ProcessEnv): Promise<Rendered> {
  const problems: string[] = [];
  const c = common(f, problems);
  const name = str(f, 'name') ?? c.clusterName;
  problems.push(...checkName('--name', name, MAX_NAME));
  const nodes = int(f, 'nodes', '--nodes', CLUSTER_RENDER_DEFAULTS.nodes, 1, 32, problems);
  const server = enumOf<ServerKind>(f, 'server', '--server', SERVER_KINDS, CLUSTER_RENDER_DEFAULTS.server, problems)!;
  const adapter = enumOf<SocketIoAdapter>(f, 'adapter', '--adapter', SOCKETIO_ADAPTERS, undefined, problems);
  if (adapter && server !== 'socketio') problems.push('--adapter: only applies with --server socketio');
  const lbPolicy = enumOf<LbPolicy>(f, 'lbPolicy', '--lb-policy', LB_POLICIES, CLUSTER_RENDER_DEFAULTS.lbPolicy, problems)!;
  const serverImage = str(f, 'serverImage');
  if (serverImage) problems.push(...checkImage('--server-image', serverImage));
  if (!serverImage && list(f, 'serverArg').length) problems.push('--server-arg: only applies with --server-image');
  for (const k of ['redisImage', 'nginxImage'] as const) if (str(f, k)) problems.push(...checkImage(k === 'redisImage' ? '--redis-image' : '--nginx-image', str(f, k)!));
  const serverPort = int(f, 'serverPort', '--server-port', CLUSTER_RENDER_DEFAULTS.serverPort, 1, 65535, problems);
  const healthPath = str(f, 'healthPath') ?? CLUSTER_RENDER_DEFAULTS.healthPath;
  if (!healthPath.startsWith('/')) problems.push(`--health-path: '${healthPath}' must start with /`);
  const rateLimit = f.serverRateLimit === undefined ? undefined : int(f, 'serverRateLimit', '--server-rate-limit', 0, 1, 100_000_000, problems);
  let expected = int(f, 'expectedConnections', '--expected-connections', CLUSTER_RENDER_DEFAULTS.expectedConnections, 1, 10_000_000, problems);
  const serverOptions = { ...SERVER_DEFAULTS };
  if (scenario !== undefined) {
    // The scenario's needs, as `wsbench run` would set them on a cluster it starts (rate limit, sizing).
    const plan = planFor(scenario, f, { nodes: String(nodes), server, ...(adapter ? { adapter } : {}), ...(rateLimit !== undefined ? { serverRateLimit: String(rateLimit) } : {}) }, env);
    Object.assign(serverOptions, plan.topology.serverOptions);
    if (f.expectedConnections === undefined) expected = plan.topology.expectedConnections;
  } else if (rateLimit !== undefined) serverOptions.rateLimit = rateLimit;
  refuse('cluster', problems);
  const jwtSecret = f.existingSecret ? null : (env[JWT_SECRET_KEY] || randomBytes(32).toString('hex'));
  return renderCluster({
    name,
    ...(c.namespace ? { namespace: c.namespace } : {}),
    nodes,
    server,
    ...(adapter ? { adapter } : {}),
    image: c.image,
    ...(serverImage ? { serverImage } : {}),
    serverArgs: [f.serverArg ?? []].flat().map(String),
    serverPort,
    healthPath,
    redisImage: str(f, 'redisImage') ?? CLUSTER_RENDER_DEFAULTS.redisImage,
    nginxImage: str(f, 'nginxImage') ?? CLUSTER_RENDER_DEFAULTS.nginxImage,
    lbPolicy,
    expectedConnections: expected,
    serverOptions,
    jwtSecret,
    jwtSecretName: str(f, 'jwtSecretName') ?? defaultJwtSecretName(name),
  });
}

/**
 * Scenarios `wsbench run --shard` splits (a room's publisher and members in one shard): those that
 * say so (`shardable`, scenarios/define.ts on the shards branch); before any says so, the one the
 * sharding was built for.
 */
function shardable(s: (typeof SCENARIOS)[string]): boolean {
  return !s.needsClusterControl && ((s as { shardable?: boolean }).shardable ?? s.name === 'cross-node-broadcast');
}

function needScenario(kind: string, scenario: string | undefined, allowed: string[]): string {
  if (scenario === undefined) {
    throw new WsbenchError('WSB_INVALID_OPTION', `render ${kind} needs a scenario`, { hint: `e.g. wsbench render ${kind} cross-node-broadcast; scenarios: ${allowed.join(', ')}` });
  }
  lookupScenario(scenario);
  const s = SCENARIOS[scenario];
  if (s.needsClusterControl) {
    throw new WsbenchError('WSB_EXTERNAL_UNSUPPORTED', `${scenario} ${s.needsClusterControl}, which a ${kind} cannot do to the cluster (no wsbench process controls it)`, {
      hint: `render a scenario that only drives load: ${allowed.join(', ')}`,
    });
  }
  if (!allowed.includes(scenario)) {
    throw new WsbenchError('WSB_INVALID_OPTION', `render ${kind}: ${scenario} cannot run there (${kind === 'node-job' ? 'wsbench run --shard cannot split it' : 'it has no k6 script'})`, { hint: `scenarios: ${allowed.join(', ')}` });
  }
  return scenario;
}

/** `--start-at` (an ISO time with its zone, in the future) or now + `--start-delay`: when every shard / runner starts publishing. */
function startAtOf(f: Flags, now: Date, problems: string[]): string {
  const given = str(f, 'startAt');
  if (given === undefined) return new Date(now.getTime() + int(f, 'startDelay', '--start-delay', RENDER_DEFAULTS.startDelayS, 10, 7 * 24 * 3600, problems) * 1000).toISOString();
  const t = Date.parse(given);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(given) || Number.isNaN(t)) problems.push(`--start-at: '${given}' is not an ISO time with its zone, e.g. 2026-12-07T01:00:00Z`);
  else if (t <= now.getTime()) problems.push(`--start-at: ${given} is already past (now ${now.toISOString()})`);
  return Number.isNaN(t) ? given : new Date(t).toISOString();
}

/** The flags the two load kinds (k6-operator, node-job) share: common ones, name, parallelism, nodes, server. */
function loadRunFlags(scenario: string, f: Flags) {
  const problems: string[] = [];
  const c = common(f, problems);
  const name = str(f, 'name') ?? `wsbench-${scenario}`;
  problems.push(...checkName('--name', name, MAX_NAME));
  const parallelism = int(f, 'parallelism', '--parallelism', RENDER_DEFAULTS.parallelism, 1, 1000, problems);
  const nodes = int(f, 'nodes', '--nodes', CLUSTER_RENDER_DEFAULTS.nodes, 1, 32, problems);
  const server = enumOf<ServerKind>(f, 'server', '--server', SERVER_KINDS, CLUSTER_RENDER_DEFAULTS.server, problems)!;
  return { problems, c, name, parallelism, nodes, server };
}

async function renderK6OperatorKind(scenarioArg: string | undefined, f: Flags, env: NodeJS.ProcessEnv, now: Date): Promise<Rendered> {
  const allowed = Object.keys(K6_ADAPTERS).filter((s) => !SCENARIOS[s]?.needsClusterControl);
  const scenario = needScenario('k6-operator', scenarioArg, allowed);
  const { problems, c, name, parallelism, nodes, server } = loadRunFlags(scenario, f);
  const url = str(f, 'url') ?? `http://${lbServiceName(c.clusterName)}:${K8S_PORTS.lb}`;
  problems.push(...clusterUrlProblems('--url', url));
  const results = resultsOptions(f, problems);
  let version: K6Version | null = null;
  const given = str(f, 'k6Version');
  if (given !== undefined) {
    version = parseVersionFlag(given);
    if (!version) problems.push(`--k6-version: '${given}' is not a k6 version like v0.48.0 or 1.6.0`);
  }
  if (str(f, 'k6Image')) problems.push(...checkImage('--k6-image', str(f, 'k6Image')!));
  const requests = requestsOf(f, problems);
  // cross-node-broadcast with --start-at: the runners publish from one agreed start (every runner's t0 baked into the plan).
  // Only when asked (`--start-at` / `--start-delay`): else the operator's starter starts the runners together and each counts from its own setup().
  const startAt = scenario === 'cross-node-broadcast' && (str(f, 'startAt') !== undefined || str(f, 'startDelay') !== undefined) ? startAtOf(f, now, problems) : undefined;
  refuse('k6-operator', problems);
  const plan = planFor(scenario, f, { nodes: String(nodes), server, engine: 'k6' }, env);
  // What `wsbench merge --k6-operator` rebuilds each runner's shard plan from (as `wsbench run --engine k6 --shard i/N --start-at` plans it).

  if (!version) {
    // Not given: the k6 this machine would run (--k6, K6_BIN, PATH), so the bundle matches a local run.
    try {
      version = (await locateK6(str(f, 'k6'), env)).version;
    } catch (e) {
      throw new WsbenchError('WSB_INVALID_OPTION', `render k6-operator: give --k6-version (the k6 of the runner image: the script's module names depend on it); no local k6 to take it from (${(e as Error).message})`, {
        hint: 'e.g. --k6-version 0.48.0 (the runner image defaults to grafana/k6:<that version>)',
      });
    }
  }
  const vus = K6_ADAPTERS[scenario].plan(plan.options, { nodes }).vus;
  if (vus < parallelism) refuse('k6-operator', [`--parallelism ${parallelism}: the plan has ${vus} VUs; a runner without a VU would hold no connection (at most --parallelism ${vus})`]);
  // What `wsbench merge --k6-operator` rebuilds each runner's shard plan from (as `wsbench run --engine k6 --shard i/N --start-at` plans it).
  const mergeConfig = { server, nodes, ...plan.options, targets: Object.fromEntries(plan.targets.map((t) => [t.id, t.value])) };
  const planId = scenario === 'cross-node-broadcast' ? buildPlan(scenario, { engine: 'k6', shard: `1/${parallelism}`, ...(startAt ? { startAt } : {}) }, env, mergeConfig).shard?.planId : undefined;
  return renderK6Operator({
    name,
    ...(c.namespace ? { namespace: c.namespace } : {}),
    scenario,
    options: plan.options,
    targets: plan.targets,
    nodes,
    protocol: SERVER_VARIANT_INFO[server].protocol,
    parallelism,
    k6Version: version,
    k6Image: str(f, 'k6Image') ?? `grafana/k6:${formatK6Version(version).slice(1)}`,
    image: c.image,
    url,
    jwtSecretName: c.jwtSecretName,
    separate: Boolean(f.separate),
    results,
    requests,
    ...(planId ? { merge: { ...(startAt ? { startAt } : {}), planId, config: mergeConfig } } : {}),
  });
}

function renderNodeJobKind(scenarioArg: string | undefined, f: Flags, env: NodeJS.ProcessEnv, now: Date): Rendered {
  const allowed = Object.values(SCENARIOS).filter(shardable).map((s) => s.name);
  const scenario = needScenario('node-job', scenarioArg, allowed);
  const { problems, c, name, parallelism, nodes, server } = loadRunFlags(scenario, f);
  const lbPolicy = enumOf<LbPolicy>(f, 'lbPolicy', '--lb-policy', LB_POLICIES, CLUSTER_RENDER_DEFAULTS.lbPolicy, problems)!;
  const nginxImage = str(f, 'nginxImage') ?? CLUSTER_RENDER_DEFAULTS.nginxImage;
  problems.push(...checkImage('--nginx-image', nginxImage));
  const results = resultsOptions(f, problems);
  const mergeTimeoutS = int(f, 'mergeTimeout', '--merge-timeout', RENDER_DEFAULTS.mergeTimeoutS, 60, 7 * 24 * 3600, problems);
  const upstreams = list(f, 'upstream').map((u) => {
    const m = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?):(\d{1,5})$/i.exec(u);
    if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) problems.push(`--upstream: '${u}' must be host:port, e.g. my-server-1:3000`);
    return { host: m?.[1] ?? u, port: Number(m?.[3] ?? 0) };
  });
  const startAt = startAtOf(f, now, problems);
  const requests = requestsOf(f, problems);
  refuse('node-job', problems);
  // Validated as the shard pods' `wsbench run --url` will validate it (a loopback URL: the sidecar).
  const plan = planFor(scenario, f, { nodes: String(nodes), server, url: `http://127.0.0.1:${K8S_PORTS.lb}` }, { ...env, [JWT_SECRET_KEY]: env[JWT_SECRET_KEY] || 'render' });
  const targets = Object.fromEntries(plan.targets.map((t) => [t.id, t.value]));
  const config = { server, nodes, ...plan.options, targets };
  return renderNodeJob({
    name,
    ...(c.namespace ? { namespace: c.namespace } : {}),
    scenario,
    config,
    parallelism,
    startAt,
    image: c.image,
    nginxImage,
    upstreams: upstreams.length ? upstreams : Array.from({ length: nodes }, (_, i) => ({ host: nodeServiceName(c.clusterName, i), port: K8S_PORTS.node })),
    lbPolicy,
    connectionsPerShard: Math.ceil(plan.topology.expectedConnections / parallelism),
    serverOptions: plan.topology.serverOptions,
    jwtSecretName: c.jwtSecretName,
    results,
    mergeTimeoutS,
    requests,
  });
}

/** Builds the manifests of one kind from the command's flags (validated; nothing is written). */
export async function buildRender(kind: string, scenario: string | undefined, f: Flags, env: NodeJS.ProcessEnv = process.env, now = new Date()): Promise<Rendered> {
  switch (kind) {
    case 'cluster':
      return renderClusterKind(scenario, f, env);
    case 'k6-operator':
      return renderK6OperatorKind(scenario, f, env, now);
    case 'node-job':
      return renderNodeJobKind(scenario, f, env, now);
    default:
      throw new WsbenchError('WSB_INVALID_OPTION', `render: unknown kind '${kind}'`, { hint: `kinds: ${RENDER_KINDS.join(', ')}` });
  }
}
