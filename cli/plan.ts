import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { WsbenchError } from '../common/errors.js';
import { LB_POLICIES, type LbPolicy } from '../cluster/nginx-config.js';
import { SERVER_DEFAULTS, SERVER_KINDS, SOCKETIO_ADAPTERS, type ServerKind, type Topology } from '../cluster/types.js';
import { DOCKER_IMAGE_DEFAULTS, DOCKER_NETWORK_CHOICES, DOCKER_PULL_CHOICES, type DockerDriverOptions } from '../cluster/docker-options.js';
import { calibrationFaultProblems, splitCalibrationFaults } from '../calibrate/faults.js';
import { insecureCheckProblems, splitInsecureChecks } from '../cluster/insecure-checks.js';
import { externalUrlProblems, type ExternalTarget } from '../cluster/external-driver.js';
import { SCENARIOS, type Scenario, type ServerOverride } from '../scenarios/index.js';
import { K6_ADAPTERS } from '../engines/k6/scenarios.js';
import { SEED_TARGETS, withValue, type TargetSpec } from '../model/targets.js';
import type { RunPlan } from '../runner/plan.js';
import { newRunId } from '../runner/run-id.js';
import { REPEAT_FLAGS, REPEAT_NUMERIC_KEYS, defaultRunProfile, planRepeat, profileNote, repeatShape } from './repeat-options.js';
import { resolveClusterTarget, resolveShard, withPlanId } from './shard-options.js';

export type { RunPlan };

/** Run-level settings (not scenario options), with defaults. */
export const RUN_DEFAULTS = {
  /** Reference nodes behind NGINX. */
  nodes: 3,
  /** NGINX upstream policy; seed 001 uses ip_hash. */
  lbPolicy: 'ip_hash' as LbPolicy,
  /** Load-balancer port on 127.0.0.1; 0 picks a free port. */
  lbPort: 0,
  /** Cluster driver: `local` processes or `docker` containers. */
  driver: 'local' as 'local' | 'docker',
  /** Reference server variant: socketio, ws or bun. */
  server: 'socketio' as ServerKind,
  /** ms each part of the cluster gets to become ready. */
  readyTimeout: 30_000,
};

/** `[registry/]name[:tag][@digest]`, as docker accepts it. */
const IMAGE_REF = /^[a-z0-9][a-z0-9._\/:@-]*$/i;

const runSchema = z
  .object({
    nodes: z.number().int().min(1).max(32).default(RUN_DEFAULTS.nodes),
    lbPolicy: z.enum(LB_POLICIES).default(RUN_DEFAULTS.lbPolicy),
    lbPort: z.number().int().min(0).max(65535).default(RUN_DEFAULTS.lbPort),
    driver: z.enum(['local', 'docker']).default('local'),
    redisImage: z.string().regex(IMAGE_REF, 'must be an image reference like redis:7.4-bookworm').optional(),
    nginxImage: z.string().regex(IMAGE_REF, 'must be an image reference like nginx:1.28-bookworm').optional(),
    nodeImage: z.string().regex(IMAGE_REF, 'must be an image reference like node:20-bookworm-slim').optional(),
    dockerNetwork: z.enum(DOCKER_NETWORK_CHOICES).default('auto'),
    dockerPull: z.enum(DOCKER_PULL_CHOICES).default('missing'),
    server: z.enum(SERVER_KINDS).default(RUN_DEFAULTS.server),
    adapter: z.enum(SOCKETIO_ADAPTERS).optional(),
    readyTimeout: z.number().int().min(1000).max(600_000).default(RUN_DEFAULTS.readyTimeout),
    engine: z.enum(['node', 'k6']).default('node'),
    k6: z.string().min(1).optional(),
    serverRateLimit: z.number().int().min(1).max(100_000_000).optional(),
    /** CALIBRATION ONLY: `--calibration-fault` specs every reference node gets (calibrate/faults.ts). */
    calibrationFault: z.union([z.string(), z.array(z.string())]).optional(),
    /** TEST/CALIBRATION ONLY: security checks every reference node skips (cluster/insecure-checks.ts). */
    insecureDisable: z.union([z.string(), z.array(z.string())]).optional(),
    /** A running cluster's load balancer (driver `external`): nothing is started. */
    url: z.string().min(1).optional(),
    /** Its nodes' own URLs (comma-separated or repeated), for /metrics and /health. */
    nodeUrls: z.union([z.string(), z.array(z.string())]).optional(),
    /** --repeat, --judge, --fresh-cluster (cli/repeat-options.ts). */
    ...repeatShape,
    /** A cluster started by `wsbench cluster up` (id or folder): its URL, nodes, secret and server variant. */
    cluster: z.string().min(1).optional(),
    /** `i/N`: run the i-th share of the plan, split by room (load/shard-plan.ts). */
    shard: z.string().min(1).optional(),
    /** ISO time every shard starts publishing at (wall clock). */
    startAt: z.string().min(1).optional(),
  })
  .strict();

/** Flags of `wsbench run` that are not scenario options: key → flag spelling (for messages). */
export const RUN_FLAGS: Record<keyof z.infer<typeof runSchema>, string> = {
  nodes: '--nodes',
  lbPolicy: '--lb-policy',
  lbPort: '--lb-port',
  driver: '--driver',
  redisImage: '--redis-image',
  nginxImage: '--nginx-image',
  nodeImage: '--node-image',
  dockerNetwork: '--docker-network',
  dockerPull: '--docker-pull',
  server: '--server',
  adapter: '--adapter',
  readyTimeout: '--ready-timeout',
  engine: '--engine',
  k6: '--k6',
  serverRateLimit: '--server-rate-limit',
  calibrationFault: '--calibration-fault',
  insecureDisable: '--insecure-disable',
  url: '--url',
  nodeUrls: '--node-urls',
  ...REPEAT_FLAGS,
  cluster: '--cluster',
  shard: '--shard',
  startAt: '--start-at',
};

export function lookupScenario(name: string): Scenario<any> {
  const s = SCENARIOS[name];
  if (!s) {
    throw new WsbenchError('WSB_UNKNOWN_SCENARIO', `unknown scenario "${name}"`, {
      hint: `available: ${Object.keys(SCENARIOS).join(', ')} (see \`wsbench list\`)`,
    });
  }
  return s;
}

/** Numbers from the command line arrive as strings; anything not a finite number stays as is so zod names it. */
function coerceNumbers(raw: Record<string, unknown>, numericKeys: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    if (numericKeys.has(k) && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) out[k] = Number(v);
    else out[k] = v;
  }
  return out;
}

function describeIssues(issues: z.ZodIssue[], flagOf: (key: string) => string, given: Record<string, unknown>): string[] {
  return issues.map((i) => {
    const key = String(i.path[0] ?? '');
    if (i.code === 'unrecognized_keys') return `unknown option(s): ${i.keys.join(', ')}`;
    const got = key in given ? ` (got ${JSON.stringify(given[key])})` : '';
    return `${flagOf(key)}: ${i.message.replace(/^Expected number, received string$/, 'must be a number')}${got}`;
  });
}

function readConfig(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new WsbenchError('WSB_CONFIG_INVALID', `cannot read config file ${path}: ${(e as Error).message}`, { hint: 'check the --config path' });
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('top level must be an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new WsbenchError('WSB_CONFIG_INVALID', `config file ${path} is not a valid JSON object: ${(e as Error).message}`, {
      hint: 'the config file is JSON: { "connections": 2000, "nodes": 3, "targets": { "latency-p99": 30 } }',
    });
  }
}

function parseTargetOverrides(list: string[], allowed: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of list) {
    const m = /^([a-z0-9-]+)=(-?\d+(?:\.\d+)?)$/.exec(item.trim());
    if (!m) throw new WsbenchError('WSB_INVALID_OPTION', `--target ${item}: expected <id>=<number>, e.g. latency-p99=30`, { hint: `targets of this scenario: ${allowed.join(', ')}` });
    if (!allowed.includes(m[1])) throw new WsbenchError('WSB_INVALID_OPTION', `--target ${item}: this scenario has no target "${m[1]}"`, { hint: `targets of this scenario: ${allowed.join(', ')}` });
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/**
 * Builds a RunPlan from the scenario name and the raw flag values. Every problem is reported at
 * once, in the user's terms (flag names), as one WSB_INVALID_OPTION error.
 */
export function buildPlan(
  scenarioName: string,
  flags: Record<string, unknown> & { config?: string; out?: string; json?: boolean; target?: string[] },
  envIn: NodeJS.ProcessEnv = process.env,
): RunPlan {
  let env = envIn;
  const scenario = lookupScenario(scenarioName);
  const fileConfig = flags.config ? readConfig(flags.config) : {};
  const { targets: fileTargets, ...fileRest } = fileConfig as { targets?: Record<string, number> };
  const scenarioKeys = new Set(scenario.flags.map((f) => f.key));
  const runKeys = new Set(Object.keys(RUN_FLAGS));
  const flagOf = (key: string) => RUN_FLAGS[key as keyof typeof RUN_FLAGS] ?? scenario.flags.find((f) => f.key === key)?.flag.split(' ')[0] ?? key;

  const unknownInFile = Object.keys(fileRest).filter((k) => !scenarioKeys.has(k) && !runKeys.has(k));
  if (unknownInFile.length) {
    throw new WsbenchError('WSB_CONFIG_INVALID', `config file ${flags.config} has unknown key(s): ${unknownInFile.join(', ')}`, {
      hint: `known keys: ${[...runKeys, ...scenarioKeys, 'targets'].join(', ')}`,
    });
  }
  const pick = (src: Record<string, unknown>, keys: Set<string>) => Object.fromEntries(Object.entries(src).filter(([k, v]) => keys.has(k) && v !== undefined));
  const numeric = new Set([...scenarioKeys, 'nodes', 'lbPort', 'readyTimeout', 'serverRateLimit', ...REPEAT_NUMERIC_KEYS]);
  const rawRun = { ...pick(fileRest, runKeys), ...coerceNumbers(pick(flags, runKeys), numeric) };
  const rawScenario = { ...pick(fileRest, scenarioKeys), ...coerceNumbers(pick(flags, scenarioKeys), numeric) };
  // The scenario's default run (e.g. 3 × 8 s) applies only when the user chose neither how many runs nor how long.
  const profile = defaultRunProfile(scenario, rawRun, rawScenario);

  const problems: string[] = [];
  const runParsed = runSchema.safeParse(rawRun);
  if (!runParsed.success) problems.push(...describeIssues(runParsed.error.issues, flagOf, rawRun));
  const scParsed = scenario.options.safeParse(rawScenario);
  if (!scParsed.success) problems.push(...describeIssues(scParsed.error.issues, flagOf, rawScenario));
  if (runParsed.success && scParsed.success && scenario.validate) problems.push(...scenario.validate(scParsed.data, { nodes: runParsed.data.nodes }));
  if (runParsed.success && runParsed.data.engine === 'k6' && !K6_ADAPTERS[scenario.name]) {
    problems.push(`--engine k6: ${scenario.name} has no k6 script (k6 scripts: ${Object.keys(K6_ADAPTERS).join(', ')})`);
  }
  if (runParsed.success && runParsed.data.engine !== 'k6' && 'k6' in rawRun) problems.push('--k6: only applies with --engine k6');
  const calibrationFaults = splitCalibrationFaults(runParsed.success ? runParsed.data.calibrationFault : undefined);
  problems.push(...calibrationFaultProblems(calibrationFaults));
  if (runParsed.success && runParsed.data.adapter !== undefined && runParsed.data.server !== 'socketio') {
    problems.push(`--adapter: only applies with --server socketio (the ${runParsed.data.server} variant has its own Redis pub/sub)`);
  }
  if (runParsed.success && runParsed.data.driver !== 'docker') {
    for (const k of ['redisImage', 'nginxImage', 'nodeImage', 'dockerNetwork', 'dockerPull'] as const) {
      if (k in rawRun) problems.push(`${RUN_FLAGS[k]}: only applies with --driver docker`);
    }
  }
  const insecureDisable = splitInsecureChecks(runParsed.success ? runParsed.data.insecureDisable : undefined);
  problems.push(...insecureCheckProblems(insecureDisable));
  // --url: a cluster wsbench did not start. Nothing it would start or configure applies.
  // --cluster: a `wsbench cluster up` cluster stands in for --url, --node-urls, WSB_JWT_SECRET and --server.
  const clusterTarget = runParsed.success && runParsed.data.cluster !== undefined ? resolveClusterTarget(runParsed.data, rawRun, problems) : undefined;
  if (clusterTarget) env = { ...env, WSB_JWT_SECRET: clusterTarget.jwtSecret };
  const url = clusterTarget?.url ?? (runParsed.success ? runParsed.data.url : undefined);
  const nodeUrls = clusterTarget?.nodeUrls ?? [runParsed.success ? runParsed.data.nodeUrls : undefined].flat().flatMap((v) => (v ?? '').split(',')).map((s) => s.trim()).filter(Boolean);
  const shard = runParsed.success && scParsed.success ? resolveShard(scenario, { ...runParsed.data, nodes: clusterTarget ? clusterTarget.nodeUrls.length : runParsed.data.nodes }, scParsed.data as Record<string, unknown>, problems) : undefined;
  if (url !== undefined) {
    problems.push(...externalUrlProblems('--url', url), ...nodeUrls.flatMap((u) => externalUrlProblems('--node-urls', u)));
    for (const k of ['driver', 'lbPolicy', 'lbPort', 'serverRateLimit', 'calibrationFault', 'insecureDisable', 'adapter'] as const) {
      if (k in rawRun) problems.push(`${RUN_FLAGS[k]}: does not apply with --url (wsbench does not start or configure that cluster)`);
    }
    if (!env.WSB_JWT_SECRET) problems.push("--url: put the cluster's JWT secret in the environment variable WSB_JWT_SECRET (wsbench signs its clients' tokens with it)");
  } else if (nodeUrls.length) problems.push('--node-urls: only applies with --url');
  const repeat = runParsed.success && scParsed.success ? planRepeat(runParsed.data, scParsed.data as Record<string, unknown>, profile, problems) : undefined;
  if (problems.length || !runParsed.success || !scParsed.success) {
    throw new WsbenchError('WSB_INVALID_OPTION', `invalid options for ${scenario.name}:\n  - ${problems.join('\n  - ')}`, {
      hint: `see \`wsbench run ${scenario.name} --help\``,
    });
  }

  const r = { ...runParsed.data, ...(clusterTarget ? { server: clusterTarget.server, adapter: clusterTarget.adapter } : {}) };
  const options = scParsed.data as Record<string, unknown>;
  if (url !== undefined && scenario.needsClusterControl) {
    throw new WsbenchError('WSB_EXTERNAL_UNSUPPORTED', `${scenario.name} ${scenario.needsClusterControl}, which wsbench cannot do to a cluster it did not start (--url)`, {
      hint: `drop --url to let wsbench start its own cluster, or run a scenario that only drives load: ${Object.values(SCENARIOS)
        .filter((s) => !s.needsClusterControl)
        .map((s) => s.name)
        .join(', ')}`,
    });
  }
  const overridesByTarget = {
    ...parseTargetOverrides(Object.entries(fileTargets ?? {}).map(([k, v]) => `${k}=${String(v)}`), scenario.targets),
    ...parseTargetOverrides(flags.target ?? [], scenario.targets),
  };
  const targets = scenario.targets.map((id) => {
    const spec = SEED_TARGETS[id];
    if (!spec) throw new WsbenchError('WSB_INTERNAL', `scenario ${scenario.name} names unknown target ${id}`);
    const v = overridesByTarget[id];
    return v === undefined ? spec : withValue(spec, v);
  });
  const { expectedConnections, serverOverrides: scenarioOverrides } = scenario.topology(options);
  // --server-rate-limit wins over what the scenario would raise the limit to (e.g. to put a known
  // limit in the cluster's way, or to keep the seed's 100 messages/minute).
  const serverOverrides =
    r.serverRateLimit === undefined
      ? scenarioOverrides
      : [...scenarioOverrides.filter((o) => o.setting !== 'rateLimit'), { setting: 'rateLimit' as const, value: r.serverRateLimit, why: 'set with --server-rate-limit' }];
  const serverOptions = { ...SERVER_DEFAULTS };
  const notes: string[] = [];
  // An external cluster keeps its own settings: nothing is overridden (and the report says what the scenario would have changed).
  for (const o of url === undefined ? serverOverrides : []) serverOptions[o.setting] = o.value;
  if (url !== undefined && !clusterTarget && serverOverrides.length) {
    notes.push(`--url: the cluster keeps its own settings; on a cluster it starts, wsbench would set ${serverOverrides.map((o) => `${o.setting} = ${o.value} (${o.why})`).join('; ')}`);
  }
  const runId = shard ? `${newRunId(scenario.name)}-shard-${shard.ref.index}of${shard.ref.count}` : newRunId(scenario.name);
  const { workers: _w, receiveLog: _l, ...planOptions } = options;
  const shardPlan = shard ? withPlanId(shard, { scenario: scenario.name, options: planOptions, engine: r.engine, server: r.server, targets }) : undefined;
  if (clusterTarget) {
    // The cluster keeps its settings: a run that needs more than it allows is refused rather than throttled.
    const rate = serverOverrides.find((o) => o.setting === 'rateLimit');
    if (rate && rate.value > clusterTarget.serverOptions.rateLimit) {
      throw new WsbenchError('WSB_INVALID_OPTION', `cluster ${clusterTarget.id} allows ${clusterTarget.serverOptions.rateLimit} messages/minute per connection; ${rate.why} needs ${rate.value}`, {
        hint: `start a cluster with \`wsbench cluster up --server-rate-limit ${rate.value}\`, or lower --rate`,
      });
    }
    const cap = serverOverrides.find((o) => o.setting === 'roomCapacity');
    if (cap && cap.value > clusterTarget.serverOptions.roomCapacity) {
      throw new WsbenchError('WSB_INVALID_OPTION', `cluster ${clusterTarget.id} allows ${clusterTarget.serverOptions.roomCapacity} members per room per node; ${cap.why} needs ${cap.value}`, {
        hint: `start a cluster with \`wsbench cluster up --room-capacity ${cap.value}\`, or use more --rooms`,
      });
    }
  }
  return {
    scenario,
    options,
    topology: {
      server: r.server,
      ...(r.server === 'socketio' ? { adapter: r.adapter ?? 'redis' } : {}),
      nodes: url !== undefined && nodeUrls.length ? nodeUrls.length : r.nodes,
      lb: 'nginx',
      lbPolicy: r.lbPolicy,
      lbPort: r.lbPort,
      expectedConnections,
      serverOptions,
      // The nodes wsbench starts get a fresh secret; an external cluster's comes from WSB_JWT_SECRET.
      jwtSecret: url !== undefined ? env.WSB_JWT_SECRET! : randomBytes(32).toString('hex'),
      readyTimeoutMs: r.readyTimeout,
      ...(calibrationFaults.length ? { calibrationFaults } : {}),
      ...(insecureDisable.length ? { insecureDisable } : {}),
    },
    serverOverrides: url === undefined ? serverOverrides : [],
    targets,
    outDir: flags.out,
    json: flags.json ?? false,
    runId,
    engine: r.engine,
    k6Path: r.k6,
    driver: url !== undefined ? 'external' : r.driver,
    ...(url !== undefined ? { external: { url, nodeUrls } } : {}),
    ...(profile ? { notes: [...notes, profileNote(scenario.name, profile)] } : notes.length ? { notes } : {}),
    ...(repeat ? { repeat } : {}),
    ...(shardPlan ? { shard: shardPlan } : {}),
    ...(clusterTarget ? { clusterId: clusterTarget.id } : {}),
    docker: {
      images: { redis: r.redisImage ?? DOCKER_IMAGE_DEFAULTS.redis, nginx: r.nginxImage ?? DOCKER_IMAGE_DEFAULTS.nginx, node: r.nodeImage ?? DOCKER_IMAGE_DEFAULTS.node },
      network: r.dockerNetwork,
      pull: r.dockerPull,
    },
  };
}
