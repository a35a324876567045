/**
 * Options and command-line flags shared by every reference-server variant (socket.io, ws, bun).
 *
 * Deliberately free of heavy imports (no socket.io, no ws): `bun-main.ts` parses the same flags
 * under Bun without loading the Node-only variants.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_BUFFERED_BYTES, parseAllowedOrigins, parseInsecureDisable, type SecurityOptions } from './security.js';
import { parseCalibrationFaults, type CalibrationFault } from './calibration-faults.js';

/** The reference-server variants: seeds 000/001/003 option 1 (socketio), 002/003 option 2 (ws), 004 (bun). */
export const SERVER_VARIANTS = ['socketio', 'ws', 'bun'] as const;
export type ServerVariant = (typeof SERVER_VARIANTS)[number];

/** How each variant spreads a room message over the nodes (printed in the listening line). */
export const ADAPTER_OF: Record<ServerVariant, string> = {
  socketio: '@socket.io/redis-adapter',
  ws: 'custom ioredis pub/sub',
  bun: 'Bun server.publish + ioredis pub/sub',
};

/**
 * Cluster adapters of the socket.io variant: `redis` (@socket.io/redis-adapter, Redis pub/sub, the
 * seeds' choice) or `redis-streams` (@socket.io/redis-streams-adapter with connection state
 * recovery, seed 001 §4).
 */
export const SOCKETIO_ADAPTERS = ['redis', 'redis-streams'] as const;
export type SocketIoAdapter = (typeof SOCKETIO_ADAPTERS)[number];

/** Seed 001 §4: `connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000 }`. */
export const MAX_DISCONNECTION_DURATION_MS = 2 * 60 * 1000;

/** The listening line's `adapter`: ADAPTER_OF, or the streams adapter for `--adapter redis-streams`. */
export function adapterName(server: ServerVariant, adapter: SocketIoAdapter | undefined): string {
  return server === 'socketio' && adapter === 'redis-streams' ? '@socket.io/redis-streams-adapter' : ADAPTER_OF[server];
}

/** Security options (`--allowed-origins`, `--max-buffered-bytes`, `--insecure-disable`) come from security.ts. */
export interface ReferenceServerOptions extends SecurityOptions {
  port: number;
  host: string;
  redisUrl: string;
  nodeId: string;
  jwtSecret: string;
  /** Max publish+join messages per connection per window. */
  rateLimit: number;
  rateWindowMs: number;
  /** Largest client message, bytes (Socket.IO maxHttpBufferSize; ws maxPayload; Bun maxPayloadLength). */
  maxPayload: number;
  /** Max members of one room on this node. */
  roomCapacity: number;
  pingInterval: number;
  pingTimeout: number;
  shutdownGraceMs: number;
  /** socket.io variant only: the cluster adapter (default `redis`); `redis-streams` turns on connection state recovery. */
  adapter?: SocketIoAdapter;
  /** CALIBRATION ONLY (`--calibration-fault`, default none): known faults this node injects on purpose (calibration-faults.ts). */
  calibrationFaults?: CalibrationFault[];
}

export const DEFAULT_OPTIONS: Omit<ReferenceServerOptions, 'jwtSecret'> = {
  port: 3001,
  host: '127.0.0.1',
  redisUrl: 'redis://127.0.0.1:6379',
  nodeId: 'node-1',
  rateLimit: 100,
  rateWindowMs: 60_000,
  maxPayload: 1_048_576,
  roomCapacity: 1000,
  pingInterval: 25_000,
  pingTimeout: 60_000,
  shutdownGraceMs: 1000,
};

/** Delay clients are told to wait before reconnecting after `server_shutdown` (seed 000). */
export const RECONNECT_DELAY_MS = 5000;
/** Longest accepted room name, characters. */
export const MAX_ROOM_NAME_LENGTH = 256;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE =
  'usage: main.js [--server socketio|ws] [--port N] [--host H] [--redis URL] [--node-id ID] [--jwt-secret S | env WSB_JWT_SECRET] ' +
  '[--rate-limit N] [--rate-window-ms MS] [--max-payload BYTES] [--room-capacity N] ' +
  '[--ping-interval MS] [--ping-timeout MS] [--shutdown-grace-ms MS] [--adapter redis|redis-streams (socketio only)] ' +
  '[--allowed-origins ORIGIN,…|*] [--max-buffered-bytes BYTES] [--insecure-disable CHECK,… (test/calibration only)] [--calibration-fault SPEC,… (calibration only)]  (bun variant: bun bun-main.js, same flags)';

function calibrationFaultsOf(values: string[]): CalibrationFault[] {
  try {
    return parseCalibrationFaults(values);
  } catch (e) {
    throw new UsageError(`--calibration-fault: ${(e as Error).message}`);
  }
}

export interface ParsedServerArgs extends ReferenceServerOptions {
  /** `--server` (default socketio). */
  server: ServerVariant;
}

function int(name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be an integer, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${raw}`);
  return n;
}

/**
 * Parses argv (without node and script). Throws UsageError (or a node:util ERR_PARSE_ARGS_* error).
 * `defaultServer`: the variant when `--server` is absent (socketio for main.js, bun for bun-main.js).
 */
export function parseServerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env, defaultServer: ServerVariant = 'socketio'): ParsedServerArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      server: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      redis: { type: 'string' },
      'node-id': { type: 'string' },
      'jwt-secret': { type: 'string' },
      'rate-limit': { type: 'string' },
      'rate-window-ms': { type: 'string' },
      'max-payload': { type: 'string' },
      'room-capacity': { type: 'string' },
      'ping-interval': { type: 'string' },
      'ping-timeout': { type: 'string' },
      'shutdown-grace-ms': { type: 'string' },
      adapter: { type: 'string' },
      'allowed-origins': { type: 'string' },
      'max-buffered-bytes': { type: 'string' },
      'insecure-disable': { type: 'string' },
      'calibration-fault': { type: 'string', multiple: true },
    },
  });
  const d = DEFAULT_OPTIONS;
  const server = values.server ?? defaultServer;
  if (!(SERVER_VARIANTS as readonly string[]).includes(server)) {
    throw new UsageError(`--server must be one of ${SERVER_VARIANTS.join(', ')}, got '${server}'`);
  }
  const jwtSecret = values['jwt-secret'] ?? env.WSB_JWT_SECRET;
  if (!jwtSecret) throw new UsageError('a JWT secret is required: pass --jwt-secret or set WSB_JWT_SECRET');
  const host = values.host ?? d.host;
  if (host.length === 0) throw new UsageError('--host must not be empty');
  const redisUrl = values.redis ?? d.redisUrl;
  if (!/^rediss?:\/\/./.test(redisUrl)) throw new UsageError(`--redis must be a redis:// URL, got '${redisUrl}'`);
  const adapter = values.adapter;
  if (adapter !== undefined) {
    if (!(SOCKETIO_ADAPTERS as readonly string[]).includes(adapter)) throw new UsageError(`--adapter must be one of ${SOCKETIO_ADAPTERS.join(', ')}, got '${adapter}'`);
    if (server !== 'socketio') throw new UsageError(`--adapter applies to --server socketio only (the ${server} variant has its own Redis pub/sub)`);
  }
  const nodeId = values['node-id'] ?? d.nodeId;
  const security = (name: string, parse: () => unknown) => {
    try {
      return parse();
    } catch (e) {
      throw new UsageError(`--${name}: ${(e as Error).message}`);
    }
  };
  const allowedOrigins = values['allowed-origins'] === undefined ? [] : (security('allowed-origins', () => parseAllowedOrigins(values['allowed-origins']!)) as string[]);
  const insecureDisable = values['insecure-disable'] === undefined ? [] : (security('insecure-disable', () => parseInsecureDisable(values['insecure-disable']!)) as SecurityOptions['insecureDisable']);
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(nodeId)) throw new UsageError(`--node-id must match [A-Za-z0-9._:-]{1,64}, got '${nodeId}'`);
  return {
    server: server as ServerVariant,
    port: int('port', values.port, d.port, 0, 65535),
    host,
    redisUrl,
    nodeId,
    jwtSecret,
    rateLimit: int('rate-limit', values['rate-limit'], d.rateLimit, 1),
    rateWindowMs: int('rate-window-ms', values['rate-window-ms'], d.rateWindowMs, 1),
    maxPayload: int('max-payload', values['max-payload'], d.maxPayload, 1),
    roomCapacity: int('room-capacity', values['room-capacity'], d.roomCapacity, 1),
    pingInterval: int('ping-interval', values['ping-interval'], d.pingInterval, 1),
    pingTimeout: int('ping-timeout', values['ping-timeout'], d.pingTimeout, 1),
    shutdownGraceMs: int('shutdown-grace-ms', values['shutdown-grace-ms'], d.shutdownGraceMs, 0),
    allowedOrigins,
    maxBufferedBytes: int('max-buffered-bytes', values['max-buffered-bytes'], DEFAULT_MAX_BUFFERED_BYTES, 1),
    insecureDisable,
    calibrationFaults: calibrationFaultsOf(values['calibration-fault'] ?? []),
    ...(server === 'socketio' ? { adapter: (adapter ?? 'redis') as SocketIoAdapter } : {}),
  };
}
