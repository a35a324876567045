/**
 * examples/seed-002 — a ws + Redis pub/sub server with seed 002's own message shapes — run through
 * the real bin with its own wsbench.config.ts. The server announces no node id and echoes room
 * messages to their sender; the split comes from NGINX's upstream header.
 */
import { describe, expect, it } from 'vitest';
import { runExample } from './support/examples.js';

describe('examples/seed-002 (through the bin)', () => {
  it('cross-node-broadcast: every delivery accounted (the sender’s echo included), same/cross split from NGINX', async () => {
    const r = await runExample('seed-002', 'cross-node-broadcast');
    const report = r.report!;
    expect(report, r.stderr).toBeDefined();
    expect(report.error, r.stderr).toBeUndefined();
    expect(report.topology.server).toBe('custom');
    const a = report.accounting;
    expect(a.expected).toBeGreaterThan(0);
    expect(a.received).toBe(a.expected);
    expect(a.lost).toBe(0);
    expect(a.duplicated).toBe(0);
    expect(a.reordered).toBe(0);
    expect(report.counters.connect_failures).toBe(0);
    expect(report.counters.unexpected_arrivals).toBe(0);
    // "Each instance delivers to local connections": every member of the room, the publisher too.
    expect(a.expected).toBe(report.counters.messages_published * (600 / 20));
    expect(Object.keys(report.connectionsPerNode).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    expect(a.sameNode.expected).toBeGreaterThan(0);
    expect(a.crossNode.expected).toBeGreaterThan(0);
    expect(a.sameNode.expected + a.crossNode.expected).toBe(a.expected);
    expect(a.crossNode.received).toBe(a.crossNode.expected);
    // The config's own target (seed 002: sub-100 ms cross-instance delivery) is judged.
    expect(report.targets.find((t) => t.id === 'cross-instance-latency')!.status).not.toBe('unknown');
    for (const id of ['no-loss', 'no-duplicates', 'in-order', 'no-leak']) expect(report.targets.find((t) => t.id === id)!.status, id).toBe('pass');
    expect(r.code, r.stderr).toBe(report.verdict === 'pass' ? 0 : 1);
  });
});
