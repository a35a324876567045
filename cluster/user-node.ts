/**
 * The user's own server as a node of the local driver (`server: { command, … }`, issue 14 part 1):
 * its command with {port} {redisUrl} {nodeId} filled in, PORT / REDIS_URL / NODE_ID in its
 * environment, started as the leader of its own process group (a `sh -c` command is signalled as a
 * whole), ready by TCP accept, HTTP 2xx or a line of its output, stopped with its own signal.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WsbenchError } from '../common/errors.js';
import type { ReadyCheck, UserServerSpec } from '../config/user-server.js';
import { ManagedProcess } from './managed-process.js';
import { httpGet } from './wait.js';
import { scrapeNodeMetrics } from './prom-metrics.js';
import type { ClusterNode, NodeMetrics } from './types.js';

/** The values of one node's placeholders and environment. */
export interface NodeVars {
  port: number;
  redisUrl: string;
  nodeId: string;
}

/**
 * Environment variable every process of a user's node carries: the run id, so that `wsbench clean`
 * finds a node's processes after a `kill -9` of the CLI even when they left its process tree.
 */
export const RUN_ID_ENV = 'WSB_RUN_ID';

/** `{port}`, `{redisUrl}`, `{nodeId}` replaced in one string. */
export function fillPlaceholders(text: string, v: NodeVars): string {
  return text.replace(/\{(port|redisUrl|nodeId)\}/g, (_, k: keyof NodeVars) => String(v[k]));
}

/** The argv of one node: a string command runs through `sh -c`, a list runs as is. */
export function userNodeArgv(command: string | string[], v: NodeVars): { command: string; args: string[] } {
  if (typeof command === 'string') return { command: '/bin/sh', args: ['-c', fillPlaceholders(command, v)] };
  const [head, ...rest] = command.map((a) => fillPlaceholders(a, v));
  return { command: head, args: rest };
}

/** The user's `env` with `{port}`, `{redisUrl}`, `{nodeId}` filled in its values. */
export function fillEnv(env: Record<string, string>, v: NodeVars): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, val]) => [k, fillPlaceholders(val, v)]));
}

/**
 * The environment of one node: wsbench's own, then the user's `env` (placeholders filled in), then
 * PORT, REDIS_URL, NODE_ID and the run id. WSB_JWT_SECRET is the secret the generator signs its reference-protocol tokens
 * with (the user's `env` may set it instead: the run then signs with that one).
 */
export function userNodeEnv(spec: UserServerSpec, v: NodeVars, runId: string, jwtSecret: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    WSB_JWT_SECRET: jwtSecret,
    ...fillEnv(spec.env, v),
    PORT: String(v.port),
    REDIS_URL: v.redisUrl,
    NODE_ID: v.nodeId,
    [RUN_ID_ENV]: runId,
  };
}

/** One TCP connect to 127.0.0.1:port: true when accepted. */
function tcpAccepts(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** What a ready check waits for, in words (for messages). */
export function describeReady(r: ReadyCheck, port: number): string {
  return r.kind === 'http' ? `GET http://127.0.0.1:${port}${r.path} answering 2xx` : r.kind === 'log' ? `a line of its output matching /${r.pattern}/` : `a TCP accept on 127.0.0.1:${port}`;
}

/**
 * Waits until the node passes its ready check. Rejects with WSB_SERVER_NOT_READY (its last lines of
 * output in the message) when the time runs out or the process exits first; WSB_PORT_IN_USE when it
 * said the address was taken.
 */
export async function waitUserNodeReady(proc: ManagedProcess, ready: ReadyCheck, port: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  const notReady = (why: string) => {
    const tail = proc.lastLines(15);
    if (/address already in use|EADDRINUSE/i.test(tail)) {
      return new WsbenchError('WSB_PORT_IN_USE', `${proc.name} could not listen on 127.0.0.1:${port}: address already in use`, { hint: 'free the port, or let wsbench pick free ports (omit --lb-port)' });
    }
    return new WsbenchError('WSB_SERVER_NOT_READY', `${proc.name} (your server) ${why}; waited for ${describeReady(ready, port)}; last output:\n${tail || '(none)'}`, {
      hint: `check server.command / server.ready (docs/configuration.md), or give it longer with --ready-timeout (now ${timeoutMs} ms); its whole output is in the run folder's logs/${proc.name}.log`,
    });
  };
  if (ready.kind === 'log') {
    const re = new RegExp(ready.pattern);
    try {
      await proc.waitForLine((l) => (re.test(l) ? true : undefined), timeoutMs, 'WSB_SERVER_NOT_READY', '');
      return;
    } catch (e) {
      const info = (e as WsbenchError).code === 'WSB_PROCESS_EXITED' ? await proc.exited : undefined;
      throw notReady(info ? `exited (code ${info.code}, signal ${info.signal}) before it was ready` : `was not ready after ${timeoutMs} ms`);
    }
  }
  for (;;) {
    if (signal?.aborted) throw new WsbenchError('WSB_INTERRUPTED', 'interrupted while starting the cluster');
    if (exited) {
      const info = await proc.exited;
      throw notReady(`exited (code ${info.code}, signal ${info.signal}) before it was ready`);
    }
    const left = deadline - Date.now();
    if (left <= 0) throw notReady(`was not ready after ${timeoutMs} ms`);
    if (ready.kind === 'tcp') {
      if (await tcpAccepts(port, Math.min(1000, left))) return;
    } else {
      try {
        const res = await httpGet(`http://127.0.0.1:${port}${ready.path}`, Math.min(2000, left));
        if (res.status >= 200 && res.status < 300) return;
      } catch {
        // not up yet
      }
    }
    await sleep(100);
  }
}

/** Node metrics of a user's server: scraped at `server.metrics` when it has a path, else unknown (nulls). */
export function userNodeMetrics(id: string, url: string, running: boolean, metricsPath: string | undefined): Promise<NodeMetrics> {
  if (metricsPath !== undefined) return scrapeNodeMetrics(id, url, running, metricsPath);
  return Promise.resolve({ nodeId: id, up: running, connections: null, rssBytes: null, heapUsedBytes: null, eventLoopLagMs: null, publishTotal: null });
}

/**
 * One node of the user's server on the local driver. Every chaos action reaches its whole process
 * group: kill (SIGKILL), stop (the configured signal, SIGKILL after `stop.timeoutMs`), start (same
 * port, ready again), pause / resume (SIGSTOP / SIGCONT).
 */
export class UserLocalNode implements ClusterNode {
  readonly url: string;
  /** The chaos checks' health path: the user's HTTP readiness path, else none (cluster/chaos.ts). */
  readonly healthPath: string | null;
  private proc: ManagedProcess | undefined;

  constructor(
    readonly id: string,
    readonly port: number,
    private readonly spec: UserServerSpec,
    private readonly spawnProc: () => ManagedProcess,
    private readonly readyTimeoutMs: number,
    private readonly signal?: AbortSignal,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.healthPath = spec.ready.kind === 'http' ? spec.ready.path : null;
  }

  pid(): number | undefined {
    return this.proc?.pid;
  }

  running(): boolean {
    return this.proc?.running ?? false;
  }

  async launch(): Promise<void> {
    const proc = this.spawnProc();
    this.proc = proc;
    await waitUserNodeReady(proc, this.spec.ready, this.port, this.readyTimeoutMs, this.signal);
  }

  start(): Promise<void> {
    return this.launch();
  }

  async kill(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    p.signal('SIGKILL');
    await p.exited;
    // Its whole group: the port must be free before a start on the same port.
    await p.gone(5000);
  }

  async stop(): Promise<void> {
    await this.proc?.stop(this.spec.stopTimeoutMs, this.spec.stopSignal);
  }

  async pause(): Promise<void> {
    this.proc?.signal('SIGSTOP');
  }

  async resume(): Promise<void> {
    this.proc?.signal('SIGCONT');
  }

  metrics(): Promise<NodeMetrics> {
    return userNodeMetrics(this.id, this.url, this.running(), this.spec.metrics);
  }
}

/**
 * The local driver's nodes of a user's server, one per port: each spawns the command as its own
 * process group (output in `<logsDir>/node-N.log`) and hands it to `track`, which registers it for
 * teardown with the configured stop signal and timeout.
 */
export function userLocalNodes(
  user: UserServerSpec,
  ports: number[],
  o: { redisUrl: string; runId: string; jwtSecret: string; logsDir: string; readyTimeoutMs: number; signal?: AbortSignal; track: (p: ManagedProcess, stop: () => Promise<unknown>) => ManagedProcess },
): UserLocalNode[] {
  return ports.map((port, i) => {
    const vars = { port, redisUrl: o.redisUrl, nodeId: `node-${i + 1}` };
    const spawnNode = () => {
      const proc = ManagedProcess.start({
        name: vars.nodeId,
        ...userNodeArgv(user.command!, vars),
        cwd: user.cwd,
        env: userNodeEnv(user, vars, o.runId, o.jwtSecret),
        logFile: join(o.logsDir, `${vars.nodeId}.log`),
        group: true,
      });
      return o.track(proc, () => proc.stop(user.stopTimeoutMs, user.stopSignal));
    };
    return new UserLocalNode(vars.nodeId, port, user, spawnNode, o.readyTimeoutMs, o.signal);
  });
}
