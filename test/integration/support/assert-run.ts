import { expect } from 'vitest';
import type { RunReport } from '../../../model/run-report.js';

/** Connections landed on all three nodes, and the per-node counts sum to the total. */
export function expectSpreadOverThreeNodes(r: RunReport, total: number): void {
  const perNode = r.connectionsPerNode;
  expect(Object.keys(perNode).sort()).toEqual(['node-1', 'node-2', 'node-3']);
  for (const n of Object.values(perNode)) expect(n).toBeGreaterThan(0);
  expect(Object.values(perNode).reduce((a, b) => a + b, 0)).toBe(total);
}

/**
 * Every expected delivery arrived exactly once and in order, same-node and cross-node, and the
 * expectation is what the schedule implies: every published message × the members of its room.
 */
export function expectExactDelivery(r: RunReport, membersPerRoom: number): void {
  const a = r.accounting;
  expect(a.crossNode.received).toBeGreaterThan(0);
  expect(a.sameNode.received).toBeGreaterThan(0);
  expect(a.expected).toBeGreaterThan(0);
  expect(a.received).toBe(a.expected);
  expect(a.deliveryRatio).toBe(1);
  expect(a.lost).toBe(0);
  expect(a.duplicated).toBe(0);
  expect(a.reordered).toBe(0);
  expect(r.counters.unexpected_arrivals).toBe(0);
  expect(a.expected).toBe(r.counters.messages_published * membersPerRoom);
}
