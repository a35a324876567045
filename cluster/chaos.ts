import type { StartedCluster } from './types.js';
import { httpGet } from './wait.js';
import { observe, redisPing, tcpConnect } from './observe.js';
import { procState } from './proc-stats.js';
import { describeHookRun, HookFailedError } from './chaos-hooks.js';

/** ms within which a stopped part must stop answering, and a started one answer (outside observation). */
export const OBSERVE_DEFAULTS = { goneWithinMs: 3000, backWithinMs: 5000 } as const;

/** What would let wsbench observe a pause of a node that has no health path. */
const NO_HEALTH_HINT = "give the server an HTTP readiness path (server.ready: { http: '/health' }) so wsbench can see it stop answering";

/** A fault (or its healing) the harness applies to a running cluster. */
export type ChaosAction =
  | { type: 'kill-node'; node: string }
  | { type: 'stop-node'; node: string }
  | { type: 'start-node'; node: string }
  | { type: 'restart-node'; node: string }
  | { type: 'pause-node'; node: string }
  | { type: 'resume-node'; node: string }
  | { type: 'stop-redis' }
  | { type: 'start-redis' }
  | { type: 'stop-lb' }
  | { type: 'start-lb' }
  | { type: 'reload-lb' };

/** Jepsen's vocabulary: a fault operation ends ok, fail or unknown. */
export interface ChaosRecord {
  action: ChaosAction['type'];
  target: string;
  /** CLOCK_MONOTONIC µs. */
  startUs: number;
  endUs: number;
  outcome: 'ok' | 'fail' | 'unknown';
  detail?: string;
  /** With `unknown`: what would let wsbench observe the effect (a flag, a health path). */
  hint?: string;
}

/**
 * Observes the load balancer's port from outside after it was stopped (`refused`) or started
 * (`accepted`). Resolves null when observed, or the failure in words.
 */
export async function observeLb(host: string, port: number, want: 'refused' | 'accepted'): Promise<string | null> {
  const within = want === 'refused' ? OBSERVE_DEFAULTS.goneWithinMs : OBSERVE_DEFAULTS.backWithinMs;
  const ms = await observe(() => tcpConnect(host, port, 500), (r) => r === want, within);
  if (ms !== null) return null;
  return want === 'refused' ? `load balancer port ${port} still accepts connections ${within} ms after it was stopped` : `load balancer port ${port} does not accept connections within ${within} ms of its start`;
}

function targetOf(a: ChaosAction): string {
  return 'node' in a ? a.node : a.type.endsWith('redis') ? 'redis' : 'nginx';
}

/**
 * Applies one action and observes its effect from outside, as a client would: a killed or stopped
 * node's port refuses connections, a started one answers /health, a paused one does not answer
 * within a second; a stopped Redis fails PING and a started one answers it; a stopped load
 * balancer's port refuses a TCP connect and a started one accepts it. The outcome is `ok` only when
 * the effect was observed, `fail` when it was not (the detail says what was seen), `unknown` when
 * nothing can tell (a reload; its `hint` says what would). `unknown` is not a pass: `chaos-applied`
 * is then unknown and fails (cluster/chaos-tally.ts).
 */
export async function applyChaos(cluster: StartedCluster, action: ChaosAction, clock: () => number): Promise<ChaosRecord> {
  const startUs = clock();
  const target = targetOf(action);
  // --url: the user's hooks act (cluster/chaos-hooks.ts); their runs go into the event's detail, before what was observed.
  const external = cluster.hookRuns !== undefined;
  const hooksBefore = cluster.hookRuns?.length ?? 0;
  const done = (outcome: ChaosRecord['outcome'], observed?: string, hint?: string): ChaosRecord => {
    const hooks = (cluster.hookRuns ?? []).slice(hooksBefore).map(describeHookRun);
    const detail = [...hooks, ...(observed === undefined ? [] : [observed])].join('; ');
    return { action: action.type, target, startUs, endUs: clock(), outcome, ...(detail ? { detail } : {}), ...(hint ? { hint } : {}) };
  };
  const node = 'node' in action ? cluster.nodes.find((n) => n.id === action.node) : undefined;
  if ('node' in action && !node) return done('fail', `no node ${action.node}`);
  const { goneWithinMs, backWithinMs } = OBSERVE_DEFAULTS;
  const lbHost = new URL(cluster.url).hostname;
  const portOf = (url: string, port: number) => ({ host: new URL(url).hostname, port });
  /** The node's port refuses connections (its process is gone): observed within goneWithinMs. */
  const nodeGone = async (what: string) => {
    const { host, port } = portOf(node!.url, node!.port);
    if (node!.running()) return done('fail', `${node!.id} still running after ${what}`);
    // A node wsbench did not start may vanish without refusing (a deleted pod's address times out): anything but an accept is gone.
    const ms = await observe(() => tcpConnect(host, port, 500), (r) => (external ? r !== 'accepted' : r === 'refused'), goneWithinMs);
    return ms === null ? done('fail', `${node!.id} port ${port} still accepts connections ${goneWithinMs} ms after ${what}`) : done('ok', `observed: port ${port} refuses connections`);
  };
  // A node without an HTTP health path (a user's server ready by TCP or a log line): its port and its process state tell.
  const health = node?.healthPath === undefined ? '/health' : node.healthPath;
  const portAccepts = async (within: number) => {
    const { host, port } = portOf(node!.url, node!.port);
    return (await observe(() => tcpConnect(host, port, 500), (r) => r === 'accepted', within)) !== null;
  };
  const nodeBack = async () => {
    if (health === null) {
      return node!.running() && (await portAccepts(backWithinMs)) ? done('ok', `observed: port ${node!.port} accepts connections`) : done('fail', `${node!.id} port ${node!.port} did not accept within ${backWithinMs} ms of its start`);
    }
    const ms = await observe(() => httpGet(`${node!.url}${health}`, 1000).then(() => true, () => false), (ok) => ok, backWithinMs);
    return node!.running() && ms !== null ? done('ok', `observed: ${health} answers`) : done('fail', `${node!.id} ${health} did not answer within ${backWithinMs} ms of its start`);
  };
  try {
    switch (action.type) {
      case 'kill-node':
        await node!.kill();
        return await nodeGone(external ? 'its killNode hook' : 'SIGKILL');
      case 'stop-node':
        await node!.stop();
        return await nodeGone(external ? 'its stopNode hook' : 'SIGTERM');
      case 'start-node':
        await node!.start();
        return await nodeBack();
      case 'restart-node':
        await node!.stop();
        await node!.start();
        return await nodeBack();
      case 'pause-node': {
        await node!.pause();
        if (health === null) {
          if (node!.frozen) return (await node!.frozen()) ? done('ok', 'observed: the engine reports the container paused') : done('fail', `${node!.id} not paused after docker pause`);
          const pid = node!.pid();
          if (pid === undefined) return done('unknown', `${node!.id} has no health path and no process to read: the pause cannot be observed`, NO_HEALTH_HINT);
          // The kernel stops the process as the signal is delivered: poll its state.
          let state: string | null = null;
          const ms = await observe(async () => (state = await procState(pid)), (st) => st === 'T' || st === null, goneWithinMs, 20);
          if (ms === null || state === null) return done(state === null ? 'unknown' : 'fail', `${node!.id} process ${pid} in state ${state ?? 'gone'} after SIGSTOP`, state === null ? NO_HEALTH_HINT : undefined);
          return done('ok', `observed: process ${pid} stopped (state T)`);
        }
        const answered = await httpGet(`${node!.url}${health}`, 1000).then(
          () => true,
          () => false,
        );
        return answered ? done('fail', `${node!.id} still answers ${health} after SIGSTOP`) : done('ok', `observed: ${health} does not answer`);
      }
      case 'resume-node': {
        await node!.resume();
        if (health === null) {
          const pid = node!.pid();
          const stateNow = async () => (node!.frozen ? ((await node!.frozen()) ? 'T' : 'R') : pid === undefined ? null : await procState(pid));
          let state: string | null = null;
          const ms = await observe(async () => (state = await stateNow()), (st) => st !== 'T', backWithinMs, 20);
          return ms !== null && (await portAccepts(backWithinMs)) ? done('ok', `observed: process running (state ${state ?? 'unknown'}), port ${node!.port} accepts`) : done('fail', `${node!.id} still stopped (state ${state}) or its port does not accept after SIGCONT`);
        }
        const res = await httpGet(`${node!.url}${health}`, backWithinMs).catch(() => null);
        return res ? done('ok', `observed: ${health} answers`) : done('fail', `${node!.id} ${health} did not answer within ${backWithinMs} ms of SIGCONT`);
      }
      case 'stop-redis': {
        await cluster.redis.stop();
        if (external) return await externalRedis(cluster, 'down', done);
        const ms = await observe(() => redisPing(cluster.redis.url, 500), (ok) => !ok, goneWithinMs);
        return ms === null ? done('fail', `Redis still answers PING ${goneWithinMs} ms after it was stopped`) : done('ok', 'observed: PING fails');
      }
      case 'start-redis': {
        await cluster.redis.start();
        if (external) return await externalRedis(cluster, 'up', done);
        const ms = await observe(() => redisPing(cluster.redis.url, 500), (ok) => ok, backWithinMs);
        return ms === null ? done('fail', `Redis does not answer PING within ${backWithinMs} ms of its start`) : done('ok', 'observed: PING answers');
      }
      case 'stop-lb': {
        await cluster.lb.stop();
        const failed = await observeLb(lbHost, cluster.lb.port, 'refused');
        return failed ? done('fail', failed) : done('ok', `observed: port ${cluster.lb.port} refuses connections`);
      }
      case 'start-lb': {
        await cluster.lb.start();
        const failed = await observeLb(lbHost, cluster.lb.port, 'accepted');
        return failed ? done('fail', failed) : done('ok', `observed: port ${cluster.lb.port} accepts connections`);
      }
      case 'reload-lb':
        await cluster.lb.reload();
        return done('unknown', 'SIGHUP sent; nginx does not confirm a reload', 'nothing can observe an nginx reload: use stop-lb and start-lb, whose effect is observed');
    }
  } catch (e) {
    // A failed hook is already in the detail (its command, exit code and output).
    return done('fail', e instanceof HookFailedError ? undefined : e instanceof Error ? e.message : String(e));
  }
}

/**
 * Redis of a cluster wsbench did not start: it cannot be reached, so its outage is observed on the
 * nodes (`--node-urls`): after stopRedis some node's /health must stop answering 200 or stop
 * reporting `redis: "ready"`; after startRedis every node's /health must answer 200 again. Without
 * node URLs nothing can tell: `unknown`.
 */
async function externalRedis(cluster: StartedCluster, want: 'down' | 'up', done: (o: ChaosRecord['outcome'], observed?: string, hint?: string) => ChaosRecord): Promise<ChaosRecord> {
  if (cluster.nodes.length === 0) {
    return done('unknown', 'the hook exited 0; without --node-urls nothing can observe Redis of a cluster wsbench did not start', "give the nodes' URLs with --node-urls: wsbench then watches their /health report Redis");
  }
  const healthy = async (url: string) => {
    try {
      const { status, body } = await httpGet(`${url}/health`, 1000);
      if (status !== 200) return false;
      const redis = (JSON.parse(body) as { redis?: unknown }).redis;
      return redis === undefined || redis === 'ready';
    } catch {
      return false;
    }
  };
  const allHealthy = async () => (await Promise.all(cluster.nodes.map((n) => healthy(n.url)))).every(Boolean);
  const { goneWithinMs, backWithinMs } = OBSERVE_DEFAULTS;
  if (want === 'down') {
    const ms = await observe(allHealthy, (ok) => !ok, goneWithinMs);
    return ms === null ? done('fail', `every node's /health still reports Redis ready ${goneWithinMs} ms after the hook`) : done('ok', "observed: a node's /health reports Redis not ready");
  }
  const ms = await observe(allHealthy, (ok) => ok, backWithinMs);
  return ms === null ? done('fail', `the nodes' /health did not report Redis ready within ${backWithinMs} ms of the hook`) : done('ok', "observed: every node's /health reports Redis ready");
}
