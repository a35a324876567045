import { describe, expect, it } from 'vitest';
import { shareOf } from '../../load/shard-plan.js';
import { segmentConnections, shardPlan } from './engine.js';
import { K6_ADAPTERS } from './scenarios.js';
import { broadcastTimes, type BroadcastPlan } from './scripts/lib/plan.js';

const planFor = (o: Record<string, unknown>) => K6_ADAPTERS['cross-node-broadcast'].plan(o, { nodes: 3 }) as BroadcastPlan;

describe('k6 shard plans (execution segments dealt by room)', () => {
  it("a segment's connections are the Node engine's share of the same shard: whole rooms, k mod N", () => {
    for (const [connections, rooms, n] of [[200, 10, 2], [1240, 40, 3], [301, 7, 4]] as const) {
      const plan = planFor({ connections, rooms });
      shardPlan(plan, { ref: { index: 1, count: n } });
      const per = Array.from({ length: n }, (_, i) => segmentConnections(plan, i + 1));
      expect(per).toEqual(Array.from({ length: n }, (_, i) => shareOf({ connections, rooms, publishersPerRoom: 1 }, { index: i + 1, count: n }).connections));
      expect(per.reduce((a, b) => a + b, 0)).toBe(connections);
    }
  });

  it('makes the VU count a multiple of N, and with --start-at puts t0 a connect phase before the agreed start', () => {
    const plan = planFor({ connections: 200, rooms: 10 });
    const notes = shardPlan(plan, { ref: { index: 2, count: 3 }, startAtMs: Date.parse('2030-01-01T00:00:30Z') });
    expect(plan.segments).toBe(3);
    expect(plan.vus % 3).toBe(0);
    expect(plan.t0EpochMs! + broadcastTimes(plan).publishAt).toBe(Date.parse('2030-01-01T00:00:30Z'));
    expect(notes[0]).toContain('--execution-segment 1/3:2/3 of 0,1/3,2/3,1');
  });
});
