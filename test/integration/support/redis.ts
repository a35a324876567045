/**
 * Test helper: a throw-away redis-server on a free loopback port (no persistence).
 *
 *   const redis = await startRedis();   // redis.url === 'redis://127.0.0.1:<port>'
 *   ...
 *   await redis.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

export interface RedisHandle {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** SIGTERM, then SIGKILL after 3 s; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** One PING over a raw socket; resolves true on +PONG. */
export function pingRedis(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: HOST, port });
    let buf = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** `port`: listen there (e.g. to bring a stopped Redis back where its clients reconnect); default a free one. */
export async function startRedis(opts: { timeoutMs?: number; bin?: string; port?: number } = {}): Promise<RedisHandle> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // Retry with a new port if another process grabbed the one we picked.
  for (let attempt = 0; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const child = spawn(
      opts.bin ?? 'redis-server',
      ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // redis logs to stdout; keep the tail for error messages (and keep the pipes drained).
    let output = '';
    const collect = (d: Buffer): void => {
      output = (output + d.toString()).slice(-4000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await waitExit(child);
        clearTimeout(killer);
      })();
      return stopping;
    };

    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (spawnError) throw new Error(`cannot spawn redis-server: ${spawnError.message}`);
      if (child.exitCode !== null) break;
      if (await pingRedis(port)) {
        return { port, url: `redis://${HOST}:${port}`, process: child, stop };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await stop();
    if (attempt >= 2 || opts.port !== undefined) throw new Error(`redis-server did not answer PING on port ${port}: ${output.trim()}`);
  }
}
