/**
 * The process around a reference-server variant, the same for all of them (Node or Bun): parse
 * flags, start, print the one `listening` line on stdout, shut down gracefully on SIGTERM/SIGINT.
 *
 * Exit codes: 0 after graceful shutdown, 1 on a runtime error, 2 on bad arguments.
 */
import { adapterName, parseServerArgs, type ParsedServerArgs, type ServerVariant } from './options.js';
import { formatCalibrationFault } from './calibration-faults.js';

/** What the process needs of a started variant. */
export interface RunningServer {
  readonly nodeId: string;
  /** Actual listening port (useful with port 0). */
  readonly port: number;
  /** Component → version (ws / bun / socket.io, ioredis / adapter, node). */
  readonly versions: Record<string, string>;
  /** Notify local clients, wait the grace period, close connections and Redis. Idempotent. */
  shutdown(): Promise<void>;
}

export type StartVariant = (opts: ParsedServerArgs) => Promise<RunningServer>;

function fail(prefix: string, err: unknown, code: number): never {
  const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`[reference-server] ${prefix}: ${msg}\n`);
  process.exit(code);
}

/**
 * Runs one variant as a process. `pick` chooses how to start the parsed variant, or returns a
 * string (a usage error, exit 2) when this runtime cannot run it.
 */
export async function runServerProcess(
  argv: string[],
  pick: (server: ServerVariant) => StartVariant | string,
  defaultServer: ServerVariant = 'socketio',
): Promise<void> {
  let opts: ParsedServerArgs;
  let start: StartVariant;
  try {
    opts = parseServerArgs(argv, process.env, defaultServer);
    const chosen = pick(opts.server);
    if (typeof chosen === 'string') throw new Error(chosen);
    start = chosen;
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

  if (opts.insecureDisable?.length) {
    process.stderr.write(`[reference-server] INSECURE (test/calibration only): checks disabled: ${opts.insecureDisable.join(', ')}\n`);
  }
  let server: RunningServer;
  try {
    server = await start(opts);
  } catch (err) {
    fail('failed to start', err, 1);
  }

  // Handlers first, then the line: whoever reads the line may signal at once.
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

  process.stdout.write(
    JSON.stringify({
      event: 'listening',
      nodeId: server.nodeId,
      port: server.port,
      pid: process.pid,
      server: opts.server,
      adapter: adapterName(opts.server, opts.adapter),
      versions: server.versions,
      // Only with the test/calibration switch: whoever reads the line sees which checks are off.
      ...(opts.insecureDisable?.length ? { insecureDisabled: opts.insecureDisable } : {}),
      // CALIBRATION ONLY: the faults this node injects on purpose (calibration-faults.ts).
      ...(opts.calibrationFaults?.length ? { calibrationFaults: opts.calibrationFaults.map(formatCalibrationFault) } : {}),
    }) + '\n',
  );
}
