/**
 * Outside observations of a cluster part, for chaos actions (cluster/chaos.ts): does Redis answer
 * PING, does a port accept a TCP connection. A chaos action's outcome is what these observe, never
 * what the action's own code assumed (issue 15, part 5). Loopback only: the callers pass the
 * cluster's own URLs.
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a TCP connect attempt ended: `accepted`, `refused` (ECONNREFUSED / reset), or `timeout`/`error`. */
export type ConnectResult = 'accepted' | 'refused' | 'timeout' | 'error';

/** Tries one TCP connection to host:port within `timeoutMs` and closes it. */
export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<ConnectResult> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (r: ConnectResult) => {
      clearTimeout(timer);
      sock.removeAllListeners();
      sock.on('error', () => undefined);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    sock.once('connect', () => done('accepted'));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' ? 'refused' : 'error'));
  });
}

/** Sends `PING` to the Redis at `url` (redis://host:port) and resolves true when it answers `+PONG` within `timeoutMs`. */
export function redisPing(url: string, timeoutMs: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = connect({ host: u.hostname, port: Number(u.port || 6379) });
    let buf = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.removeAllListeners();
      sock.on('error', () => undefined);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (c: Buffer) => {
      buf += c.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.once('error', () => done(false));
    sock.once('close', () => done(false));
  });
}

/**
 * Polls `probe` every `everyMs` until it returns `want` or `withinMs` passes. Resolves with the
 * ms it took, or null when the state was never observed.
 */
export async function observe<T>(probe: () => Promise<T>, want: (v: T) => boolean, withinMs: number, everyMs = 100): Promise<number | null> {
  const t0 = Date.now();
  for (;;) {
    if (want(await probe())) return Date.now() - t0;
    if (Date.now() - t0 >= withinMs) return null;
    await sleep(everyMs);
  }
}
