/**
 * `wsbench render <kind> [scenario]`: Kubernetes manifests for the reference cluster, a
 * k6-operator TestRun, or the Node engine as an Indexed Job (render/), as YAML on stdout or one
 * file per object with `--out`. And `wsbench tokens`, which the k6-operator runners use to mint
 * their clients' tokens from the JWT secret. Nothing here connects anywhere: a URL given to render
 * is only parsed and written into the manifests.
 */
import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { WsbenchError } from '../common/errors.js';
import { LB_POLICIES, type LbPolicy } from '../cluster/nginx-config.js';
import { SERVER_DEFAULTS, SERVER_KINDS, SERVER_VARIANT_INFO, SOCKETIO_ADAPTERS, type ServerKind, type SocketIoAdapter } from '../cluster/types.js';
import { formatK6Version, locateK6, parseK6Version, type K6Version } from '../engines/k6/binary.js';
import { writeTokens } from '../engines/k6/engine.js';
import { K6_ADAPTERS } from '../engines/k6/scenarios.js';
import { SCENARIOS } from '../scenarios/index.js';
import {
  CLUSTER_RENDER_DEFAULTS,
  defaultJwtSecretName,
  JWT_SECRET_KEY,
  K8S_PORTS,
  lbServiceName,
  nodeServiceName,
  renderCluster,
} from '../render/cluster.js';
import { renderK6Operator } from '../render/k6-operator.js';
import { checkImage, checkName, refuse, toYaml, writeObjects, type Rendered } from '../render/k8s.js';
import { renderNodeJob } from '../render/node-job.js';
import { QUANTITY, RESULTS_CLAIM_DEFAULTS, resultsClaimProblems, type ResultsClaimOptions } from '../render/results-claim.js';
import { buildPlan, lookupScenario, type RunPlan } from './plan.js';
import { toolVersion } from './run.js';

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

export interface RenderIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
  now?: Date;
}

type Flags = Record<string, unknown>;
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
  const keys = new Set(lookupScenario(scenario).flags.map((x) => x.key));
  return Object.fromEntries(Object.entries(f).filter(([k, v]) => keys.has(k) && v !== undefined));
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

async function renderK6OperatorKind(scenarioArg: string | undefined, f: Flags, env: NodeJS.ProcessEnv): Promise<Rendered> {
  const allowed = Object.keys(K6_ADAPTERS).filter((s) => !SCENARIOS[s]?.needsClusterControl);
  const scenario = needScenario('k6-operator', scenarioArg, allowed);
  const problems: string[] = [];
  const c = common(f, problems);
  const name = str(f, 'name') ?? `wsbench-${scenario}`;
  problems.push(...checkName('--name', name, MAX_NAME));
  const parallelism = int(f, 'parallelism', '--parallelism', RENDER_DEFAULTS.parallelism, 1, 1000, problems);
  const nodes = int(f, 'nodes', '--nodes', CLUSTER_RENDER_DEFAULTS.nodes, 1, 32, problems);
  const server = enumOf<ServerKind>(f, 'server', '--server', SERVER_KINDS, CLUSTER_RENDER_DEFAULTS.server, problems)!;
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
  refuse('k6-operator', problems);
  const plan = planFor(scenario, f, { nodes: String(nodes), server, engine: 'k6' }, env);
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
  });
}

function renderNodeJobKind(scenarioArg: string | undefined, f: Flags, env: NodeJS.ProcessEnv, now: Date): Rendered {
  const allowed = Object.values(SCENARIOS).filter(shardable).map((s) => s.name);
  const scenario = needScenario('node-job', scenarioArg, allowed);
  const problems: string[] = [];
  const c = common(f, problems);
  const name = str(f, 'name') ?? `wsbench-${scenario}`;
  problems.push(...checkName('--name', name, MAX_NAME));
  const parallelism = int(f, 'parallelism', '--parallelism', RENDER_DEFAULTS.parallelism, 1, 1000, problems);
  const nodes = int(f, 'nodes', '--nodes', CLUSTER_RENDER_DEFAULTS.nodes, 1, 32, problems);
  const server = enumOf<ServerKind>(f, 'server', '--server', SERVER_KINDS, CLUSTER_RENDER_DEFAULTS.server, problems)!;
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
  let startAt: string;
  const given = str(f, 'startAt');
  if (given !== undefined) {
    const t = Date.parse(given);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(given) || Number.isNaN(t)) problems.push(`--start-at: '${given}' is not an ISO time with its zone, e.g. 2026-12-07T01:00:00Z`);
    else if (t <= now.getTime()) problems.push(`--start-at: ${given} is already past (now ${now.toISOString()})`);
    startAt = Number.isNaN(t) ? given : new Date(t).toISOString();
  } else {
    startAt = new Date(now.getTime() + int(f, 'startDelay', '--start-delay', RENDER_DEFAULTS.startDelayS, 10, 7 * 24 * 3600, problems) * 1000).toISOString();
  }
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
      return renderK6OperatorKind(scenario, f, env);
    case 'node-job':
      return renderNodeJobKind(scenario, f, env, now);
    default:
      throw new WsbenchError('WSB_INVALID_OPTION', `render: unknown kind '${kind}'`, { hint: `kinds: ${RENDER_KINDS.join(', ')}` });
  }
}

export async function renderCommand(kind: string, scenario: string | undefined, f: Flags, io: RenderIO): Promise<number> {
  const r = await buildRender(kind, scenario, f, io.env ?? process.env, io.now ?? new Date());
  // A warning in a YAML comment is easy to miss: it goes to stderr too.
  for (const n of r.notes) if (n.startsWith('WARNING')) io.stderr.write(`render ${kind}: ${n}\n`);
  const out = str(f, 'out');
  if (out) {
    const paths = writeObjects(r, out);
    io.stderr.write(`render ${kind}: ${paths.length} objects written to ${out} (kubectl apply -f ${out})\n`);
  } else io.stdout.write(toYaml(r));
  return 0;
}

const HELP = `
Kinds:
  cluster [scenario]        the reference cluster: a Deployment + Service per node, Redis, NGINX with
                            wsbench's generated config (ConfigMap), the JWT Secret. With a scenario,
                            the nodes get the settings \`wsbench run <scenario>\` would give them.
  k6-operator <scenario>    a k6-operator TestRun (parallelism N) and the ConfigMap with the k6 script,
                            bundled as the local k6 engine bundles it for --k6-version, and its
                            environment; runners write their outputs to a ReadWriteMany claim.
  node-job <scenario>       the Node engine as an Indexed Job (N shard pods, each \`wsbench run --shard
                            i/N --start-at <t>\`), and a Job that merges their partial reports.

Nothing is applied and nothing is contacted: pipe to \`kubectl apply -f -\`, or --out <folder>.
See docs/kubernetes.md.`;

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Adds `render` and `tokens` to the program. */
export function addRenderCommands(prog: Command, onExitCode: (code: number) => void): void {
  const cmd = prog
    .command('render')
    .argument('<kind>', `what to render: ${RENDER_KINDS.join(', ')}`)
    .argument('[scenario]', 'the scenario (k6-operator, node-job; optional for cluster)')
    .description('render Kubernetes manifests: the reference cluster, a k6-operator TestRun, or the Node engine as an Indexed Job')
    .option('--out <folder>', 'write one YAML file per object into this folder (default: one YAML stream on stdout)')
    .option('--name <name>', 'name of the objects (default: wsbench for cluster, wsbench-<scenario> otherwise)')
    .option('--namespace <ns>', 'namespace of every object (default: none, kubectl\'s current one)')
    .option('--image <ref>', `wsbench's own image, built from the Dockerfile (default wsbench:${toolVersion()})`)
    .option('--cluster-name <name>', `[k6-operator, node-job] the rendered cluster's name: its Services and Secret (default ${CLUSTER_RENDER_DEFAULTS.name})`)
    .option('--jwt-secret-name <name>', `the Secret holding ${JWT_SECRET_KEY} (default <cluster name>-jwt)`)
    .option('--nodes <n>', `nodes of the cluster (default ${CLUSTER_RENDER_DEFAULTS.nodes})`)
    .addOption(new Option('--server <server>', `reference server variant (default ${CLUSTER_RENDER_DEFAULTS.server})`).choices([...SERVER_KINDS]))
    .addOption(new Option('--adapter <adapter>', '[cluster, --server socketio] cluster adapter (default redis)').choices([...SOCKETIO_ADAPTERS]))
    .addOption(new Option('--lb-policy <policy>', `[cluster, node-job] NGINX upstream policy (default ${CLUSTER_RENDER_DEFAULTS.lbPolicy})`).choices([...LB_POLICIES]))
    .option('--server-image <ref>', "[cluster] the user's server image instead of the reference nodes (gets PORT, REDIS_URL, NODE_ID, WSB_JWT_SECRET)")
    .option('--server-arg <arg>', '[cluster, --server-image] an argument of the server image (repeatable)', collect)
    .option('--server-port <port>', `[cluster] port the nodes listen on (default ${CLUSTER_RENDER_DEFAULTS.serverPort})`)
    .option('--health-path <path>', `[cluster] readiness path of the nodes (default ${CLUSTER_RENDER_DEFAULTS.healthPath})`)
    .option('--redis-image <ref>', `[cluster] Redis image (default ${CLUSTER_RENDER_DEFAULTS.redisImage})`)
    .option('--nginx-image <ref>', `[cluster, node-job] NGINX image (default ${CLUSTER_RENDER_DEFAULTS.nginxImage})`)
    .option('--expected-connections <n>', `[cluster] peak connections NGINX is sized for (default: the scenario's, else ${CLUSTER_RENDER_DEFAULTS.expectedConnections})`)
    .option('--server-rate-limit <n>', '[cluster] messages per minute per connection the nodes allow (default: the scenario\'s, else seed 001: 100)')
    .option('--existing-secret', `[cluster] do not render the Secret: it exists (${JWT_SECRET_KEY}; else taken from $${JWT_SECRET_KEY} or random)`)
    .option('--parallelism <n>', `[k6-operator, node-job] runners / shard pods (default ${RENDER_DEFAULTS.parallelism})`)
    .option('--k6-version <version>', '[k6-operator] k6 version of the runner image (default: the local k6\'s: --k6, $K6_BIN, PATH)')
    .option('--k6 <path>', '[k6-operator] the local k6 to take the version from')
    .option('--k6-image <ref>', '[k6-operator] runner image (default grafana/k6:<k6 version>)')
    .option('--url <url>', '[k6-operator] the cluster as the runners reach it (default http://<cluster name>-lb:8080); only written, never contacted')
    .option('--separate', '[k6-operator] one runner per Kubernetes node')
    .option('--cpu <quantity>', '[k6-operator, node-job] CPU each runner / shard pod requests, e.g. 2 or 1500m (default none; no limit is set)')
    .option('--memory <quantity>', '[k6-operator, node-job] memory each runner / shard pod requests, e.g. 2Gi (default none)')
    .option('--start-at <time>', '[node-job] ISO time every shard starts its phases from (default: now + --start-delay)')
    .option('--start-delay <s>', `[node-job] seconds from now to the start, without --start-at (default ${RENDER_DEFAULTS.startDelayS})`)
    .option('--upstream <host:port>', '[node-job] a node Service the shards\' NGINX balances over (repeatable; default the rendered cluster\'s <cluster name>-node-<i>:3000)', collect)
    .option('--merge-timeout <s>', `[node-job] seconds the merge Job waits for every partial (default ${RENDER_DEFAULTS.mergeTimeoutS})`)
    .option('--results-claim <name>', '[k6-operator, node-job] an existing ReadWriteMany claim for the results (default: render <name>-results)')
    .option('--storage <size>', `[k6-operator, node-job] size of the rendered claim (default ${RESULTS_CLAIM_DEFAULTS.storage})`)
    .option('--storage-class <class>', '[k6-operator, node-job] storage class of the rendered claim (default: the cluster\'s default)')
    .option('--config <file>', '[scenario] JSON config file, as for wsbench run')
    .option('--target <id=value>', '[scenario] override a target threshold (repeatable)', collect)
    .addHelpText('after', HELP);
  const seen = new Set(cmd.options.map((o) => o.long));
  for (const s of Object.values(SCENARIOS)) {
    for (const fl of s.flags) {
      const long = fl.flag.split(' ')[0];
      if (seen.has(long)) continue;
      seen.add(long);
      cmd.option(fl.flag, `[scenario] ${fl.description.replace(/^\[[^\]]*\] /, '')}`);
    }
  }
  cmd.action(async (kind: string, scenario: string | undefined, flags: Flags) => {
    onExitCode(await renderCommand(kind, scenario, flags, { stdout: process.stdout, stderr: process.stderr }));
  });

  prog
    .command('tokens')
    .argument('<count>', 'how many tokens (one per connection index)')
    .description(`write the JWTs a k6 script's clients use (sub k6-<index>, all rooms), signed with $${JWT_SECRET_KEY}: what a k6-operator runner's init container runs`)
    .requiredOption('--out <file>', 'the JSON file to write')
    .action((count: string, opts: { out: string }) => {
      const n = Number(count);
      if (!Number.isInteger(n) || n < 1 || n > 10_000_000) throw new WsbenchError('WSB_INVALID_OPTION', `tokens: <count> must be a whole number from 1 (got '${count}')`, { hint: 'e.g. wsbench tokens 1240 --out tokens.json' });
      const secret = process.env[JWT_SECRET_KEY];
      if (!secret) throw new WsbenchError('WSB_INVALID_OPTION', `tokens: ${JWT_SECRET_KEY} is not set`, { hint: `put the cluster's JWT secret in ${JWT_SECRET_KEY}` });
      try {
        writeTokens(opts.out, secret, n);
      } catch (e) {
        throw new WsbenchError('WSB_REPORT_WRITE_FAILED', `tokens: cannot write ${opts.out}: ${(e as Error).message}`, { hint: 'choose a writable --out' });
      }
      process.stderr.write(`tokens: ${n} written to ${opts.out}\n`);
      onExitCode(0);
    });
}

