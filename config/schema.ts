import { z } from 'zod';
import { LB_POLICIES, type LbPolicy } from '../cluster/nginx-config.js';
import { SOCKETIO_ADAPTERS, type ServerKind, type SocketIoAdapter } from '../cluster/types.js';
import { DOCKER_NETWORK_CHOICES, DOCKER_PULL_CHOICES } from '../cluster/docker-options.js';
import { CONFIG_DEFAULTS } from './defaults.js';
import { REPEAT_FLAGS, repeatShape } from './repeat-options.js';
import { IMAGE_REF, serverSchema, type UserServer } from './user-server.js';
import { protocolSchema, type ProtocolProfile } from './protocol.js';
import { EXTERNAL_FLAGS, externalShape, type ChaosConfig, type TlsConfig } from './external-options.js';
import type { TargetConfigValue } from './targets-options.js';
import type { CompareConfig } from './compare-options.js';

const stringOrList = z.union([z.string(), z.array(z.string())]);

/**
 * The run-level keys (everything but the scenario's own options, targets and outputs), with their
 * defaults from CONFIG_DEFAULTS. Each key is also a flag of `wsbench run` (RUN_FLAGS).
 */
export const runKeysSchema = z
  .object({
    nodes: z.number().int().min(1).max(32).default(CONFIG_DEFAULTS.nodes),
    lbPolicy: z.enum(LB_POLICIES).default(CONFIG_DEFAULTS.lbPolicy),
    lbPort: z.number().int().min(0).max(65535).default(CONFIG_DEFAULTS.lbPort),
    driver: z.enum(['local', 'docker']).default(CONFIG_DEFAULTS.driver),
    redisImage: z.string().regex(IMAGE_REF, 'must be an image reference like wsbench/redis:7.4-bookworm').default(CONFIG_DEFAULTS.redisImage),
    nginxImage: z.string().regex(IMAGE_REF, 'must be an image reference like wsbench/nginx:1.28-bookworm').default(CONFIG_DEFAULTS.nginxImage),
    nodeImage: z.string().regex(IMAGE_REF, 'must be an image reference like wsbench/node:20-bookworm-slim').default(CONFIG_DEFAULTS.nodeImage),
    dockerNetwork: z.enum(DOCKER_NETWORK_CHOICES).default(CONFIG_DEFAULTS.dockerNetwork),
    dockerPull: z.enum(DOCKER_PULL_CHOICES).default(CONFIG_DEFAULTS.dockerPull),
    server: serverSchema.default(CONFIG_DEFAULTS.server),
    adapter: z.enum(SOCKETIO_ADAPTERS).optional(),
    readyTimeout: z.number().int().min(1000).max(600_000).default(CONFIG_DEFAULTS.readyTimeout),
    engine: z.enum(['node', 'k6']).default(CONFIG_DEFAULTS.engine),
    k6: z.string().min(1).optional(),
    serverRateLimit: z.number().int().min(1).max(100_000_000).optional(),
    /** CALIBRATION ONLY: `--calibration-fault` specs every reference node gets (cluster/calibration-faults.ts). */
    calibrationFault: stringOrList.optional(),
    /** TEST/CALIBRATION ONLY: security checks every reference node skips (cluster/insecure-checks.ts). */
    insecureDisable: stringOrList.optional(),
    /** A running cluster's load balancer (driver `external`): nothing is started. */
    url: z.string().min(1).optional(),
    /** Its nodes' own URLs (comma-separated or a list), for /metrics and /health. */
    nodeUrls: stringOrList.optional(),
    /** A cluster started by `wsbench cluster up` (id or folder): its URL, nodes, secret and server variant. */
    cluster: z.string().min(1).optional(),
    /** `i/N`: run the i-th share of the plan, split by room (load/shard-plan.ts). */
    shard: z.string().min(1).optional(),
    /** ISO time every shard starts publishing at (wall clock). */
    startAt: z.string().min(1).optional(),
    /** How to speak to the nodes (config/protocol.ts); absent: the variant's reference protocol. */
    protocol: protocolSchema.optional(),
    /** `repeat`, `judge`, `freshCluster`: the scenario N times, judged on the distribution (config/repeat-options.ts). */
    ...repeatShape,
    /** `tls` and `chaos.hooks` of a cluster the user runs (config/external-options.ts). */
    ...externalShape,
  })
  .strict();

export type RunKey = keyof z.infer<typeof runKeysSchema>;

/** Each run-level key and its flag of `wsbench run` (typed against the schema, so the two cannot drift). */
export const RUN_FLAGS: Record<RunKey, string> = {
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
  cluster: '--cluster',
  shard: '--shard',
  startAt: '--start-at',
  protocol: '--protocol',
  ...REPEAT_FLAGS,
  ...EXTERNAL_FLAGS,
};

/** Keys of a config that are not run-level keys nor scenario options: key → flag. */
export const META_FLAGS = { scenario: '<scenario>', options: '(scenario options)', targets: '--target', out: '--out', json: '--json' } as const;

/** The run-level keys whose flag values are numbers (commander gives strings). */
export const NUMERIC_RUN_KEYS: ReadonlySet<string> = new Set(['nodes', 'lbPort', 'readyTimeout', 'serverRateLimit', 'repeat']);

/**
 * One run, as a config file or `run(config)` gives it. Every key is optional except where a
 * scenario must be named (library `run`, a named run); the defaults are in docs/configuration.md
 * and CONFIG_DEFAULTS. Every key is also a flag of `wsbench run`; flags override the file.
 */
export interface WsbenchConfig {
  /** Scenario to run (`wsbench list`); in a file, the positional of `wsbench run` can name it instead. */
  scenario?: string;
  /** The scenario's options by key (`connections`, `rooms`, `rate`, `duration`, …; `wsbench run <s> --help`). */
  options?: Record<string, unknown>;
  /** Reference nodes behind NGINX (default 3). */
  nodes?: number;
  /** NGINX upstream policy (default `ip_hash`). */
  lbPolicy?: LbPolicy;
  /** Load-balancer port on 127.0.0.1 (default 0: a free port). */
  lbPort?: number;
  /** Cluster driver (default `local`). */
  driver?: 'local' | 'docker';
  /** `driver: 'docker'`: Redis image (default `wsbench/redis:7.4-bookworm`). */
  redisImage?: string;
  /** `driver: 'docker'`: NGINX image (default `wsbench/nginx:1.28-bookworm`). */
  nginxImage?: string;
  /** `driver: 'docker'`: image the reference nodes run in (default `wsbench/node:20-bookworm-slim`). */
  nodeImage?: string;
  /** `driver: 'docker'`: network mode (default `auto`). */
  dockerNetwork?: 'auto' | 'host' | 'bridge';
  /** `driver: 'docker'`: pull policy (default `missing`). */
  dockerPull?: 'missing' | 'never';
  /**
   * The nodes: a reference server variant (default `socketio`), or the user's own server as an
   * object: `{ command }` (local driver, `{port}` `{redisUrl}` `{nodeId}` placeholders) or
   * `{ image }` (docker driver), with `cwd`, `env`, `ready`, `stop`, `metrics` (docs/configuration.md).
   */
  server?: ServerKind | UserServer;
  /** `server: 'socketio'` only: its cluster adapter (default `redis`). */
  adapter?: SocketIoAdapter;
  /** ms each cluster part gets to become ready (default 30000). */
  readyTimeout?: number;
  /** What drives the load (default `node`). */
  engine?: 'node' | 'k6';
  /** `engine: 'k6'`: the k6 binary (default `$K6_BIN`, else `k6` on PATH). */
  k6?: string;
  /** Messages per minute per connection the nodes allow (default: seed 001's 100, raised by load scenarios). */
  serverRateLimit?: number;
  /** CALIBRATION ONLY: known faults every node injects (`wsbench calibrate`). */
  calibrationFault?: string | string[];
  /** TEST/CALIBRATION ONLY: security checks every node skips on purpose. */
  insecureDisable?: string | string[];
  /** A cluster already running behind this load balancer (http://, https://, ws://, wss://, any host); nothing is started. */
  url?: string;
  /** With a wss:// / https:// `url`: the CA file to trust (`--ca`), or `insecure: true` (`--insecure`, the report says so). */
  tls?: TlsConfig;
  /** With `url`: `hooks`, the user's shell commands per chaos action (`killNode`, `stopNode`, `startNode`, `pauseNode`, `resumeNode`, `stopRedis`, `startRedis`, `stopLb`, `startLb`; placeholders {node} {nodeUrl} {index}). */
  chaos?: ChaosConfig;
  /** With `url`: its nodes' own URLs, for /metrics and /health. */
  nodeUrls?: string | string[];
  /** A cluster started by `wsbench cluster up` (its id or folder) instead of `url`: its URL, nodes, JWT secret and server variant. */
  cluster?: string;
  /** `i/N` (1-based): run the i-th share of the plan, split by room; writes partial.json for `wsbench merge`. */
  shard?: string;
  /** With `shard`: the ISO time (with its zone) every shard starts publishing at. */
  startAt?: string;
  /**
   * How to speak to the nodes: auth, join, publish, receive, reconnect (docs/configuration.md#protocol),
   * or a reference profile by name (`'socketio'`, `'json'`). Default: the reference protocol of a
   * reference `server`; required with the user's own `server`.
   */
  protocol?: ProtocolProfile | 'socketio' | 'json';
  /** Runs of the scenario, judged on their distribution (default 1; cross-node-broadcast without `options.duration`: 3 runs of 8 s). */
  repeat?: number;
  /** With `repeat`: each target on the median of its value over the runs (default), the worst run's, or every run must pass. */
  judge?: 'median' | 'worst' | 'every';
  /** With `repeat`: a fresh cluster per run (default false: one cluster for all runs). */
  freshCluster?: boolean;
  /**
   * The user's targets by id: a number replaces a seed target's threshold (`{ 'latency-p99': 30 }`),
   * `false` switches one off (listed, not judged), `{ max | min }` sets its bound, and
   * `{ metric: '<report path>', max | min, unit?, description? }` adds one on any report value.
   */
  targets?: Record<string, TargetConfigValue>;
  /** Output folder (default `wsbench-results/<run id>`). */
  out?: string;
  /** CLI only: print the JSON report on stdout instead of the table (default false). */
  json?: boolean;
}

/** A config file: one run, or shared keys plus several named runs (`wsbench run <name> --config f`). */
export interface WsbenchConfigFile extends WsbenchConfig {
  /** Named runs; each is merged over the shared keys above and names its `scenario`. */
  runs?: Record<string, WsbenchConfig & { scenario: string }>;
  /** `wsbench compare --config <file>`: the gate's tolerances (config/compare-options.ts, docs/compare.md); its flags override them. */
  compare?: CompareConfig;
}

/**
 * The effective config of a run: every key resolved (defaults < config file < flags) and
 * validated; keys that do not apply to this run (docker images without the docker driver, …) are
 * left out, so that it can be fed back as a config file and gives the same run.
 */
export type EffectiveConfig = {
  scenario: string;
  options: Record<string, unknown>;
  server: ServerKind | UserServer;
  adapter?: SocketIoAdapter;
  nodes: number;
  lbPolicy?: LbPolicy;
  lbPort?: number;
  driver?: 'local' | 'docker';
  redisImage?: string;
  nginxImage?: string;
  nodeImage?: string;
  dockerNetwork?: 'auto' | 'host' | 'bridge';
  dockerPull?: 'missing' | 'never';
  readyTimeout: number;
  serverRateLimit?: number;
  engine: 'node' | 'k6';
  k6?: string;
  url?: string;
  nodeUrls?: string[];
  tls?: TlsConfig;
  chaos?: ChaosConfig;
  cluster?: string;
  shard?: string;
  startAt?: string;
  /** Secrets shown as "<redacted>". */
  protocol?: ProtocolProfile;
  calibrationFault?: string[];
  insecureDisable?: string[];
  repeat?: number;
  judge?: 'median' | 'worst' | 'every';
  freshCluster?: boolean;
  targets: Record<string, TargetConfigValue>;
  out?: string;
  json: boolean;
};

/**
 * Types a config (one run, or shared keys plus named `runs`) and returns it unchanged, as vitest's
 * and Playwright's `defineConfig` do: `export default defineConfig({ scenario: 'cross-node-broadcast', … })`.
 */
export function defineConfig<const C extends WsbenchConfigFile>(config: C): C {
  return config;
}
