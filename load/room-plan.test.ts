import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { joinFailureText, planRooms, type Assignment } from './room-plan.js';

function clients(perNode: number[]): Array<{ id: number; nodeId: string }> {
  const out: Array<{ id: number; nodeId: string }> = [];
  let id = 0;
  perNode.forEach((n, i) => {
    for (let k = 0; k < n; k++) out.push({ id: id++, nodeId: `node-${i + 1}` });
  });
  return out;
}

describe('planRooms', () => {
  it('gives every room members on every node, also when the room count is a multiple of the node count', () => {
    const c = clients([100, 100, 100]);
    const plan = planRooms(c, { rooms: 3, publishersPerRoom: 1 });
    const nodeOf = new Map(c.map((x) => [x.id, x.nodeId]));
    for (const room of ['room-1', 'room-2', 'room-3']) {
      const nodes = new Set(plan.filter((a) => a.room === room && a.role === 'member').map((a) => nodeOf.get(a.id)));
      expect(nodes.size).toBe(3);
    }
  });

  it('spreads the publishers over the workers (groups) even when each worker’s clients come in one block', () => {
    // As the connect results arrive: worker 0's clients first, then worker 1's.
    const c: Array<{ id: number; nodeId: string; group: number }> = [];
    for (const group of [0, 1]) for (let k = 0; k < 60; k++) c.push({ id: group * 60 + k, nodeId: `node-${(k % 3) + 1}`, group });
    const plan = planRooms(c, { rooms: 8, publishersPerRoom: 1 });
    const groupOf = new Map(c.map((x) => [x.id, x.group]));
    const pubGroups = plan.filter((a) => a.role === 'publisher').map((a) => groupOf.get(a.id)!);
    expect(pubGroups.filter((g) => g === 0).length).toBe(4);
    expect(pubGroups.filter((g) => g === 1).length).toBe(4);
    // Without groups every publisher lands in the first block.
    const flat = planRooms(c.map(({ id, nodeId }) => ({ id, nodeId })), { rooms: 8, publishersPerRoom: 1 });
    expect(flat.filter((a) => a.role === 'publisher').every((a) => groupOf.get(a.id) === 0)).toBe(true);
  });

  it('puts publishers of consecutive rooms on different nodes', () => {
    const c = clients([20, 20, 20]);
    const plan = planRooms(c, { rooms: 6, publishersPerRoom: 1 });
    const nodeOf = new Map(c.map((x) => [x.id, x.nodeId]));
    const pubNodes = plan.filter((a) => a.role === 'publisher').map((a) => nodeOf.get(a.id));
    expect(pubNodes).toEqual(['node-1', 'node-2', 'node-3', 'node-1', 'node-2', 'node-3']);
  });

  it('assigns every client exactly once, with rooms × publishersPerRoom publishers and even room sizes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        (perNode, rooms, ppr) => {
          const c = clients(perNode);
          fc.pre(c.length >= rooms * ppr);
          const plan = planRooms(c, { rooms, publishersPerRoom: ppr });
          expect(plan.map((a) => a.id).sort((a, b) => a - b)).toEqual(c.map((x) => x.id));
          expect(plan.filter((a) => a.role === 'publisher')).toHaveLength(rooms * ppr);
          const sizes = new Map<string, number>();
          for (const a of plan) if (a.role === 'member') sizes.set(a.room, (sizes.get(a.room) ?? 0) + 1);
          const v = [...sizes.values()];
          if (v.length === rooms) expect(Math.max(...v) - Math.min(...v)).toBeLessThanOrEqual(1);
          // With at least `rooms` members per node, every room has members on every node.
          const nodeOf = new Map(c.map((x) => [x.id, x.nodeId]));
          const taken = new Set(plan.filter((a) => a.role === 'publisher').map((a) => a.id));
          const membersPerNode = perNode.map((_, i) => c.filter((x) => x.nodeId === `node-${i + 1}` && !taken.has(x.id)).length);
          if (membersPerNode.every((m) => m >= rooms)) {
            for (let r = 1; r <= rooms; r++) {
              const nodes = new Set(plan.filter((a) => a.room === `room-${r}` && a.role === 'member').map((a) => nodeOf.get(a.id)));
              expect(nodes.size).toBe(perNode.length);
            }
          }
        },
      ),
    );
  });
});

describe('joinFailureText', () => {
  const plan: Assignment[] = [
    { id: 1, room: 'room-1', role: 'publisher' },
    { id: 2, room: 'room-1', role: 'member' },
    { id: 3, room: 'room-1', role: 'member' },
    { id: 4, room: 'room-2', role: 'publisher' },
    { id: 5, room: 'room-2', role: 'member' },
  ];
  it('counts only member joins when publishers do not join', () => {
    expect(joinFailureText([{ id: 2, room: 'room-1', error: 'refused: {"success":false}' }], plan, false)).toBe('1 of 3 room joins failed; first: refused: {"success":false} (room room-1)');
  });
  it('with publish.join the publishers’ joins count too, and the failed ones are named', () => {
    const failures = [
      { id: 1, room: 'room-1', error: 'refused: "Not in room"' },
      { id: 4, room: 'room-2', error: 'refused: "Not in room"' },
      { id: 5, room: 'room-2', error: 'refused: "Not in room"' },
    ];
    expect(joinFailureText(failures, plan, true)).toBe('3 of 5 room joins failed (2 of them publishers\'); first: refused: "Not in room" (room room-1)');
  });
});
