import { WsbenchError } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { setClientTls, type ClientTls } from '../common/tls.js';
import { isLoopbackHost } from '../load/source-address.js';
import { httpGet } from './wait.js';
import { scrapeNodeMetrics } from './prom-metrics.js';
import { describeHookRun, fillHook, runHookOrThrow, type ChaosHooks, type HookKey, type HookRun } from './chaos-hooks.js';
import type { ClusterDriver, ClusterNode, DriverStartOptions, StartedCluster, Topology } from './types.js';

export { isLoopbackHost };

const log = logger('cluster');

/** A cluster wsbench did not start (`--url`, optional `--node-urls`). */
export interface ExternalTarget {
  /** Base URL clients connect to: the cluster's load balancer, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Direct URLs of its nodes (for /metrics and /health); empty: wsbench sees only the load balancer. */
  nodeUrls: string[];
  /** wss:// / https://: the CA to trust (PEM) or no verification (`tls.insecure`); absent: the system's CAs. */
  tls?: ClientTls;
  /** `chaos.hooks`: the user's commands for chaos actions (cluster/chaos-hooks.ts). */
  hooks?: ChaosHooks;
}

/**
 * Problems with a `--url` / `--node-urls` value, in the user's terms (empty: fine). Any host is
 * accepted (the product is not loopback-only); the scheme is http(s):// or ws(s)://.
 */
export function externalUrlProblems(flag: string, value: string): string[] {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return [`${flag}: '${value}' is not a URL (e.g. http://127.0.0.1:8080 or wss://ws.example.com)`];
  }
  const problems: string[] = [];
  if (!['http:', 'ws:', 'https:', 'wss:'].includes(u.protocol)) problems.push(`${flag}: '${value}' must be an http://, https://, ws:// or wss:// URL`);
  if (!u.hostname) problems.push(`${flag}: '${value}' has no host`);
  if (u.pathname !== '/' || u.search || u.hash) problems.push(`${flag}: '${value}' must be just scheme://host[:port] (wsbench adds /socket.io/, /ws, /health, /metrics)`);
  return problems;
}

/** Whether a URL is TLS (https:// or wss://). */
export function isTlsUrl(value: string): boolean {
  return /^(https|wss):/i.test(value);
}

/** http(s):// form of a ws(s):// URL (for /health and /metrics); http(s) URLs as they are. */
export function httpForm(value: string): string {
  return value.replace(/^ws(s?):/i, 'http$1:').replace(/\/$/, '');
}

function refuse(what: string, key?: HookKey): never {
  throw new WsbenchError(key ? 'WSB_CHAOS_HOOK_MISSING' : 'WSB_EXTERNAL_UNSUPPORTED', `cannot ${what}: the cluster was not started by wsbench (--url)${key ? ` and chaos.hooks.${key} is not set` : ''}`, {
    hint: key ? `set chaos.hooks.${key} in the config (a shell command; placeholders {node} {nodeUrl} {index}), or drop --url` : 'drop --url to let wsbench start (and control) its own cluster',
  });
}

/** Runs the user's hook for `key` (refusing when there is none) and remembers the run. */
class Hooks {
  readonly runs: HookRun[] = [];
  constructor(private readonly hooks: ChaosHooks) {}
  async run(key: HookKey, what: string, vars: { node?: string; nodeUrl?: string; index?: number } = {}): Promise<void> {
    const template = this.hooks[key];
    if (template === undefined) refuse(what, key);
    try {
      const run = await runHookOrThrow(key, fillHook(template, vars));
      this.runs.push(run);
      log(describeHookRun(run));
    } catch (e) {
      const run = (e as { run?: HookRun }).run;
      if (run) {
        this.runs.push(run);
        log(describeHookRun(run));
      }
      throw e;
    }
  }
}

/** GET `<base>/health`: the status, or why there was no answer. */
async function probeHealth(base: string, timeoutMs: number): Promise<{ status: number; body: string } | { error: string }> {
  let last = '';
  // A few quick tries: a refused connection on loopback is an answer, but a cluster may be restarting.
  for (let i = 0; i < 3; i++) {
    try {
      return await httpGet(`${base.replace(/\/$/, '')}/health`, timeoutMs);
    } catch (e) {
      last = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return { error: last };
}

class ExternalNode implements ClusterNode {
  readonly port: number;
  /** What its hooks did last: a killed or stopped node is not running until its start hook ran. */
  private up = true;
  constructor(
    readonly id: string,
    readonly url: string,
    private readonly index: number,
    private readonly hooks: Hooks,
  ) {
    const u = new URL(url);
    this.port = Number(u.port || (isTlsUrl(url) ? 443 : 80));
  }
  private vars() {
    return { node: this.id, nodeUrl: this.url, index: this.index };
  }
  pid(): number | undefined {
    return undefined;
  }
  running(): boolean {
    return this.up;
  }
  async kill(): Promise<void> {
    await this.hooks.run('killNode', `kill ${this.id}`, this.vars());
    this.up = false;
  }
  async stop(): Promise<void> {
    await this.hooks.run('stopNode', `stop ${this.id}`, this.vars());
    this.up = false;
  }
  async start(): Promise<void> {
    await this.hooks.run('startNode', `start ${this.id}`, this.vars());
    this.up = true;
  }
  async pause(): Promise<void> {
    await this.hooks.run('pauseNode', `pause ${this.id}`, this.vars());
  }
  async resume(): Promise<void> {
    await this.hooks.run('resumeNode', `resume ${this.id}`, this.vars());
  }
}

/**
 * The "driver" of a cluster that already runs: it starts nothing and stops nothing. It checks
 * that the load balancer (and each node given) answers `GET /health`, names the nodes by the
 * `nodeId` their /health reports, scrapes their /metrics when node URLs are given, and acts on it
 * only through the user's chaos hooks (`chaos.hooks`; an action without one: WSB_CHAOS_HOOK_MISSING).
 * wss:// / https:// are verified with `tls` (a CA, or not at all with `insecure`).
 */
export class ExternalDriver implements ClusterDriver {
  readonly name = 'external' as const;

  constructor(private readonly target: ExternalTarget) {}

  async start(topology: Topology, opts: DriverStartOptions): Promise<StartedCluster> {
    const timeoutMs = Math.min(topology.readyTimeoutMs, 5000);
    const url = this.target.url.replace(/\/$/, '');
    setClientTls(this.target.tls);
    const lb = await probeHealth(httpForm(url), timeoutMs);
    if ('error' in lb) {
      setClientTls(undefined);
      const tlsError = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|DEPTH_ZERO|ALTNAME|certificate/i.test(lb.error);
      throw new WsbenchError(
        tlsError ? 'WSB_TLS_FAILED' : 'WSB_TARGET_UNREACHABLE',
        tlsError ? `the cluster at ${url} did not pass the TLS check (GET /health: ${lb.error})` : `the cluster at ${url} does not answer (GET /health: ${lb.error})`,
        {
          hint: tlsError
            ? "give the CA that signed the cluster's certificate with --ca <file> (config tls.ca), or --insecure (tls.insecure) to skip verification"
            : 'start the cluster first, or fix --url (the host:port of its load balancer); drop --url to let wsbench start a cluster',
        },
      );
    }
    if (lb.status !== 200) log(`${url}/health answered ${lb.status}; going on (the cluster may not implement /health)`);
    const nodes: ExternalNode[] = [];
    const hooks = new Hooks(this.target.hooks ?? {});
    for (const [i, nodeUrl] of this.target.nodeUrls.entries()) {
      const h = await probeHealth(httpForm(nodeUrl), timeoutMs);
      if ('error' in h) {
        setClientTls(undefined);
        throw new WsbenchError('WSB_TARGET_UNREACHABLE', `node ${i + 1} at ${nodeUrl} does not answer (GET /health: ${h.error})`, {
          hint: 'fix --node-urls (each node\'s own host:port), or leave it out: wsbench then sees the cluster through --url only',
        });
      }
      let id = `node-${i + 1}`;
      try {
        const body = JSON.parse(h.body) as { nodeId?: unknown };
        if (typeof body.nodeId === 'string' && body.nodeId) id = body.nodeId;
      } catch {
        // not the reference /health: keep the positional name
      }
      nodes.push(new ExternalNode(id, httpForm(nodeUrl), i + 1, hooks));
    }
    if (opts.signal?.aborted) {
      setClientTls(undefined);
      throw new WsbenchError('WSB_INTERRUPTED', 'interrupted while checking the cluster');
    }
    const port = Number(new URL(url).port || (isTlsUrl(url) ? 443 : 80));
    const cluster: StartedCluster = {
      runId: opts.runId,
      url,
      nodes,
      redis: {
        url: 'external',
        port: 0,
        pid: () => undefined,
        stop: () => hooks.run('stopRedis', 'stop Redis'),
        start: () => hooks.run('startRedis', 'start Redis'),
      },
      lb: {
        port,
        pid: () => undefined,
        policy: topology.lbPolicy,
        stop: () => hooks.run('stopLb', 'stop the load balancer'),
        start: () => hooks.run('startLb', 'start the load balancer'),
        reload: async () => refuse('reload the load balancer'),
      },
      versions: {},
      ...(this.target.tls ? { tls: this.target.tls } : {}),
      hookRuns: hooks.runs,
      pids: () => [],
      metrics: () => Promise.all(nodes.map((n) => scrapeNodeMetrics(n.id, n.url, true))),
      // Nothing to stop: wsbench started nothing.
      down: async () => {
        setClientTls(undefined);
        return [];
      },
      [Symbol.asyncDispose]: async () => {
        setClientTls(undefined);
      },
    };
    return cluster;
  }
}
