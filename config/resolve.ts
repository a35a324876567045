import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { z } from 'zod';
import { WsbenchError } from '../common/errors.js';
import { SERVER_DEFAULTS, type Topology } from '../cluster/types.js';
import { calibrationFaultProblems, splitCalibrationFaults } from '../calibrate/faults.js';
import { compareConfigProblems } from './compare-options.js';
import { insecureCheckProblems, splitInsecureChecks } from '../cluster/insecure-checks.js';
import { externalUrlProblems } from '../cluster/external-driver.js';
import { SCENARIOS, type Scenario } from '../scenarios/index.js';
import { K6_ADAPTERS } from '../engines/k6/scenarios.js';
import type { RunPlan } from '../runner/plan.js';
import { newRunId } from '../runner/run-id.js';
import { CONFIG_DEFAULTS } from './defaults.js';
import { resolveClusterTarget, resolveShard, withPlanId } from './shard-options.js';
import { META_FLAGS, RUN_FLAGS, runKeysSchema, type EffectiveConfig, type RunKey } from './schema.js';
import { defaultRunProfile, planRepeat, profileNote } from './repeat-options.js';
import { redactServer, resolveUserServer, userServerProblems } from './user-server.js';
import { redactHooks } from './redact.js';
import type { ServerKind } from '../cluster/types.js';
import { REFERENCE_PROFILES, isReferenceProfile, profileFileProblems, redactProfile, usesRunSecret } from './protocol.js';
import { effectiveTargets, resolveTargets } from './targets-options.js';
import { checkChaosHooks, resolveExternal } from './external-options.js';

/**
 * One layer of settings, lowest precedence first: a config file (or the object given to `run()`),
 * then the command line. `values` has the config's shape: run-level keys, `options`, `targets`,
 * `out`, `json`; a config layer may also hold scenario options at its top level.
 */
export interface ConfigLayer {
  origin: 'config' | 'flags';
  /** For messages: the file (and named run), or `run() config`. */
  source: string;
  values: Record<string, unknown>;
  /** A config file's folder: the default `cwd` of a user's server given there. */
  dir?: string;
}

export function lookupScenario(name: string): Scenario<any> {
  const s = SCENARIOS[name];
  if (!s) {
    throw new WsbenchError('WSB_UNKNOWN_SCENARIO', `unknown scenario "${name}"`, {
      hint: `available: ${Object.keys(SCENARIOS).join(', ')} (see \`wsbench list\`)`,
    });
  }
  return s;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

function closest(key: string, known: string[]): string | undefined {
  const best = known.map((k) => [k, distance(key.toLowerCase(), k.toLowerCase())] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(key.length / 3)) ? best[0] : undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

interface Problem {
  text: string;
  origin: 'config' | 'flags';
}

/**
 * Resolves the layers of one run into a validated RunPlan (defaults < config < flags). Every
 * problem is reported at once in the user's terms — a flag by its flag, a config key by its key
 * (`options.connections`, `targets.latency-p99`), each with the value given and what was
 * expected — as WSB_CONFIG_INVALID when every problem comes from the config, else
 * WSB_INVALID_OPTION. Nothing is started.
 */
export function resolvePlan(scenarioName: string, layers: ConfigLayer[], env: NodeJS.ProcessEnv = process.env): RunPlan {
  const scenario = lookupScenario(scenarioName);
  const scenarioKeys = scenario.flags.map((f) => f.key as string);
  const runKeys = Object.keys(RUN_FLAGS) as RunKey[];
  const problems: Problem[] = [];
  /** Where each key's value comes from: `nodes`, `options.rooms`, `targets.latency-p99` → the layer that set it last. */
  const origins = new Map<string, ConfigLayer>();
  const rawRun: Record<string, unknown> = {};
  const rawOptions: Record<string, unknown> = {};
  const rawTargets: Record<string, unknown> = {};
  let out: unknown;
  let json: unknown;

  for (const layer of layers) {
    const fromConfig = layer.origin === 'config';
    const set = (path: string, target: Record<string, unknown>, key: string, value: unknown) => {
      if (value === undefined) return;
      target[key] = value;
      origins.set(path, layer);
    };
    for (const [key, value] of Object.entries(layer.values)) {
      if (value === undefined) continue;
      // `--server-command` over a config's `server: { … }`: the flag's fields win, the rest stay.
      // The merged server keeps the folder of the file that gave it (its default and relative `cwd`).
      if (key === 'server' && isRecord(value) && isRecord(rawRun.server)) {
        const dir = origins.get('server')?.dir;
        rawRun.server = { ...rawRun.server, ...value };
        origins.set('server', { ...layer, ...(dir !== undefined && layer.dir === undefined ? { dir } : {}) });
      } else if ((runKeys as string[]).includes(key)) set(key, rawRun, key, value);
      else if (key === 'options' || key === 'targets') {
        if (!isRecord(value)) {
          problems.push({ text: `${key}: expected an object of ${key === 'options' ? 'scenario options' : 'target thresholds'} (got ${show(value)})`, origin: layer.origin });
          continue;
        }
        for (const [k, v] of Object.entries(value)) set(`${key}.${k}`, key === 'options' ? rawOptions : rawTargets, k, v);
      } else if (key === 'out') {
        out = value;
        origins.set('out', layer);
      } else if (key === 'json') {
        json = value;
        origins.set('json', layer);
      } else if (key === 'compare' && fromConfig) {
        // `wsbench compare --config`'s tolerances: not a run key, but checked here so one file holds the run and its gate.
        for (const text of compareConfigProblems(value)) problems.push({ text, origin: 'config' });
      } else if (key === 'scenario') {
        // Chosen before resolving (the positional, or the named run's key); checked there.
        if (value !== scenario.name) problems.push({ text: `scenario: expected "${scenario.name}" (got ${show(value)})`, origin: layer.origin });
      } else if (fromConfig && scenarioKeys.includes(key)) {
        // A scenario option at the top level of a config, as its flag would give it.
        if (isRecord(layer.values.options) && key in layer.values.options) {
          problems.push({ text: `${key}: given both at the top level and in options (got ${show(value)} and ${show(layer.values.options[key])}); keep one`, origin: 'config' });
        }
        set(`options.${key}`, rawOptions, key, value);
      } else {
        const known = [...runKeys, ...Object.keys(META_FLAGS), ...scenarioKeys];
        const guess = closest(key, known);
        problems.push({
          text: `${key}: unknown key (got ${show(value)})${guess ? `; did you mean ${guess}?` : ''} — keys: ${known.join(', ')}`,
          origin: layer.origin,
        });
      }
    }
  }

  const originOf = (path: string): 'config' | 'flags' => origins.get(path)?.origin ?? 'flags';
  /** A key in the user's terms: its flag when it came from the command line, its config key when from the config. */
  const nameOf = (path: string): string => {
    if (originOf(path) === 'config') return path;
    const [head, key] = path.split('.');
    if (head === 'options') return scenario.flags.find((f) => f.key === key)?.flag.split(' ')[0] ?? key;
    if (head === 'targets') return `--target ${key}`;
    return RUN_FLAGS[head as RunKey] ?? META_FLAGS[head as keyof typeof META_FLAGS] ?? head;
  };
  const problem = (path: string, text: string) => problems.push({ text: `${nameOf(path)}: ${text}`, origin: originOf(path) });
  const describeIssues = (issues: z.ZodIssue[], prefix: string, given: Record<string, unknown>) => {
    for (const i of issues) {
      if (i.code === 'unrecognized_keys' && i.path.length > 0) {
        // A nested object (tls, chaos.hooks): its unknown keys, by their full path.
        problem(`${prefix}${String(i.path[0])}`, `${i.path.slice(1).map(String).join('.')}${i.path.length > 1 ? ': ' : ''}unknown key(s) ${i.keys.join(', ')}`);
        continue;
      }
      if (i.code === 'unrecognized_keys') {
        for (const k of i.keys) problem(`${prefix}${k}`, `unknown option (got ${show(given[k])}) — options of ${scenario.name}: ${scenarioKeys.join(', ')}`);
        continue;
      }
      const key = String(i.path[0] ?? '');
      const path = `${prefix}${key}`;
      if (key === 'protocol' && i.path.length > 1) {
        // A nested key of the profile, named in full: `protocol.receive.stampPath`.
        const at = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').slice(1).replace(/\.\[/g, '[');
        let v: unknown = given[key];
        for (const p of i.path.slice(1)) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p as string] : undefined;
        problems.push({ text: `${at}: ${i.message}${v !== undefined ? ` (got ${JSON.stringify(v)})` : ''}`, origin: originOf(path) });
        continue;
      }
      // A user's server is shown with the secrets of its env redacted (errors reach CI logs).
      const got = key in given ? ` (got ${JSON.stringify(key === 'server' ? redactServer(given[key]) : given[key])})` : '';
      const message = i.message.replace(/^Expected number, received string$/, originOf(path) === 'flags' ? 'must be a number' : 'expected a number, received a string');
      problem(path, `${message}${got}`);
    }
  };

  if (out !== undefined && (typeof out !== 'string' || out === '')) problem('out', `expected a folder path (got ${show(out)})`);
  if (json !== undefined && typeof json !== 'boolean') problem('json', `expected true or false (got ${show(json)})`);
  // The scenario's default run (cross-node-broadcast: 3 × 8 s) when neither repeat nor duration was chosen.
  const profile = defaultRunProfile(scenario, rawRun, rawOptions);
  // `protocol: 'socketio' | 'json'` (flag --protocol): a reference profile by its name.
  if (typeof rawRun.protocol === 'string' && rawRun.protocol in REFERENCE_PROFILES) rawRun.protocol = structuredClone(REFERENCE_PROFILES[rawRun.protocol as keyof typeof REFERENCE_PROFILES]);
  const runParsed = runKeysSchema.safeParse(rawRun);
  if (!runParsed.success) describeIssues(runParsed.error.issues, '', rawRun);
  const scParsed = scenario.options.safeParse(rawOptions);
  if (!scParsed.success) describeIssues(scParsed.error.issues, 'options.', rawOptions);
  const given = (k: RunKey) => k in rawRun;
  const optionsOrigin = [...origins.keys()].some((p) => p.startsWith('options.') && originOf(p) === 'flags') || !layers.some((l) => l.origin === 'config') ? 'flags' : 'config';
  if (runParsed.success && scParsed.success && scenario.validate) {
    for (const text of scenario.validate(scParsed.data, { nodes: runParsed.data.nodes })) problems.push({ text, origin: optionsOrigin });
  }
  if (runParsed.success && runParsed.data.engine === 'k6' && !K6_ADAPTERS[scenario.name]) {
    problems.push({ text: `${nameOf('engine')} k6: ${scenario.name} has no k6 script (k6 scripts: ${Object.keys(K6_ADAPTERS).join(', ')})`, origin: originOf('engine') });
  }
  if (runParsed.success && runParsed.data.engine === 'k6' && runParsed.data.protocol !== undefined && !isReferenceProfile(runParsed.data.protocol)) {
    // The k6 scripts (engines/k6/scripts/) speak the reference protocol only.
    problems.push({ text: `protocol: the k6 engine speaks only the reference protocol; a profile needs ${nameOf('engine')} node`, origin: originOf('protocol') });
  }
  for (const p of profileFileProblems(runParsed.success ? runParsed.data.protocol : undefined)) problems.push({ text: p, origin: originOf('protocol') });
  if (runParsed.success && runParsed.data.engine !== 'k6' && given('k6')) problem('k6', `only applies with ${nameOf('engine')} k6`);
  const calibrationFaults = splitCalibrationFaults(runParsed.success ? runParsed.data.calibrationFault : undefined);
  for (const p of calibrationFaultProblems(calibrationFaults)) problems.push({ text: p, origin: originOf('calibrationFault') });
  const userServer = runParsed.success && typeof runParsed.data.server === 'object' ? runParsed.data.server : undefined;
  if (userServer && runParsed.success) {
    const driver = runParsed.data.driver;
    for (const p of userServerProblems(userServer, driver, nameOf('server'), given)) problem(p.key, p.text);
  }
  if (runParsed.success && !userServer && runParsed.data.adapter !== undefined && runParsed.data.server !== 'socketio') {
    problem('adapter', `only applies with ${nameOf('server')} socketio (the ${runParsed.data.server} variant has its own Redis pub/sub)`);
  }
  if (runParsed.success && runParsed.data.driver !== 'docker') {
    for (const k of ['redisImage', 'nginxImage', 'nodeImage', 'dockerNetwork', 'dockerPull'] as const) {
      if (given(k)) problem(k, `only applies with ${nameOf('driver')} docker`);
    }
  }
  const insecureDisable = splitInsecureChecks(runParsed.success ? runParsed.data.insecureDisable : undefined);
  for (const p of insecureCheckProblems(insecureDisable)) problems.push({ text: p, origin: originOf('insecureDisable') });
  // --url: a cluster wsbench did not start. Nothing it would start or configure applies.
  // --cluster: a `wsbench cluster up` cluster stands in for --url, --node-urls, WSB_JWT_SECRET and --server.
  const pastOneMachine: string[] = [];
  const clusterTarget = runParsed.success && runParsed.data.cluster !== undefined ? resolveClusterTarget(runParsed.data, rawRun, pastOneMachine) : undefined;
  if (clusterTarget) env = { ...env, WSB_JWT_SECRET: clusterTarget.jwtSecret };
  // A user's server says how to speak to it: wsbench does not guess (a reference profile is one word away).
  if (runParsed.success && runParsed.data.protocol === undefined) {
    const clusterRunsUser = userServer === undefined && clusterTarget?.userServer !== undefined;
    if (userServer || clusterRunsUser) {
      problems.push({
        text: `protocol: ${userServer ? `your server (${nameOf('server')})` : `cluster ${runParsed.data.cluster} runs your server, and it`} needs a protocol profile — how wsbench speaks to it: auth, join, publish, receive (docs/your-server.md); a server that speaks wsbench's reference protocol names it: protocol: 'socketio' or 'json' (flag --protocol socketio|json)`,
        origin: originOf('server') === 'flags' || clusterRunsUser ? 'flags' : 'config',
      });
    }
  }
  const url = clusterTarget?.url ?? (runParsed.success ? runParsed.data.url : undefined);
  const nodeUrls = clusterTarget?.nodeUrls ?? [runParsed.success ? runParsed.data.nodeUrls : undefined].flat().flatMap((v) => (v ?? '').split(',')).map((s) => s.trim()).filter(Boolean);
  const shard =
    runParsed.success && scParsed.success
      ? resolveShard(scenario, { ...runParsed.data, nodes: clusterTarget ? clusterTarget.nodeUrls.length : runParsed.data.nodes }, scParsed.data as Record<string, unknown>, pastOneMachine)
      : undefined;
  for (const text of pastOneMachine) problems.push({ text, origin: originOf(text.startsWith('--cluster') ? 'cluster' : text.startsWith('--start-at') ? 'startAt' : 'shard') });
  if (url !== undefined) {
    for (const p of externalUrlProblems(nameOf('url'), url)) problems.push({ text: p, origin: originOf('url') });
    for (const p of nodeUrls.flatMap((u) => externalUrlProblems(nameOf('nodeUrls'), u))) problems.push({ text: p, origin: originOf('nodeUrls') });
    for (const k of ['driver', 'lbPolicy', 'lbPort', 'serverRateLimit', 'calibrationFault', 'insecureDisable', 'adapter'] as const) {
      if (given(k)) problem(k, `does not apply with ${nameOf('url')} (wsbench does not start or configure that cluster)`);
    }
    // --cluster: its `server` was checked against what the cluster runs (config/shard-options.ts).
    if (userServer && !clusterTarget) problem('server', `a server to start does not apply with ${nameOf('url')} (wsbench does not start that cluster)`);
    if (!clusterTarget && !env.WSB_JWT_SECRET && usesRunSecret(runParsed.success ? runParsed.data.protocol : undefined)) problem('url', "put the cluster's JWT secret in the environment variable WSB_JWT_SECRET (wsbench signs its clients' tokens with it)");
  } else if (nodeUrls.length) problem('nodeUrls', `only applies with ${nameOf('url')}`);
  const external = runParsed.success
    ? resolveExternal({ url, nodeUrls, tls: runParsed.data.tls, chaos: runParsed.data.chaos, engine: runParsed.data.engine }, (key, text) => problem(key, text))
    : { notes: [] };
  const repeatProblems: string[] = [];
  const repeat = runParsed.success && scParsed.success ? planRepeat(runParsed.data, scParsed.data as Record<string, unknown>, profile, repeatProblems) : undefined;
  for (const text of repeatProblems) problems.push({ text, origin: originOf(text.startsWith('--publisher-stall-run') ? 'options.publisherStallRun' : text.startsWith('--fresh-cluster') ? 'freshCluster' : 'repeat') });
  const targets = resolveTargets(
    scenario,
    rawTargets,
    (id) => {
      const layer = origins.get(`targets.${id}`);
      return layer?.origin === 'config' ? layer.source : 'command line';
    },
    (id, text) => problem(`targets.${id}`, text),
  );

  if (problems.length || !runParsed.success || !scParsed.success) {
    const fromConfig = problems.every((p) => p.origin === 'config');
    const sources = [...new Set(layers.filter((l) => l.origin === 'config').map((l) => l.source))];
    if (fromConfig) {
      throw new WsbenchError('WSB_CONFIG_INVALID', `invalid config for ${scenario.name} (${sources.join(', ')}):\n  - ${problems.map((p) => p.text).join('\n  - ')}`, {
        hint: `fix these keys; every key, its type and default: docs/configuration.md (options of ${scenario.name}: \`wsbench run ${scenario.name} --help\`)`,
      });
    }
    throw new WsbenchError('WSB_INVALID_OPTION', `invalid options for ${scenario.name}:\n  - ${problems.map((p) => p.text).join('\n  - ')}`, {
      hint: `see \`wsbench run ${scenario.name} --help\``,
    });
  }

  // --cluster: its nodes are what the run reports — the reference variant, or the user's server (the run's own `server`, else what the cluster recorded).
  const clusterServer = (c: NonNullable<typeof clusterTarget>) =>
    c.userServer ? { server: typeof runParsed.data.server === 'object' ? runParsed.data.server : c.userServer.image !== undefined ? { image: c.userServer.image } : { command: c.userServer.command ?? '?' } } : { server: c.server, adapter: c.adapter };
  const r = { ...runParsed.data, ...(clusterTarget ? clusterServer(clusterTarget) : {}) };
  const serverLayer = origins.get('server');
  const user = typeof r.server === 'object' ? resolveUserServer(r.server, serverLayer?.dir ?? process.cwd()) : undefined;
  // Until a protocol profile says otherwise, a user's server speaks the socket.io reference protocol.
  const variant: ServerKind = typeof r.server === 'object' ? 'socketio' : r.server;
  if (user?.command !== undefined && r.driver === 'local' && url === undefined && !existsSync(user.cwd)) {
    throw new WsbenchError(originOf('server') === 'config' ? 'WSB_CONFIG_INVALID' : 'WSB_INVALID_OPTION', `${nameOf('server')}.cwd: folder ${user.cwd} does not exist (your server's command runs there)`, {
      hint: 'fix server.cwd (relative to the config file), or leave it out to run in the config file\'s folder',
    });
  }
  const options = scParsed.data as Record<string, unknown>;
  // --url: every chaos action the scenario takes goes through the user's hooks (refused here, before anything starts, when one is missing).
  if (url !== undefined) checkChaosHooks(scenario, options, external.hooks, nodeUrls);
  const { expectedConnections, serverOverrides: scenarioOverrides } = scenario.topology(options);
  // --server-rate-limit wins over what the scenario would raise the limit to (e.g. to put a known
  // limit in the cluster's way, or to keep the seed's 100 messages/minute).
  const serverOverrides =
    r.serverRateLimit === undefined
      ? scenarioOverrides
      : [...scenarioOverrides.filter((o) => o.setting !== 'rateLimit'), { setting: 'rateLimit' as const, value: r.serverRateLimit, why: 'set with --server-rate-limit' }];
  const serverOptions = { ...SERVER_DEFAULTS };
  const notes: string[] = [...external.notes];
  // An external cluster keeps its own settings: nothing is overridden (and the report says what the scenario would have changed).
  for (const o of url === undefined && !user ? serverOverrides : []) serverOptions[o.setting] = o.value;
  if (url !== undefined && !clusterTarget && serverOverrides.length) {
    notes.push(`--url: the cluster keeps its own settings; on a cluster it starts, wsbench would set ${serverOverrides.map((o) => `${o.setting} = ${o.value} (${o.why})`).join('; ')}`);
  }
  // A cluster of the user's server has its own limits, which wsbench does not know (nor set).
  if (clusterTarget && !clusterTarget.userServer) {
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
  const { workers: _w, receiveLog: _l, ...planOptions } = options; // a shard's own generator settings are not the plan
  const shardPlan = shard ? withPlanId(shard, { scenario: scenario.name, options: planOptions, engine: r.engine, server: variant, targets }) : undefined;
  const nodes = url !== undefined && nodeUrls.length ? nodeUrls.length : r.nodes;
  const adapter = r.server === 'socketio' ? (r.adapter ?? CONFIG_DEFAULTS.adapter) : undefined;
  const outDir = out as string | undefined;
  const config: EffectiveConfig = {
    scenario: scenario.name,
    options,
    // Secrets (a `server.env` SECRET/TOKEN/KEY/PASSWORD, credentials in `server.command` and `chaos.hooks`, `protocol.auth.jwt.secret`) never reach the printed or stored config.
    server: redactServer(r.server),
    ...(adapter && url === undefined ? { adapter } : {}),
    nodes,
    ...(url === undefined ? { lbPolicy: r.lbPolicy, lbPort: r.lbPort, driver: r.driver } : {}),
    ...(url === undefined && r.driver === 'docker'
      ? { redisImage: r.redisImage, nginxImage: r.nginxImage, nodeImage: r.nodeImage, dockerNetwork: r.dockerNetwork, dockerPull: r.dockerPull }
      : {}),
    readyTimeout: r.readyTimeout,
    ...(r.serverRateLimit !== undefined ? { serverRateLimit: r.serverRateLimit } : {}),
    engine: r.engine,
    ...(r.k6 !== undefined ? { k6: r.k6 } : {}),
    ...(clusterTarget ? { cluster: r.cluster } : url !== undefined ? { url, ...(nodeUrls.length ? { nodeUrls } : {}) } : {}),
    ...(r.tls !== undefined ? { tls: r.tls } : {}),
    // Hook commands with their credentials redacted (config/redact.ts), as `server.env` secrets are.
    ...(r.chaos?.hooks !== undefined ? { chaos: { ...r.chaos, hooks: redactHooks(r.chaos.hooks) } } : {}),
    ...(r.shard !== undefined ? { shard: r.shard } : {}),
    ...(r.startAt !== undefined ? { startAt: r.startAt } : {}),
    ...(r.protocol !== undefined ? { protocol: redactProfile(r.protocol) } : {}),
    ...(calibrationFaults.length ? { calibrationFault: calibrationFaults } : {}),
    ...(insecureDisable.length ? { insecureDisable } : {}),
    ...(repeat ? { repeat: repeat.count, judge: repeat.judge, freshCluster: repeat.freshCluster } : {}),
    targets: effectiveTargets(scenario, targets),
    ...(outDir !== undefined ? { out: outDir } : {}),
    json: (json as boolean | undefined) ?? CONFIG_DEFAULTS.json,
  };
  return {
    scenario,
    options,
    topology: {
      server: variant,
      ...(user ? { userServer: user } : {}),
      ...(adapter ? { adapter } : {}),
      nodes,
      lb: 'nginx',
      lbPolicy: r.lbPolicy,
      lbPort: r.lbPort,
      expectedConnections,
      serverOptions,
      // The nodes wsbench starts get a fresh secret; an external cluster's comes from WSB_JWT_SECRET.
      // A user's server may bring its own (server.env.WSB_JWT_SECRET): the generator then signs with it.
      jwtSecret: url !== undefined ? (env.WSB_JWT_SECRET ?? '') : (user?.env.WSB_JWT_SECRET ?? randomBytes(32).toString('hex')),
      readyTimeoutMs: r.readyTimeout,
      ...(calibrationFaults.length ? { calibrationFaults } : {}),
      ...(insecureDisable.length ? { insecureDisable } : {}),
      ...(r.protocol !== undefined ? { protocol: r.protocol } : {}),
    },
    serverOverrides: url === undefined && !user ? serverOverrides : [],
    targets,
    outDir,
    json: config.json,
    runId: shard ? `${newRunId(scenario.name)}-shard-${shard.ref.index}of${shard.ref.count}` : newRunId(scenario.name),
    engine: r.engine,
    k6Path: r.k6,
    driver: url !== undefined ? 'external' : r.driver,
    ...(url !== undefined ? { external: { url, nodeUrls, ...(external.tls ? { tls: external.tls } : {}), ...(external.hooks ? { hooks: external.hooks } : {}) } } : {}),
    ...(profile ? { notes: [...notes, profileNote(scenario.name, profile)] } : notes.length ? { notes } : {}),
    ...(repeat ? { repeat } : {}),
    ...(shardPlan ? { shard: shardPlan } : {}),
    ...(clusterTarget ? { clusterId: clusterTarget.id } : {}),
    docker: {
      images: { redis: r.redisImage, nginx: r.nginxImage, node: r.nodeImage },
      network: r.dockerNetwork,
      pull: r.dockerPull,
    },
    config,
  };
}
