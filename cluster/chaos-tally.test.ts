import { describe, expect, it } from 'vitest';
import { ChaosTally } from './chaos-tally.js';
import { evaluateTargets, verdictOf } from '../model/evaluate.js';
import { pickTargets } from '../model/targets.js';
import type { RunReport } from '../model/run-report.js';

const judged = (counters: Record<string, number>) => evaluateTargets({ counters } as unknown as RunReport, pickTargets(['chaos-applied']))[0];

describe('ChaosTally', () => {
  it('counts failed and unobserved actions apart and says each, with the hint of what would observe it', () => {
    const t = new ChaosTally();
    t.add({ action: 'stop-redis', target: 'redis', outcome: 'ok', detail: 'observed: PING fails' });
    t.add({ action: 'kill-node', target: 'node-2', outcome: 'fail', detail: 'node-2 port 4001 still accepts connections 3000 ms after SIGKILL' });
    t.add({ action: 'start-redis', target: 'redis', outcome: 'unknown', detail: 'the hook exited 0; nothing can observe Redis', hint: 'give the nodes\u2019 URLs with --node-urls' });
    t.add({ action: 'reload-lb', target: 'nginx', outcome: 'unknown' });
    expect(t.result()).toEqual({
      counters: { chaos_actions_failed: 1, chaos_actions_unobserved: 2 },
      notes: [
        'CHAOS NOT APPLIED: kill-node node-2: node-2 port 4001 still accepts connections 3000 ms after SIGKILL',
        'CHAOS NOT OBSERVED: start-redis redis: the hook exited 0; nothing can observe Redis — give the nodes\u2019 URLs with --node-urls',
        'CHAOS NOT OBSERVED: reload-lb nginx: unknown',
      ],
    });
    expect(new ChaosTally().result()).toEqual({ counters: { chaos_actions_failed: 0, chaos_actions_unobserved: 0 }, notes: [] });
  });
});

describe('chaos-applied judges both counters', () => {
  it('passes only when every action was observed to happen', () => {
    expect(judged({ chaos_actions_failed: 0, chaos_actions_unobserved: 0 })).toMatchObject({ status: 'pass', actual: 0 });
  });

  it('is unknown (and the verdict fails) when an action went unobserved and none failed', () => {
    const r = judged({ chaos_actions_failed: 0, chaos_actions_unobserved: 1 });
    expect(r).toMatchObject({ status: 'unknown', actual: null });
    expect(verdictOf([r])).toBe('fail');
  });

  it('fails when an action failed, whatever went unobserved', () => {
    expect(judged({ chaos_actions_failed: 2, chaos_actions_unobserved: 1 })).toMatchObject({ status: 'fail', actual: 2 });
    expect(judged({ chaos_actions_failed: 1, chaos_actions_unobserved: 0 })).toMatchObject({ status: 'fail', actual: 1 });
  });

  it('is unknown when the counter is missing (a chaos that never reported)', () => {
    expect(judged({})).toMatchObject({ status: 'unknown', actual: null });
  });
});
