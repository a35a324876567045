import { WsbenchError } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { httpGet } from './wait.js';
import { scrapeNodeMetrics } from './prom-metrics.js';
import type { ClusterDriver, ClusterNode, DriverStartOptions, StartedCluster, Topology } from './types.js';

const log = logger('cluster');

/** A cluster wsbench did not start (`--url`, optional `--node-urls`). */
export interface ExternalTarget {
  /** Base URL clients connect to: the cluster's load balancer, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Direct URLs of its nodes (for /metrics and /health); empty: wsbench sees only the load balancer. */
  nodeUrls: string[];
}

/** Hosts the external driver accepts: the load generator binds 127.0.x.y source addresses, which only reach loopback. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Problems with a `--url` / `--node-urls` value, in the user's terms (empty: fine). */
export function externalUrlProblems(flag: string, value: string): string[] {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return [`${flag}: '${value}' is not a URL (e.g. http://127.0.0.1:8080)`];
  }
  const problems: string[] = [];
  if (!['http:', 'ws:'].includes(u.protocol)) problems.push(`${flag}: '${value}' must be an http:// or ws:// URL`);
  if (!isLoopbackHost(u.hostname)) {
    problems.push(`${flag}: '${value}' is not on loopback; the load generator binds 127.0.x.y source addresses (to spread over NGINX's ip_hash), so it reaches loopback clusters only`);
  }
  if (u.pathname !== '/' || u.search || u.hash) problems.push(`${flag}: '${value}' must be just scheme://host:port (wsbench adds /socket.io/, /ws, /health, /metrics)`);
  return problems;
}

function refuse(what: string): never {
  throw new WsbenchError('WSB_EXTERNAL_UNSUPPORTED', `cannot ${what}: the cluster was not started by wsbench (--url)`, {
    hint: 'drop --url to let wsbench start (and control) its own cluster',
  });
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
  constructor(
    readonly id: string,
    readonly url: string,
  ) {
    this.port = Number(new URL(url).port || 80);
  }
  pid(): number | undefined {
    return undefined;
  }
  running(): boolean {
    return true;
  }
  kill(): Promise<void> {
    refuse(`kill ${this.id}`);
  }
  stop(): Promise<void> {
    refuse(`stop ${this.id}`);
  }
  start(): Promise<void> {
    refuse(`start ${this.id}`);
  }
  pause(): Promise<void> {
    refuse(`pause ${this.id}`);
  }
  resume(): Promise<void> {
    refuse(`resume ${this.id}`);
  }
}

/**
 * The "driver" of a cluster that already runs: it starts nothing and stops nothing. It checks
 * that the load balancer (and each node given) answers `GET /health`, names the nodes by the
 * `nodeId` their /health reports, scrapes their /metrics when node URLs are given, and refuses every
 * chaos action (WSB_EXTERNAL_UNSUPPORTED).
 */
export class ExternalDriver implements ClusterDriver {
  readonly name = 'external' as const;

  constructor(private readonly target: ExternalTarget) {}

  async start(topology: Topology, opts: DriverStartOptions): Promise<StartedCluster> {
    const timeoutMs = Math.min(topology.readyTimeoutMs, 5000);
    const url = this.target.url.replace(/\/$/, '');
    const lb = await probeHealth(url, timeoutMs);
    if ('error' in lb) {
      throw new WsbenchError('WSB_TARGET_UNREACHABLE', `the cluster at ${url} does not answer (GET /health: ${lb.error})`, {
        hint: 'start the cluster first, or fix --url (the host:port of its load balancer); drop --url to let wsbench start a cluster',
      });
    }
    if (lb.status !== 200) log(`${url}/health answered ${lb.status}; going on (the cluster may not implement /health)`);
    const nodes: ExternalNode[] = [];
    for (const [i, nodeUrl] of this.target.nodeUrls.entries()) {
      const h = await probeHealth(nodeUrl, timeoutMs);
      if ('error' in h) {
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
      nodes.push(new ExternalNode(id, nodeUrl.replace(/\/$/, '')));
    }
    if (opts.signal?.aborted) throw new WsbenchError('WSB_INTERRUPTED', 'interrupted while checking the cluster');
    const port = Number(new URL(url).port || 80);
    const cluster: StartedCluster = {
      runId: opts.runId,
      url,
      nodes,
      redis: {
        url: 'external',
        port: 0,
        pid: () => undefined,
        stop: async () => refuse('stop Redis'),
        start: async () => refuse('start Redis'),
      },
      lb: {
        port,
        pid: () => undefined,
        policy: topology.lbPolicy,
        stop: async () => refuse('stop the load balancer'),
        start: async () => refuse('start the load balancer'),
        reload: async () => refuse('reload the load balancer'),
      },
      versions: {},
      pids: () => [],
      metrics: () => Promise.all(nodes.map((n) => scrapeNodeMetrics(n.id, n.url, true))),
      // Nothing to stop: wsbench started nothing.
      down: async () => [],
      [Symbol.asyncDispose]: async () => undefined,
    };
    return cluster;
  }
}
