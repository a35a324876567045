import type { StartedCluster } from './types.js';
import { httpGet } from './wait.js';

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

function targetOf(a: ChaosAction): string {
  return 'node' in a ? a.node : a.type.endsWith('redis') ? 'redis' : 'nginx';
}

/**
 * Applies one action and checks its effect: a killed or stopped node's process is gone, a started
 * one answers /health, a paused one does not answer within a second. The outcome says whether the
 * effect was verified (ok), the action failed (fail), or nothing could tell (unknown).
 */
export async function applyChaos(cluster: StartedCluster, action: ChaosAction, clock: () => number): Promise<ChaosRecord> {
  const startUs = clock();
  const target = targetOf(action);
  const done = (outcome: ChaosRecord['outcome'], detail?: string): ChaosRecord => ({ action: action.type, target, startUs, endUs: clock(), outcome, detail });
  const node = 'node' in action ? cluster.nodes.find((n) => n.id === action.node) : undefined;
  if ('node' in action && !node) return done('fail', `no node ${action.node}`);
  try {
    switch (action.type) {
      case 'kill-node':
        await node!.kill();
        return done(node!.running() ? 'fail' : 'ok');
      case 'stop-node':
        await node!.stop();
        return done(node!.running() ? 'fail' : 'ok');
      case 'start-node':
        await node!.start();
        return done(node!.running() ? 'ok' : 'fail');
      case 'restart-node':
        await node!.stop();
        await node!.start();
        return done(node!.running() ? 'ok' : 'fail');
      case 'pause-node': {
        await node!.pause();
        const answered = await httpGet(`${node!.url}/health`, 1000).then(
          () => true,
          () => false,
        );
        return done(answered ? 'fail' : 'ok');
      }
      case 'resume-node': {
        await node!.resume();
        const res = await httpGet(`${node!.url}/health`, 5000).catch(() => null);
        return done(res ? 'ok' : 'unknown');
      }
      case 'stop-redis':
        await cluster.redis.stop();
        return done('ok');
      case 'start-redis':
        await cluster.redis.start();
        return done('ok');
      case 'stop-lb':
        await cluster.lb.stop();
        return done('ok');
      case 'start-lb':
        await cluster.lb.start();
        return done('ok');
      case 'reload-lb':
        await cluster.lb.reload();
        return done('unknown', 'SIGHUP sent; nginx does not confirm a reload');
    }
  } catch (e) {
    return done('fail', e instanceof Error ? e.message : String(e));
  }
}
