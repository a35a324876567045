import type { StartedCluster } from './types.js';
import { httpGet } from './wait.js';
import { observe, redisPing, tcpConnect } from './observe.js';

/** ms within which a stopped part must stop answering, and a started one answer (outside observation). */
export const OBSERVE_DEFAULTS = { goneWithinMs: 3000, backWithinMs: 5000 } as const;

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
 * nothing can tell (a reload).
 */
export async function applyChaos(cluster: StartedCluster, action: ChaosAction, clock: () => number): Promise<ChaosRecord> {
  const startUs = clock();
  const target = targetOf(action);
  const done = (outcome: ChaosRecord['outcome'], detail?: string): ChaosRecord => ({ action: action.type, target, startUs, endUs: clock(), outcome, ...(detail === undefined ? {} : { detail }) });
  const node = 'node' in action ? cluster.nodes.find((n) => n.id === action.node) : undefined;
  if ('node' in action && !node) return done('fail', `no node ${action.node}`);
  const { goneWithinMs, backWithinMs } = OBSERVE_DEFAULTS;
  const lbHost = new URL(cluster.url).hostname;
  const portOf = (url: string, port: number) => ({ host: new URL(url).hostname, port });
  /** The node's port refuses connections (its process is gone): observed within goneWithinMs. */
  const nodeGone = async (what: string) => {
    const { host, port } = portOf(node!.url, node!.port);
    if (node!.running()) return done('fail', `${node!.id} still running after ${what}`);
    const ms = await observe(() => tcpConnect(host, port, 500), (r) => r === 'refused', goneWithinMs);
    return ms === null ? done('fail', `${node!.id} port ${port} still accepts connections ${goneWithinMs} ms after ${what}`) : done('ok', `observed: port ${port} refuses connections`);
  };
  const nodeBack = async () => {
    const ms = await observe(() => httpGet(`${node!.url}/health`, 1000).then(() => true, () => false), (ok) => ok, backWithinMs);
    return node!.running() && ms !== null ? done('ok', 'observed: /health answers') : done('fail', `${node!.id} /health did not answer within ${backWithinMs} ms of its start`);
  };
  try {
    switch (action.type) {
      case 'kill-node':
        await node!.kill();
        return await nodeGone('SIGKILL');
      case 'stop-node':
        await node!.stop();
        return await nodeGone('SIGTERM');
      case 'start-node':
        await node!.start();
        return await nodeBack();
      case 'restart-node':
        await node!.stop();
        await node!.start();
        return await nodeBack();
      case 'pause-node': {
        await node!.pause();
        const answered = await httpGet(`${node!.url}/health`, 1000).then(
          () => true,
          () => false,
        );
        return answered ? done('fail', `${node!.id} still answers /health after SIGSTOP`) : done('ok', 'observed: /health does not answer');
      }
      case 'resume-node': {
        await node!.resume();
        const res = await httpGet(`${node!.url}/health`, backWithinMs).catch(() => null);
        return res ? done('ok', 'observed: /health answers') : done('fail', `${node!.id} /health did not answer within ${backWithinMs} ms of SIGCONT`);
      }
      case 'stop-redis': {
        await cluster.redis.stop();
        const ms = await observe(() => redisPing(cluster.redis.url, 500), (ok) => !ok, goneWithinMs);
        return ms === null ? done('fail', `Redis still answers PING ${goneWithinMs} ms after it was stopped`) : done('ok', 'observed: PING fails');
      }
      case 'start-redis': {
        await cluster.redis.start();
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
        return done('unknown', 'SIGHUP sent; nginx does not confirm a reload');
    }
  } catch (e) {
    return done('fail', e instanceof Error ? e.message : String(e));
  }
}
