import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WsbenchError } from '../common/errors.js';
import { membersOfRoom, parseShard, planIdOf, publishStartUs, shardOptions, shardProblems, shareOf } from './shard-plan.js';
import { planRooms } from './room-plan.js';

describe('parseShard', () => {
  it('reads i/N, 1-based', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
  });
  it.each(['0/3', '4/3', '1/0', '1', 'a/b', '1/3/4', '-1/3'])('refuses %s in the user\'s terms', (v) => {
    expect(parseShard(v)).toMatch(/^--shard /);
  });
});

describe('shareOf: split by room', () => {
  const plan = fc.record({ rooms: fc.integer({ min: 1, max: 200 }), publishersPerRoom: fc.integer({ min: 1, max: 3 }), extra: fc.integer({ min: 0, max: 5000 }), count: fc.integer({ min: 1, max: 20 }) });

  it('every room in exactly one shard; connections and members sum to the un-sharded plan', () => {
    fc.assert(
      fc.property(plan, ({ rooms, publishersPerRoom, extra, count }) => {
        const o = { rooms, publishersPerRoom, connections: rooms * publishersPerRoom + extra };
        const shares = Array.from({ length: count }, (_, i) => shareOf(o, { index: i + 1, count }));
        const all = shares.flatMap((s) => s.rooms).sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: rooms }, (_, k) => k));
        expect(shares.reduce((a, s) => a + s.connections, 0)).toBe(o.connections);
        expect(shares.reduce((a, s) => a + s.members, 0)).toBe(extra);
        for (const s of shares) expect(s.connections).toBe(s.members + s.rooms.length * publishersPerRoom);
      }),
    );
  });

  it('deals members as evenly as the un-sharded run: the first M mod R rooms get one more', () => {
    expect([0, 1, 2, 3].map((k) => membersOfRoom(k, 10, 4))).toEqual([3, 3, 2, 2]);
    expect(shareOf({ connections: 300, rooms: 10, publishersPerRoom: 1 }, { index: 1, count: 3 })).toMatchObject({ rooms: [0, 3, 6, 9], roomNames: ['room-1', 'room-4', 'room-7', 'room-10'], connections: 120, members: 116 });
  });

  it("a shard's room plan uses the plan's room names", () => {
    const s = shareOf({ connections: 300, rooms: 10, publishersPerRoom: 1 }, { index: 2, count: 3 });
    const clients = Array.from({ length: s.connections }, (_, id) => ({ id, nodeId: `node-${(id % 3) + 1}` }));
    const a = planRooms(clients, { rooms: s.rooms.length, publishersPerRoom: 1, roomNames: s.roomNames });
    expect([...new Set(a.map((x) => x.room))].sort()).toEqual(['room-2', 'room-5', 'room-8']);
  });

  it('names plans it cannot split', () => {
    expect(shardProblems({ connections: 300, rooms: 2, publishersPerRoom: 1 }, { index: 1, count: 3 }, 3)[0]).toMatch(/2 rooms cannot be split 3 ways/);
    expect(shardProblems({ connections: 35, rooms: 10, publishersPerRoom: 1 }, { index: 1, count: 2 }, 3)[0]).toMatch(/fewer than one per room on each of 3 nodes/);
    expect(shardProblems({ connections: 300, rooms: 10, publishersPerRoom: 1 }, { index: 3, count: 3 }, 3)).toEqual([]);
  });
});

describe('planIdOf', () => {
  const base = { scenario: 'cross-node-broadcast', options: { connections: 300, rooms: 10 }, count: 3, engine: 'node', server: 'socketio', targets: [{ id: 'latency-p99', value: 50 }] };
  it('is the same for the same plan whatever the key order, and differs when the plan differs', () => {
    expect(planIdOf(base)).toBe(planIdOf({ ...base, options: { rooms: 10, connections: 300 } }));
    expect(planIdOf(base)).not.toBe(planIdOf({ ...base, count: 2 }));
    expect(planIdOf(base)).not.toBe(planIdOf({ ...base, options: { connections: 301, rooms: 10 } }));
    expect(planIdOf(base)).not.toBe(planIdOf({ ...base, targets: [{ id: 'latency-p99', value: 30 }] }));
    expect(planIdOf(base)).not.toBe(planIdOf({ ...base, startAt: '2026-12-07T00:00:00.000Z' }));
  });
});

describe('publishStartUs', () => {
  it('starts half a second from now without an agreed start, at the agreed wall-clock time with one', () => {
    expect(publishStartUs(undefined, 1_000_000, 5_000_000)).toBe(5_500_000);
    expect(publishStartUs(1_003_000, 1_000_000, 5_000_000)).toBe(8_000_000);
  });
  it('fails with WSB_SHARD_START_MISSED when the agreed start has passed', () => {
    let e: unknown;
    try {
      publishStartUs(999_000, 1_000_000, 5_000_000);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(WsbenchError);
    expect((e as WsbenchError).code).toBe('WSB_SHARD_START_MISSED');
    expect((e as WsbenchError).message).toContain('1000 ms ago');
  });
});

describe('shardOptions', () => {
  it("runs the share's connections and rooms, and its part of the plan's connect rate", () => {
    const o = { connections: 300, rooms: 10, connectRate: 500, rate: 8 };
    const parts = [1, 2, 3].map((index) => shardOptions(o, shareOf({ ...o, publishersPerRoom: 1 }, { index, count: 3 })));
    expect(parts.map((p) => [p.connections, p.rooms, p.connectRate])).toEqual([
      [120, 4, 200],
      [90, 3, 150],
      [90, 3, 150],
    ]);
    expect(parts.reduce((a, p) => a + p.connectRate, 0)).toBe(500);
    expect(parts.every((p) => p.rate === 8)).toBe(true);
  });
});
