import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WaitStrategy } from 'testcontainers';
import { httpGet } from './wait.js';

type DockerodeContainer = Parameters<WaitStrategy['waitUntilReady']>[0];

/**
 * A testcontainers wait strategy that polls a probe from the harness's side — an HTTP GET or a
 * Redis PING on a host address — and gives up when the container exits. testcontainers' own
 * `Wait.forHttp` asks for a mapped port, which host networking does not have; this one takes the
 * address as it is (host networking: the port the harness chose; bridge: the published port).
 */
export class ProbeWaitStrategy implements WaitStrategy {
  private startupTimeoutMs = 60_000;
  private timeoutSet = false;

  constructor(
    /** What is probed, for the timeout message (`GET http://127.0.0.1:4001/health`). */
    readonly what: string,
    private readonly probe: () => Promise<boolean>,
    private readonly intervalMs = 100,
  ) {}

  async waitUntilReady(container: DockerodeContainer): Promise<void> {
    const deadline = Date.now() + this.startupTimeoutMs;
    let lastStateCheck = 0;
    while (Date.now() < deadline) {
      if (await this.probe().catch(() => false)) return;
      // The engine is asked less often than the probe runs: an exited container never answers.
      if (Date.now() - lastStateCheck >= 500) {
        lastStateCheck = Date.now();
        const state = (await container.inspect()).State as { Running: boolean; Status: string; ExitCode: number };
        if (!state.Running && state.Status !== 'created') throw new Error(`Container exited (${state.Status}, exit code ${state.ExitCode}) before ${this.what} answered`);
      }
      await sleep(this.intervalMs);
    }
    throw new Error(`${this.what} not answering after ${this.startupTimeoutMs}ms`);
  }

  withStartupTimeout(startupTimeoutMs: number): this {
    this.startupTimeoutMs = startupTimeoutMs;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.startupTimeoutMs;
  }
}

/** Ready when `url` answers 200. */
export function forHttpOnHost(url: string): ProbeWaitStrategy {
  return new ProbeWaitStrategy(`GET ${url}`, async () => (await httpGet(url, 1000)).status === 200);
}

/** One PING over a raw socket; true on +PONG. */
export function pingRedis(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
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

/** Ready when Redis at host:port answers PING. */
export function forRedisPing(host: string, port: number): ProbeWaitStrategy {
  return new ProbeWaitStrategy(`redis PING on ${host}:${port}`, () => pingRedis(host, port));
}

/** Ready when `url` answers any 2xx (a user's server's `ready.http`). */
export function for2xxOnHost(url: string): ProbeWaitStrategy {
  return new ProbeWaitStrategy(`GET ${url} answering 2xx`, async () => {
    const { status } = await httpGet(url, 1000);
    return status >= 200 && status < 300;
  });
}

/** Ready when host:port accepts a TCP connection. */
export function forTcpOnHost(host: string, port: number): ProbeWaitStrategy {
  return new ProbeWaitStrategy(
    `a TCP accept on ${host}:${port}`,
    () =>
      new Promise<boolean>((resolve) => {
        const sock = createConnection({ host, port });
        const done = (ok: boolean) => {
          clearTimeout(timer);
          sock.destroy();
          resolve(ok);
        };
        const timer = setTimeout(() => done(false), 1000);
        sock.once('connect', () => done(true));
        sock.once('error', () => done(false));
      }),
  );
}
