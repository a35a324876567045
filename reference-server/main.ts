#!/usr/bin/env node
/**
 * Node entry point of the reference servers (the system under test): the Socket.IO variant
 * (default) and the ws + Redis pub/sub variant. The Bun variant has its own entry, run by the bun
 * binary: `bun dist/reference-server/bun-main.js` with the same flags.
 *
 *   node dist/reference-server/main.js [--server socketio|ws] --port 3001 --host 127.0.0.1 \
 *     --redis redis://127.0.0.1:6379 --node-id node-1 [--jwt-secret S] [--rate-limit 100] \
 *     [--rate-window-ms 60000] [--max-payload 1048576] [--room-capacity 1000] [--ping-interval 25000] \
 *     [--ping-timeout 60000] [--shutdown-grace-ms 1000]
 *
 * stdout carries exactly one line, printed once listening with Redis connected:
 *   {"event":"listening","nodeId":…,"port":…,"pid":…,"server":…,"adapter":…,"versions":{…}}
 * Everything else goes to stderr. Exit codes: 0 after graceful shutdown, 1 on a runtime error,
 * 2 on bad arguments.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runServerProcess, type StartVariant } from './process-main.js';
import type { ServerVariant } from './options.js';

export { USAGE, UsageError, parseServerArgs } from './options.js';

// Loaded lazily: a ws node does not pay for loading socket.io, and the other way round.
const VARIANTS: Record<Exclude<ServerVariant, 'bun'>, StartVariant> = {
  socketio: async (opts) => (await import('./socketio-server.js')).startReferenceServer(opts),
  ws: async (opts) => (await import('./ws-server.js')).startWsServer(opts),
};

export function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  return runServerProcess(argv, (server) =>
    server === 'bun' ? '--server bun runs under Bun: bun dist/reference-server/bun-main.js (same flags)' : VARIANTS[server],
  );
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
