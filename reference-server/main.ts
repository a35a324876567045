#!/usr/bin/env node
/**
 * Entry point of the reference Socket.IO server (the system under test).
 *
 *   node dist/reference-server/main.js --port 3001 --host 127.0.0.1 --redis redis://127.0.0.1:6379 \
 *     --node-id node-1 [--jwt-secret S] [--rate-limit 100] [--rate-window-ms 60000] [--max-payload 1048576] \
 *     [--room-capacity 1000] [--ping-interval 25000] [--ping-timeout 60000] [--shutdown-grace-ms 1000]
 *
 * stdout carries exactly one line, printed once listening with Redis connected:
 *   {"event":"listening","nodeId":…,"port":…,"pid":…,"versions":{…}}
 * Everything else goes to stderr. Exit codes: 0 after graceful shutdown, 1 on a runtime error,
 * 2 on bad arguments.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_OPTIONS, startReferenceServer, type ReferenceServer, type ReferenceServerOptions } from './socketio-server.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE =
  'usage: main.js [--port N] [--host H] [--redis URL] [--node-id ID] [--jwt-secret S | env WSB_JWT_SECRET] ' +
  '[--rate-limit N] [--rate-window-ms MS] [--max-payload BYTES] [--room-capacity N] ' +
  '[--ping-interval MS] [--ping-timeout MS] [--shutdown-grace-ms MS]';

function int(name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be an integer, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${raw}`);
  return n;
}

/** Parses argv (without node and script). Throws UsageError (or a node:util ERR_PARSE_ARGS_* error). */
export function parseServerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ReferenceServerOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
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
    },
  });
  const d = DEFAULT_OPTIONS;
  const jwtSecret = values['jwt-secret'] ?? env.WSB_JWT_SECRET;
  if (!jwtSecret) throw new UsageError('a JWT secret is required: pass --jwt-secret or set WSB_JWT_SECRET');
  const host = values.host ?? d.host;
  if (host.length === 0) throw new UsageError('--host must not be empty');
  const redisUrl = values.redis ?? d.redisUrl;
  if (!/^rediss?:\/\/./.test(redisUrl)) throw new UsageError(`--redis must be a redis:// URL, got '${redisUrl}'`);
  const nodeId = values['node-id'] ?? d.nodeId;
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(nodeId)) throw new UsageError(`--node-id must match [A-Za-z0-9._:-]{1,64}, got '${nodeId}'`);
  return {
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
  };
}

function fail(prefix: string, err: unknown, code: number): never {
  const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`[reference-server] ${prefix}: ${msg}\n`);
  process.exit(code);
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  let opts: ReferenceServerOptions;
  try {
    opts = parseServerArgs(argv);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`reference-server: ${msg.split('\n')[0]}\n`);
    process.exit(2);
  }

  let stopping = false;
  process.on('uncaughtException', (err) => fail('uncaught exception', err, 1));
  process.on('unhandledRejection', (reason) => {
    // While shutting down, ioredis rejects commands still queued for an unreachable Redis; harmless.
    if (stopping) return;
    fail('unhandled rejection', reason, 1);
  });

  let server: ReferenceServer;
  try {
    server = await startReferenceServer(opts);
  } catch (err) {
    fail('failed to start', err, 1);
  }

  process.stdout.write(
    JSON.stringify({
      event: 'listening',
      nodeId: server.nodeId,
      port: server.port,
      pid: process.pid,
      versions: server.versions,
    }) + '\n',
  );

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`[reference-server] ${signal} again, exiting now\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    process.stderr.write(`[reference-server] ${signal}: shutting down ${server.nodeId}\n`);
    server.shutdown().then(
      () => process.exit(0),
      (err: unknown) => fail('shutdown failed', err, 1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  void main();
}
