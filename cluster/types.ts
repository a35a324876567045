import type { ProtocolProfile } from '../config/protocol.js';
import type { ClientTls } from '../common/tls.js';
import type { HookRun } from './chaos-hooks.js';
import type { LbPolicy } from './nginx-config.js';
import type { UserServerSpec } from '../config/user-server.js';

/** Server settings passed to every reference node. Seed defaults in SERVER_DEFAULTS. */
export interface ServerOptions {
  /** Max `publish`/`join` messages per connection per window (seed 001: 100/minute). */
  rateLimit: number;
  /** Rate-limit window, ms (seed 001: one minute). */
  rateWindowMs: number;
  /** Max message size, bytes (seed 001: 1 MB). */
  maxPayload: number;
  /** Max members per room on one node (seed 000: maxRoomSize 1000). */
  roomCapacity: number;
  /** Engine.IO ping interval, ms (seed 000: 25000). */
  pingInterval: number;
  /** Engine.IO ping timeout, ms (seed 000: 60000). */
  pingTimeout: number;
  /** Bytes queued for one connection beyond which the node drops it (a client that stopped reading); default 4 MiB. */
  maxBufferedBytes: number;
}

export const SERVER_DEFAULTS: ServerOptions = {
  rateLimit: 100,
  rateWindowMs: 60_000,
  maxPayload: 1_048_576,
  roomCapacity: 1000,
  pingInterval: 25_000,
  pingTimeout: 60_000,
  maxBufferedBytes: 4 * 1024 * 1024,
};

/** Reference-server variants (reference-server/options.ts; the harness does not import it). */
export const SERVER_KINDS = ['socketio', 'ws', 'bun'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

/** What each variant runs and how it spreads room messages over the nodes (recorded in the report). */
export const SERVER_VARIANT_INFO: Record<ServerKind, { adapter: string; protocol: 'socketio' | 'ws'; runtime: 'node' | 'bun' }> = {
  socketio: { adapter: '@socket.io/redis-adapter', protocol: 'socketio', runtime: 'node' },
  ws: { adapter: 'custom ioredis pub/sub', protocol: 'ws', runtime: 'node' },
  bun: { adapter: 'Bun server.publish + ioredis pub/sub', protocol: 'ws', runtime: 'bun' },
};

/**
 * Cluster adapters of the socket.io variant (`--adapter`): `redis` (@socket.io/redis-adapter, pub/sub)
 * or `redis-streams` (@socket.io/redis-streams-adapter with connection state recovery, seed 001 §4).
 */
export const SOCKETIO_ADAPTERS = ['redis', 'redis-streams'] as const;
export type SocketIoAdapter = (typeof SOCKETIO_ADAPTERS)[number];

/** `topology.adapter` of the report: how the nodes spread room messages. */
export function adapterOf(t: Pick<Topology, 'server' | 'adapter'>): string {
  return t.server === 'socketio' && t.adapter === 'redis-streams' ? '@socket.io/redis-streams-adapter' : SERVER_VARIANT_INFO[t.server].adapter;
}

/** The reference node's `--adapter` flag (socket.io only; absent: its default, `redis`). */
export function adapterArgs(t: Pick<Topology, 'server' | 'adapter'>): string[] {
  return t.server === 'socketio' && t.adapter !== undefined ? ['--adapter', t.adapter] : [];
}

/** What to stand up. Defaults run on a laptop. */
export interface Topology {
  /**
   * Reference-server variant (default socketio). With `userServer`: the reference protocol the
   * generator speaks to the user's nodes (socketio) until a protocol profile says otherwise.
   */
  server: ServerKind;
  /** The user's own server as the nodes (`server: { command | image, … }`); absent: the reference server. */
  userServer?: UserServerSpec;
  /** socket.io variant: its cluster adapter (default redis); redis-streams turns on connection state recovery. */
  adapter?: SocketIoAdapter;
  /** Reference nodes behind the load balancer (default 3). */
  nodes: number;
  lb: 'nginx';
  lbPolicy: LbPolicy;
  /** Load balancer listen port on 127.0.0.1; 0 picks a free one. */
  lbPort: number;
  /** Peak client connections expected (sizes nginx). */
  expectedConnections: number;
  serverOptions: ServerOptions;
  /** HS256 secret the nodes verify and the generator signs with. */
  jwtSecret: string;
  /** ms to wait for each part to become ready (default 30000). */
  readyTimeoutMs: number;
  /**
   * CALIBRATION ONLY (`--calibration-fault`, default none): faults every reference node injects on
   * purpose, one spec each (calibrate/faults.ts).
   */
  calibrationFaults?: string[];
  /**
   * TEST/CALIBRATION ONLY (`--insecure-disable`, default none): security checks every reference
   * node skips on purpose, so `security-probes` can prove it catches them (cluster/insecure-checks.ts).
   */
  insecureDisable?: string[];
  /** The config's `protocol` (config/protocol.ts); absent: the variant's reference profile. */
  protocol?: ProtocolProfile;
}

export interface NodeMetrics {
  nodeId: string;
  up: boolean;
  connections: number | null;
  rssBytes: number | null;
  heapUsedBytes: number | null;
  eventLoopLagMs: number | null;
  publishTotal: number | null;
}

export interface ClusterNode {
  readonly id: string;
  /** Direct URL of this node (bypassing the load balancer). */
  readonly url: string;
  readonly port: number;
  pid(): number | undefined;
  running(): boolean;
  /** SIGKILL. */
  kill(): Promise<void>;
  /** SIGTERM (graceful: the node says `server_shutdown` to its clients). */
  stop(): Promise<void>;
  /** Starts the node again on the same port and waits until it is ready. */
  start(): Promise<void>;
  /**
   * Path that answers HTTP while the node runs and not while it is paused, for the chaos checks
   * (absent: `/health`, the reference nodes'). null: the node has none (a user's server ready by
   * TCP or a log line) — a start is then observed as its port accepting, a pause as its process
   * stopped (/proc state T).
   */
  readonly healthPath?: string | null;
  /** Containers: whether the engine reports the node paused (docker pause freezes; no state T). */
  frozen?(): Promise<boolean>;
  /** SIGSTOP / SIGCONT. */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

export interface StartedCluster extends AsyncDisposable {
  readonly runId: string;
  /** URL through the load balancer: what clients connect to. */
  readonly url: string;
  readonly nodes: ClusterNode[];
  readonly redis: { url: string; port: number; pid(): number | undefined; stop(): Promise<void>; start(): Promise<void> };
  readonly lb: {
    port: number;
    pid(): number | undefined;
    policy: LbPolicy;
    /** Stops the load balancer: every client connection through it drops. */
    stop(): Promise<void>;
    /** Starts it again on the same port and waits until it answers. */
    start(): Promise<void>;
    /** Reloads its configuration (SIGHUP); established connections stay. */
    reload(): Promise<void>;
  };
  /** Component versions (redis, nginx, node, socket.io, adapter). */
  readonly versions: Record<string, string>;
  /** `--url` to a wss:// / https:// cluster: how clients verify it (common/tls.ts). */
  readonly tls?: ClientTls;
  /**
   * `--url` (driver external): every chaos hook run so far (`chaos.hooks`, cluster/chaos-hooks.ts),
   * in order; chaos actions put the runs they caused in their event. Absent for clusters wsbench started.
   */
  readonly hookRuns?: readonly HookRun[];
  /** Every pid the cluster started (for leak checks and `wsbench clean`). */
  pids(): number[];
  /** RSS in bytes of Redis and of the load balancer (all its processes); null where unknown. */
  processRss?(): Promise<{ redis: number | null; lb: number | null }>;
  /** Scrapes each node's /metrics. */
  metrics(): Promise<NodeMetrics[]>;
  /** Stops everything; idempotent; resolves with every teardown failure. */
  down(): Promise<Error[]>;
}

/** What every driver's start() gets besides the topology. */
export interface DriverStartOptions {
  runId: string;
  runDir: string;
  signal?: AbortSignal;
  /** Called with the pid of every process the driver starts, as it starts it (so a `kill -9` of the CLI mid-start still leaves them in pids.json). */
  onProcess?: (pid: number) => void;
}

export interface ClusterDriver {
  /** `local`: processes on this machine; `docker`: containers through testcontainers; `external`: a cluster wsbench did not start (`--url`). */
  readonly name: 'local' | 'docker' | 'external';
  start(topology: Topology, opts: DriverStartOptions): Promise<StartedCluster>;
}
